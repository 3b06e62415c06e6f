/* NUCLEO-L4R5ZI board support: STM32L4R5ZI (RM0432, STM32L4+) at 120 MHz, console on LPUART1
 * (PG7 TX, PG8 RX, AF8) = the ST-LINK virtual COM port on this Nucleo-144 (UM2179 "Virtual
 * COM port"; ST's and Zephyr's board support use LPUART1 too), 115200 8N1.
 *
 * Clock tree (RM0432 RCC, "Clocks"): HSI16 -> PLL. Not HSE: the Nucleo-144's HSE depends on solder
 * bridges to the ST-LINK MCO, while HSI16 is always there (factory-trimmed, +-1 % at 25 C,
 * good enough for 115200 baud).
 *   PLL input 16 MHz / M 2 = 8 MHz (2.66..16), VCO x N 30 = 240 MHz (64..344),
 *   PLLCLK = VCO / R 2 = 120 MHz = SYSCLK = HCLK = PCLK1 = PCLK2 (max 120 on L4+).
 * 120 MHz needs Range 1 *boost* mode (PWR_CR5.R1MODE = 0, RM0432 PWR, "Dynamic voltage scaling
 * management") and 5 flash wait states (RM0432 FLASH, "Number of wait states according to CPU clock (HCLK)
 * frequency", Range 1 boost: 100 < HCLK <= 120 MHz).
 * LPUART1 runs from HSI16 (RCC_CCIPR.LPUART1SEL = 10) so its baud rate does not depend on the
 * system clock. PG2..PG15 are powered by VDDIO2: PWR_CR2.IOSV must be set before PG7/PG8 work
 * (RM0432 PWR, "Independent I/O supply rail"). */
#include "evo_board.h"
#include "hw/stm32_common.h"

#define RCC_BASE 0x40021000u
#define RCC_CR HW_REG(RCC_BASE + 0x00u)
#define RCC_CR_HSION (1u << 8)
#define RCC_CR_HSIRDY (1u << 10)
#define RCC_CR_PLLON (1u << 24)
#define RCC_CR_PLLRDY (1u << 25)
#define RCC_CFGR HW_REG(RCC_BASE + 0x08u)      /* SW[1:0] SWS[3:2] HPRE[7:4] PPRE1[10:8] PPRE2[13:11] */
#define RCC_CFGR_HPRE_DIV2 (8u << 4)
#define RCC_PLLCFGR HW_REG(RCC_BASE + 0x0Cu)   /* PLLSRC[1:0] PLLM[7:4] PLLN[14:8] PLLREN[24] PLLR[26:25] */
#define RCC_AHB2ENR HW_REG(RCC_BASE + 0x4Cu)
#define RCC_AHB2ENR_GPIOGEN (1u << 6)
#define RCC_APB1ENR1 HW_REG(RCC_BASE + 0x58u)
#define RCC_APB1ENR1_PWREN (1u << 28)
#define RCC_APB1ENR2 HW_REG(RCC_BASE + 0x5Cu)
#define RCC_APB1ENR2_LPUART1EN (1u << 0)
#define RCC_CCIPR HW_REG(RCC_BASE + 0x88u)     /* LPUART1SEL[11:10]: 10 = HSI16 */

#define PWR_BASE 0x40007000u
#define PWR_CR1 HW_REG(PWR_BASE + 0x00u)       /* VOS[10:9]: 01 = Range 1 */
#define PWR_CR2 HW_REG(PWR_BASE + 0x04u)
#define PWR_CR2_IOSV (1u << 9)                 /* VDDIO2 valid: un-isolates PG2..PG15 */
#define PWR_SR2 HW_REG(PWR_BASE + 0x14u)
#define PWR_SR2_VOSF (1u << 10)                /* regulator still changing voltage */
#define PWR_CR5 HW_REG(PWR_BASE + 0x80u)
#define PWR_CR5_R1MODE (1u << 8)               /* 1 = Range 1 normal (80 MHz), 0 = boost (120 MHz) */

