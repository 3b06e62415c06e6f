/* Shared by the hardware board-support files in boards/hw/: a register accessor and the few
 * hooks the chip files provide to the shared console, exit and cycle-counter code.
 * No vendor HAL or CMSIS header: every register used is defined where it is used, named as in
 * the chip's reference manual so it can be checked against it. */
#ifndef EVO_HW_H
#define EVO_HW_H

#include <stdint.h>

#define HW_REG(addr) (*(volatile uint32_t *)(uintptr_t)(addr))

/* Provided by the UART driver of the chip (uart_stm32.c or nrf_uarte.c). `buf` is in RAM
 * (the nRF UARTE reads it by EasyDMA, which cannot read flash). Blocking. */
void hw_uart_write(const uint8_t *buf, uint32_t n);
/* Wait until the last byte has left the shift register (so nothing is lost at exit). */
void hw_uart_flush(void);

/* dwt.c: start the Cortex-M3/M4/M7/M33 cycle counter. */
void hw_dwt_init(void);

/* Busy-wait for at least `n` loop iterations (clock set-up delays that are specified in µs). */
static inline void hw_spin(uint32_t n)
{
    while (n--) {
        __asm__ volatile("nop");
    }
}

#endif
