/* What the firmware harness needs from a board: start-up, a console, a cycle counter, exit. */
#ifndef EVO_BOARD_H
#define EVO_BOARD_H

#include <stdint.h>

/* Clocks, console and cycle counter; called first thing in main(). */
void evo_board_init(void);
/* Write a NUL-terminated string to the console (semihosting, UART or RTT). */
void evo_console_write(const char *s);
/* Free-running CPU cycle counter (DWT->CYCCNT); evo_cycles_available() is 0 where there is none. */
uint32_t evo_cycles(void);
int evo_cycles_available(void);
/* End the program with `code` (semihosting exit under QEMU; on hardware: report and halt). */
void evo_board_exit(int code) __attribute__((noreturn));

/* Highest stack use so far, in bytes (the start-up code paints the stack region). */
uint32_t evo_stack_used(void);

#endif
