/* nRF5340-DK board support, application core: nRF5340 (nRF5340 Product Specification v1.x),
 * Cortex-M33 running in the Secure state after reset, so the *secure* peripheral addresses
 * (0x5xxxxxxx) are used. The core clock HFCLK128M comes up divided by 2 (64 MHz);
 * CLOCK.HFCLKCTRL = 0 (Div1) gives 128 MHz. HFCLKSRC = HFXO + TASKS_HFCLKSTART switches the
 * source to the 32 MHz crystal. Console: UARTE0 on P0.20 TX / P0.22 RX = the DK's VCOM0
 * (nRF5340 DK User Guide, "Virtual serial ports"), 115200 8N1.
 * The application core's instruction cache (CACHE.ENABLE) is enabled. */
#include "evo_board.h"
#include "hw/nrf_uarte.h"

#define CLOCK_BASE 0x50005000u                       /* CLOCK_S */
#define CLOCK_TASKS_HFCLKSTART HW_REG(CLOCK_BASE + 0x000u)
#define CLOCK_EVENTS_HFCLKSTARTED HW_REG(CLOCK_BASE + 0x100u)
#define CLOCK_HFCLKSRC HW_REG(CLOCK_BASE + 0x514u)   /* 0 = HFINT, 1 = HFXO */
#define CLOCK_HFCLKCTRL HW_REG(CLOCK_BASE + 0x558u)  /* HCLK: 0 = Div1 (128 MHz), 1 = Div2 (64 MHz, reset) */

#define CACHE_ENABLE HW_REG(0x50001000u + 0x500u)    /* CACHE_S */

#define P0_BASE 0x50842500u                          /* P0_S: GPIO registers start at 0x500 of the block */
#define P0_OUTSET HW_REG(P0_BASE + 0x008u)
#define P0_DIRSET HW_REG(P0_BASE + 0x018u)
#define P0_PIN_CNF(n) HW_REG(P0_BASE + 0x200u + 4u * (n))   /* MCUSEL = 0: pin owned by the app core */
#define PIN_CNF_OUTPUT 0x3u
#define PIN_CNF_INPUT_PULLUP (3u << 2)

#define TX_PIN 20u
#define RX_PIN 22u

void evo_board_init(void)
{
    uint32_t i;
    CLOCK_HFCLKCTRL = 0;   /* 128 MHz */
    CLOCK_HFCLKSRC = 1;
    CLOCK_EVENTS_HFCLKSTARTED = 0;
    CLOCK_TASKS_HFCLKSTART = 1;
    /* Bounded: if the crystal does not start, HFINT keeps the core running. */
    for (i = 0; i < 4000000u && !CLOCK_EVENTS_HFCLKSTARTED; ++i) {
    }
    CACHE_ENABLE = 1;

    P0_OUTSET = 1u << TX_PIN;
    P0_PIN_CNF(TX_PIN) = PIN_CNF_OUTPUT;
    P0_DIRSET = 1u << TX_PIN;
    P0_PIN_CNF(RX_PIN) = PIN_CNF_INPUT_PULLUP;
    nrf_uarte_init(NRF_PSEL_P0(TX_PIN), NRF_PSEL_P0(RX_PIN));
    hw_dwt_init();
}
