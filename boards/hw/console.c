/* Console and exit for every hardware board: evo_console_write() turns "\n" into "\r\n" (serial
 * terminals expect CR LF) and hands RAM chunks to the chip's UART driver; evo_board_exit()
 * reports the exit code on the console, since there is no debugger to receive it. */
#include "evo_board.h"
#include "hw/hw.h"

void evo_console_write(const char *s)
{
    /* A RAM bounce buffer: the strings come from flash, and nRF EasyDMA can only read RAM. */
    static uint8_t chunk[64];
    uint32_t k = 0;
    for (; *s; ++s) {
        if (*s == '\n') {
            chunk[k++] = '\r';
        }
        chunk[k++] = (uint8_t)*s;
        if (k >= sizeof(chunk) - 1) {
            hw_uart_write(chunk, k);
            k = 0;
        }
    }
    if (k) {
        hw_uart_write(chunk, k);
    }
}

void evo_board_exit(int code)
{
    char num[12];
    int k = 11;
    uint32_t v = code < 0 ? 0u - (uint32_t)code : (uint32_t)code;
    num[k] = 0;
    do {
        num[--k] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    if (code < 0) {
        num[--k] = '-';
    }
    evo_console_write("EVO-EXIT ");
    evo_console_write(&num[k]);
    evo_console_write("\n");
    hw_uart_flush();
    /* Spin rather than WFI (sleep can drop the debug connection on STM32 unless DBGMCU is set)
     * or BKPT (without a debugger attached it escalates to HardFault). The host reads EVO-EXIT. */
    for (;;) {
        __asm__ volatile("" ::: "memory");
    }
}
