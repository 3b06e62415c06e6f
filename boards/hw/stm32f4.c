/* NUCLEO-F446RE board support: STM32F446RE (RM0390) at 180 MHz, console on USART2 (PA2 TX,
 * PA3 RX, AF7) = the ST-LINK virtual COM port (UM1724 "USART virtual communication": SB13/SB14 closed by default), 115200 8N1.
 *
 * Clock tree (RM0390 RCC, "Clocks"): HSE in bypass mode from the ST-LINK's 8 MHz MCO (UM1724
 * "OSC clock", MCO from ST-LINK: fitted on MB1136 rev C and later), or HSI 16 MHz if HSE does not come up.
 *   PLL input 2 MHz (M = 4 from HSE, 8 from HSI; RM0390 recommends 2 MHz to limit jitter)
 *   VCO = 2 MHz x N 180 = 360 MHz (100..432), SYSCLK = VCO / P 2 = 180 MHz
 *   AHB /1 = 180 MHz, APB1 /4 = 45 MHz (max 45), APB2 /2 = 90 MHz (max 90)
 * 180 MHz needs voltage scale 1 plus Over-drive (RM0390 PWR, "Entering Over-drive mode") and 5 flash
 * wait states (RM0390 Embedded Flash, "Number of wait states according to CPU clock": 150 < HCLK <= 180 MHz at 2.7-3.6 V). */
#include "evo_board.h"
#include "hw/stm32_common.h"

#define RCC_BASE 0x40023800u
#define RCC_CR HW_REG(RCC_BASE + 0x00u)
#define RCC_CR_HSION (1u << 0)
#define RCC_CR_HSIRDY (1u << 1)
#define RCC_CR_HSEON (1u << 16)
#define RCC_CR_HSERDY (1u << 17)
#define RCC_CR_HSEBYP (1u << 18)
#define RCC_CR_PLLON (1u << 24)
#define RCC_CR_PLLRDY (1u << 25)
#define RCC_PLLCFGR HW_REG(RCC_BASE + 0x04u)   /* PLLM[5:0] PLLN[14:6] PLLP[17:16] PLLSRC[22] PLLQ[27:24] PLLR[30:28] */
#define RCC_CFGR HW_REG(RCC_BASE + 0x08u)      /* SW[1:0] SWS[3:2] HPRE[7:4] PPRE1[12:10] PPRE2[15:13] */
#define RCC_AHB1ENR HW_REG(RCC_BASE + 0x30u)
#define RCC_AHB1ENR_GPIOAEN (1u << 0)
#define RCC_APB1ENR HW_REG(RCC_BASE + 0x40u)
#define RCC_APB1ENR_USART2EN (1u << 17)
#define RCC_APB1ENR_PWREN (1u << 28)

#define PWR_CR HW_REG(0x40007000u)
#define PWR_CR_VOS_SCALE1 (3u << 14)
#define PWR_CR_ODEN (1u << 16)
#define PWR_CR_ODSWEN (1u << 17)
#define PWR_CSR HW_REG(0x40007004u)
#define PWR_CSR_ODRDY (1u << 16)
#define PWR_CSR_ODSWRDY (1u << 17)

#define FLASH_ACR HW_REG(0x40023C00u)   /* LATENCY[3:0] PRFTEN[8] ICEN[9] DCEN[10] */
#define FLASH_ACR_5WS 5u
#define FLASH_ACR_CACHES ((1u << 8) | (1u << 9) | (1u << 10))

#define GPIOA_BASE 0x40020000u
#define USART2_BASE 0x40004400u
#define USART2_BRR HW_REG(USART2_BASE + 0x08u)
#define USART2_CR1 HW_REG(USART2_BASE + 0x0Cu)
#define USART_CR1_UE_F4 (1u << 13)

#define PCLK1_HZ 45000000u

/* HSE bypass: the ST-LINK drives PH0 with a clock, so no crystal start-up; give it ~100 ms
 * (the HAL's HSE_STARTUP_TIMEOUT) at 16 MHz, then fall back to HSI (boards with SB16/SB50 open). */
