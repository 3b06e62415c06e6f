/* Board support for QEMU machines: console and exit over semihosting, no cycle counter
 * (QEMU 7.2 does not model DWT; instructions are counted by EVO's QEMU plugin instead). */
#include "evo_board.h"
#include "semihost.h"

void evo_board_init(void) {}

void evo_console_write(const char *s) { evo_semihost_call(EVO_SYS_WRITE0, s); }

uint32_t evo_cycles(void) { return 0; }

int evo_cycles_available(void) { return 0; }

void evo_board_exit(int code)
{
    /* SYS_EXIT_EXTENDED carries the full exit code; plain SYS_EXIT can only say 0 or 1. */
    uint32_t block[2] = {EVO_ADP_APPLICATION_EXIT, (uint32_t)code};
    evo_semihost_call(EVO_SYS_EXIT_EXTENDED, block);
    for (;;) {
    }
}
