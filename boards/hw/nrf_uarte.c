/* Blocking transmit on a Nordic UARTE (nRF52840 PS / nRF5340 PS "UARTE - Universal asynchronous
 * receiver/transmitter with EasyDMA"); the register layout is the same on both chips, only the
 * base address differs (board TOML: EVO_UARTE_BASE). The pins are muxed by nrf52.c / nrf53.c. */
#include "hw/nrf_uarte.h"

#if !defined(EVO_UARTE_BASE)
#error "the board TOML must define EVO_UARTE_BASE"
#endif

#define UARTE_TASKS_STARTTX HW_REG(EVO_UARTE_BASE + 0x008u)
#define UARTE_EVENTS_ENDTX HW_REG(EVO_UARTE_BASE + 0x120u)   /* last TX byte transmitted */
#define UARTE_ENABLE HW_REG(EVO_UARTE_BASE + 0x500u)        /* 8 = UARTE enabled */
#define UARTE_PSEL_RTS HW_REG(EVO_UARTE_BASE + 0x508u)
#define UARTE_PSEL_TXD HW_REG(EVO_UARTE_BASE + 0x50Cu)
#define UARTE_PSEL_CTS HW_REG(EVO_UARTE_BASE + 0x510u)
#define UARTE_PSEL_RXD HW_REG(EVO_UARTE_BASE + 0x514u)
#define UARTE_BAUDRATE HW_REG(EVO_UARTE_BASE + 0x524u)
#define UARTE_BAUD_115200 0x01D7E000u                        /* PS BAUDRATE table (actual 115108 baud) */
#define UARTE_TXD_PTR HW_REG(EVO_UARTE_BASE + 0x544u)
#define UARTE_TXD_MAXCNT HW_REG(EVO_UARTE_BASE + 0x548u)
#define UARTE_CONFIG HW_REG(EVO_UARTE_BASE + 0x56Cu)         /* 0 = no parity, one stop bit, no flow control */
#define PSEL_DISCONNECTED 0xFFFFFFFFu

void nrf_uarte_init(uint32_t tx_psel, uint32_t rx_psel)
{
    UARTE_ENABLE = 0;
    UARTE_PSEL_TXD = tx_psel;
    UARTE_PSEL_RXD = rx_psel;
    UARTE_PSEL_RTS = PSEL_DISCONNECTED;   /* the DKs' VCOM can do RTS/CTS; 115200 does not need it */
    UARTE_PSEL_CTS = PSEL_DISCONNECTED;
    UARTE_BAUDRATE = UARTE_BAUD_115200;
    UARTE_CONFIG = 0;
    UARTE_ENABLE = 8;
}

void hw_uart_write(const uint8_t *buf, uint32_t n)
{
    if (!n) {
        return;
    }
    /* EasyDMA reads `buf` directly: it must be in RAM (console.c's chunk buffer is). */
    UARTE_EVENTS_ENDTX = 0;
    UARTE_TXD_PTR = (uint32_t)(uintptr_t)buf;
    UARTE_TXD_MAXCNT = n;
    UARTE_TASKS_STARTTX = 1;
    while (!UARTE_EVENTS_ENDTX) {
    }
}

/* hw_uart_write() already waited for ENDTX of the last transfer. */
void hw_uart_flush(void) {}