static int hse_bypass_start(void)
{
    uint32_t i;
    RCC_CR |= RCC_CR_HSEBYP;   /* HSEBYP may only change while HSEON = 0 */
    RCC_CR |= RCC_CR_HSEON;
    for (i = 0; i < 400000u; ++i) {
        if (RCC_CR & RCC_CR_HSERDY) {
            return 1;
        }
    }
    RCC_CR &= ~RCC_CR_HSEON;
    RCC_CR &= ~RCC_CR_HSEBYP;
    return 0;
}

static void clock_180mhz(void)
{
    uint32_t pllm;
    /* PWR must be clocked to touch PWR_CR; VOS may only change while the PLL is off. */
    RCC_APB1ENR |= RCC_APB1ENR_PWREN;
    (void)RCC_APB1ENR;
    PWR_CR |= PWR_CR_VOS_SCALE1;

    if (hse_bypass_start()) {
        pllm = 4u;
        RCC_PLLCFGR = (1u << 22) | pllm | (180u << 6) | (0u << 16) | (8u << 24) | (2u << 28);
    } else {
        RCC_CR |= RCC_CR_HSION;
        while (!(RCC_CR & RCC_CR_HSIRDY)) {
        }
        pllm = 8u;
        RCC_PLLCFGR = (0u << 22) | pllm | (180u << 6) | (0u << 16) | (8u << 24) | (2u << 28);
    }
    /* PLLP field 00 = /2; PLLQ 8 (45 MHz, unused); PLLR 2 (unused). */
    RCC_CR |= RCC_CR_PLLON;
    while (!(RCC_CR & RCC_CR_PLLRDY)) {
    }

    /* RM0390 "Entering Over-drive mode": ODEN, wait ODRDY, then ODSWEN, wait ODSWRDY. */
    PWR_CR |= PWR_CR_ODEN;
    while (!(PWR_CSR & PWR_CSR_ODRDY)) {
    }
    PWR_CR |= PWR_CR_ODSWEN;
    while (!(PWR_CSR & PWR_CSR_ODSWRDY)) {
    }

    /* More wait states before the faster clock, never after (RM0390 "Increasing the CPU frequency"); read back to be sure. */
    FLASH_ACR = FLASH_ACR_5WS | FLASH_ACR_CACHES;
    while ((FLASH_ACR & 0xFu) != FLASH_ACR_5WS) {
    }

    /* AHB /1, APB1 /4 (101), APB2 /2 (100), then switch SYSCLK to the PLL (SW = 10). */
    RCC_CFGR = (RCC_CFGR & ~0xFCF0u) | (5u << 10) | (4u << 13);
    RCC_CFGR = (RCC_CFGR & ~3u) | 2u;
    while (((RCC_CFGR >> 2) & 3u) != 2u) {
    }
}

static void usart2_init(void)
{
    RCC_AHB1ENR |= RCC_AHB1ENR_GPIOAEN;
    RCC_APB1ENR |= RCC_APB1ENR_USART2EN;
    (void)RCC_APB1ENR;   /* read back: a few cycles before the first peripheral access after enabling its clock */
    stm32_pin_af(GPIOA_BASE, 2, 7);   /* PA2 = USART2_TX, AF7 (STM32F446 datasheet, "Alternate function" table) */
    stm32_pin_af(GPIOA_BASE, 3, 7);   /* PA3 = USART2_RX, AF7 */
    USART2_BRR = STM32_BRR16(PCLK1_HZ, 115200u);   /* 391 = 24 + 7/16: 115089 baud, -0.1 % */
    USART2_CR1 = USART_CR1_UE_F4 | USART_CR1_TE | USART_CR1_RE;   /* 8N1 is the reset state */
}

void evo_board_init(void)
{
    clock_180mhz();
    usart2_init();
    hw_dwt_init();
}
