/* Blocking transmit on an STM32 U(S)ART or LPUART, polled (no interrupts: the vector table in
 * common/startup.c has only the 16 system exceptions). The chip file (stm32f4.c, stm32l4.c,
 * stm32h7.c) clocks the peripheral, sets the pins and the baud rate; the board TOML says where
 * the registers are, because the two STM32 UART generations lay them out differently:
 *   EVO_UART_BASE   peripheral base address
 *   EVO_UART_SR     status register offset: USART_SR = 0x00 (F4, RM0390 "USART register map"), USART_ISR = 0x1C
 *                   (L4 RM0432 / H7 RM0455, also LPUART)
 *   EVO_UART_TDR    transmit data offset:   USART_DR = 0x04 (F4), USART_TDR = 0x28 (L4/H7)
 * TXE (bit 7; TXFNF on the H7 FIFO UART) and TC (bit 6) sit at the same place in both. */
#include "hw/hw.h"

#if !defined(EVO_UART_BASE) || !defined(EVO_UART_SR) || !defined(EVO_UART_TDR)
#error "the board TOML must define EVO_UART_BASE, EVO_UART_SR and EVO_UART_TDR"
#endif

#define UART_SR HW_REG(EVO_UART_BASE + EVO_UART_SR)
#define UART_TDR HW_REG(EVO_UART_BASE + EVO_UART_TDR)
#define UART_SR_TXE (1u << 7)   /* transmit data register empty */
#define UART_SR_TC (1u << 6)    /* transmission complete */

void hw_uart_write(const uint8_t *buf, uint32_t n)
{
    while (n--) {
        while (!(UART_SR & UART_SR_TXE)) {
        }
        UART_TDR = *buf++;
    }
}

void hw_uart_flush(void)
{
    while (!(UART_SR & UART_SR_TC)) {
    }
}
