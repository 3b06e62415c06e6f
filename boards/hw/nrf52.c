/* nRF52840-DK board support: nRF52840 (nRF52840 Product Specification v1.x). The Cortex-M4F
 * always runs at 64 MHz; what init chooses is the source of HFCLK: the 32 MHz crystal (HFXO),
 * started with TASKS_HFCLKSTART, is +-40 ppm instead of HFINT's +-1.5 %, which the UART baud
 * rate and any time derived from cycles want. Console: UARTE0 on P0.06 TX / P0.08 RX = the
 * J-Link OB virtual COM port (nRF52840 DK User Guide, "Virtual COM port"), 115200 8N1.
 * The NVMC instruction cache is enabled (flash has wait states at 64 MHz). */
#include "evo_board.h"
#include "hw/nrf_uarte.h"

#define CLOCK_BASE 0x40000000u
#define CLOCK_TASKS_HFCLKSTART HW_REG(CLOCK_BASE + 0x000u)
#define CLOCK_EVENTS_HFCLKSTARTED HW_REG(CLOCK_BASE + 0x100u)

#define NVMC_ICACHECNF HW_REG(0x4001E540u)   /* CACHEEN[0] */

#define P0_BASE 0x50000000u
#define P0_OUTSET HW_REG(P0_BASE + 0x508u)
#define P0_DIRSET HW_REG(P0_BASE + 0x518u)
#define P0_PIN_CNF(n) HW_REG(P0_BASE + 0x700u + 4u * (n))
#define PIN_CNF_OUTPUT 0x3u                   /* DIR = output, INPUT = disconnect */
#define PIN_CNF_INPUT_PULLUP (3u << 2)        /* DIR = input, INPUT = connect, PULL = pull-up */

#define TX_PIN 6u
#define RX_PIN 8u

void evo_board_init(void)
{
    uint32_t i;
    CLOCK_EVENTS_HFCLKSTARTED = 0;
    CLOCK_TASKS_HFCLKSTART = 1;
    /* HFXO starts in ~0.36 ms (PS "HFXO" electrical spec); give up after a generous bound and
     * stay on HFINT rather than hang a board with a missing crystal. */
    for (i = 0; i < 2000000u && !CLOCK_EVENTS_HFCLKSTARTED; ++i) {
    }
    NVMC_ICACHECNF |= 1u;

    /* PS UARTE "Pin configuration": TXD must idle high as an output before the UARTE starts. */
    P0_OUTSET = 1u << TX_PIN;
    P0_PIN_CNF(TX_PIN) = PIN_CNF_OUTPUT;
    P0_DIRSET = 1u << TX_PIN;
    P0_PIN_CNF(RX_PIN) = PIN_CNF_INPUT_PULLUP;
    nrf_uarte_init(NRF_PSEL_P0(TX_PIN), NRF_PSEL_P0(RX_PIN));
    hw_dwt_init();
}