#define FLASH_ACR HW_REG(0x40022000u)          /* LATENCY[3:0] PRFTEN[8] ICEN[9] DCEN[10] */
#define FLASH_ACR_5WS 5u
#define FLASH_ACR_CACHES ((1u << 8) | (1u << 9) | (1u << 10))

#define GPIOG_BASE 0x48001800u
#define LPUART1_BASE 0x40008000u
#define LPUART1_CR1 HW_REG(LPUART1_BASE + 0x00u)
#define LPUART1_BRR HW_REG(LPUART1_BASE + 0x0Cu)
#define USART_CR1_UE (1u << 0)

static void clock_120mhz(void)
{
    RCC_APB1ENR1 |= RCC_APB1ENR1_PWREN;
    (void)RCC_APB1ENR1;

    RCC_CR |= RCC_CR_HSION;
    while (!(RCC_CR & RCC_CR_HSIRDY)) {
    }

    /* Range 1 (the reset value, written to be sure), then RM0432 "Range 1 normal mode to Range 1
     * boost mode": 1. divide the system clock by 2 with the AHB prescaler, 2. clear
     * R1MODE, 3. set the flash wait states, 4. switch to the new clock, 5. after >= 1 µs set
     * the AHB prescaler back to 1. */
    PWR_CR1 = (PWR_CR1 & ~(3u << 9)) | (1u << 9);
    while (PWR_SR2 & PWR_SR2_VOSF) {
    }
    RCC_CFGR = (RCC_CFGR & ~(0xFu << 4)) | RCC_CFGR_HPRE_DIV2;
    PWR_CR5 &= ~PWR_CR5_R1MODE;
    while (PWR_SR2 & PWR_SR2_VOSF) {
    }
    FLASH_ACR = FLASH_ACR_5WS | FLASH_ACR_CACHES;
    while ((FLASH_ACR & 0xFu) != FLASH_ACR_5WS) {
    }

    /* PLLSRC = 10 (HSI16), PLLM field 1 (= /2), PLLN 30, PLLR field 00 (= /2), PLLREN. */
    RCC_PLLCFGR = 2u | (1u << 4) | (30u << 8) | (0u << 25) | (1u << 24);
    RCC_CR |= RCC_CR_PLLON;
    while (!(RCC_CR & RCC_CR_PLLRDY)) {
    }
    RCC_CFGR = (RCC_CFGR & ~(0x3Fu << 8));           /* APB1 /1, APB2 /1 */
    RCC_CFGR = (RCC_CFGR & ~3u) | 3u;                /* SW = 11: PLL */
    while (((RCC_CFGR >> 2) & 3u) != 3u) {
    }
    hw_spin(200u);                                   /* >= 1 µs at 60 MHz HCLK */
    RCC_CFGR &= ~(0xFu << 4);                        /* AHB /1: HCLK = 120 MHz */
}

static void lpuart1_init(void)
{
    PWR_CR2 |= PWR_CR2_IOSV;
    RCC_AHB2ENR |= RCC_AHB2ENR_GPIOGEN;
    RCC_APB1ENR2 |= RCC_APB1ENR2_LPUART1EN;
    RCC_CCIPR = (RCC_CCIPR & ~(3u << 10)) | (2u << 10);
    (void)RCC_APB1ENR2;
    stm32_pin_af(GPIOG_BASE, 7, 8);   /* PG7 = LPUART1_TX, AF8 (STM32L4R5 datasheet, "Alternate function" table) */
    stm32_pin_af(GPIOG_BASE, 8, 8);   /* PG8 = LPUART1_RX, AF8 */
    /* LPUART: BRR = 256 * f_ck / baud (RM0432 LPUART, "LPUART baud rate generation") = 35556: 115198 baud from 16 MHz. */
    LPUART1_BRR = (256u * 16000000u + 115200u / 2u) / 115200u;
    LPUART1_CR1 = USART_CR1_UE | USART_CR1_TE | USART_CR1_RE;
}

void evo_board_init(void)
{
    clock_120mhz();
    lpuart1_init();
    hw_dwt_init();
}
