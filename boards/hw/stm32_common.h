/* What the STM32 chip files share: GPIO pin muxing (the GPIO block is the same on F4, L4 and
 * H7: "GPIO registers" in RM0390, RM0432 and RM0455) and the USART/LPUART control bits they set. */
#ifndef EVO_STM32_COMMON_H
#define EVO_STM32_COMMON_H

#include "hw/hw.h"

#define GPIO_MODER(p) HW_REG((p) + 0x00u)   /* 2 bits per pin: 10 = alternate function */
#define GPIO_OSPEEDR(p) HW_REG((p) + 0x08u)
#define GPIO_PUPDR(p) HW_REG((p) + 0x0Cu)   /* 2 bits per pin: 01 = pull-up */
#define GPIO_AFR(p, pin) HW_REG((p) + 0x20u + 4u * ((pin) >> 3))   /* AFRL / AFRH */

/* Give `pin` of the GPIO port at `port` to alternate function `af` (a UART TX or RX line),
 * medium speed, with a pull-up so an unconnected RX line idles high (no framing noise). */
static inline void stm32_pin_af(uint32_t port, uint32_t pin, uint32_t af)
{
    GPIO_AFR(port, pin) = (GPIO_AFR(port, pin) & ~(0xFu << (4u * (pin & 7u)))) | (af << (4u * (pin & 7u)));
    GPIO_OSPEEDR(port) = (GPIO_OSPEEDR(port) & ~(3u << (2u * pin))) | (1u << (2u * pin));
    GPIO_PUPDR(port) = (GPIO_PUPDR(port) & ~(3u << (2u * pin))) | (1u << (2u * pin));
    GPIO_MODER(port) = (GPIO_MODER(port) & ~(3u << (2u * pin))) | (2u << (2u * pin));
}

/* USART_CR1 / LPUART_CR1 on L4 and H7 (RM0432 / RM0455 "USART control register 1"): UE is bit 0.
 * On F4 (RM0390 "Control register 1 (USART_CR1)") UE is bit 13. TE (bit 3) and RE (bit 2) agree. */
#define USART_CR1_TE (1u << 3)
#define USART_CR1_RE (1u << 2)

/* Round-to-nearest divider for a UART with 16x oversampling (USARTDIV = f_ck / baud). */
#define STM32_BRR16(f_ck, baud) (((f_ck) + (baud) / 2u) / (baud))

#endif
