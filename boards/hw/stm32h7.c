/* NUCLEO-H7A3ZI-Q board support: STM32H7A3ZI-Q (RM0455) at 280 MHz, console on USART3 (PD8 TX,
 * PD9 RX, AF7) = the ST-LINK virtual COM port (UM2408 "Virtual COM port"; ST's BSP COM1), 115200 8N1.
 *
 * Power (RM0455 PWR, "Power supply configurations"): the -Q part on this board is wired for
 * the direct SMPS supply. PWR_CR3 can be written once after power-on; the reset state
 * (SMPSEN and LDOEN both set) lets the core run but refuses voltage-scale changes until one
 * supply is selected. Selecting the LDO on this board removes the core supply, so: clear
 * LDOEN only, as ST's system_stm32h7xx.c does under USE_PWR_DIRECT_SMPS_SUPPLY.
 * Voltage scaling: VOS0 (PWR_SRDCR.VOS = 11 on this part, *not* the H743 encoding); VOS0 is
 * reached through VOS1 (HAL: "Transition to Voltage Scale 0 is only possible when the system
 * is already in Voltage Scale 1").
 * Clock tree (RM0455 RCC): HSI 64 MHz (reset source, no solder bridges involved) / DIVM1 32 =
 * 2 MHz (PLL1RGE 2..4 MHz, wide VCO), x DIVN1 280 = 560 MHz, / DIVP1 2 = 280 MHz = sys_ck =
 * CPU = HCLK (both max 280 on H7A3); APB1..4 / 2 = 140 MHz (max 140). The same ratios as ST's
 * NUCLEO-H7A3ZI-Q examples (which start from HSE 8 MHz / 4). Flash: 6 wait states at 280 MHz
 * in VOS0 (RM0455 FLASH, "read access latency" table; ST's examples use FLASH_LATENCY_6).
 * Caches: the M7 L1 I- and D-caches are enabled (no DMA here, so no coherency concern);
 * without them every flash/AXI access pays wait states and cycle counts are meaningless. */
#include "evo_board.h"
#include "hw/stm32_common.h"

#define RCC_BASE 0x58024400u
#define RCC_CR HW_REG(RCC_BASE + 0x000u)
#define RCC_CR_PLL1ON (1u << 24)
#define RCC_CR_PLL1RDY (1u << 25)
#define RCC_CFGR HW_REG(RCC_BASE + 0x010u)      /* SW[2:0] SWS[5:3]: 011 = PLL1 */
#define RCC_CDCFGR1 HW_REG(RCC_BASE + 0x018u)   /* HPRE[3:0] CDPPRE[6:4] CDCPRE[11:8] */
#define RCC_CDCFGR2 HW_REG(RCC_BASE + 0x01Cu)   /* CDPPRE1[6:4] CDPPRE2[10:8] */
#define RCC_SRDCFGR HW_REG(RCC_BASE + 0x020u)   /* SRDPPRE[6:4] */
#define RCC_PLLCKSELR HW_REG(RCC_BASE + 0x028u) /* PLLSRC[1:0] (00 = HSI) DIVM1[9:4] (value itself) */
#define RCC_PLLCFGR HW_REG(RCC_BASE + 0x02Cu)   /* PLL1FRACEN[0] PLL1VCOSEL[1] PLL1RGE[3:2] DIVP1EN[16] */
#define RCC_PLL1DIVR HW_REG(RCC_BASE + 0x030u)  /* DIVN1[8:0] DIVP1[15:9] DIVQ1[22:16] DIVR1[30:24], value - 1 */
/* Enable registers: H7A3 offsets, not the H743 ones (0x0E0/0x0E8): RCC_TypeDef on this part
 * has a 31-word gap after CKGAENR (0x0B0), so RSR is at 0x130 and AHB4ENR at 0x140. */
#define RCC_AHB4ENR HW_REG(RCC_BASE + 0x140u)
#define RCC_AHB4ENR_GPIODEN (1u << 3)
#define RCC_APB1LENR HW_REG(RCC_BASE + 0x148u)
#define RCC_APB1LENR_USART3EN (1u << 18)

#define PWR_BASE 0x58024800u
#define PWR_CSR1 HW_REG(PWR_BASE + 0x004u)
#define PWR_CSR1_ACTVOSRDY (1u << 13)
#define PWR_CR3 HW_REG(PWR_BASE + 0x00Cu)
#define PWR_CR3_BYPASS (1u << 0)
#define PWR_CR3_LDOEN (1u << 1)
#define PWR_SRDCR HW_REG(PWR_BASE + 0x018u)     /* VOS[15:14]: 00 = VOS3 ... 10 = VOS1, 11 = VOS0 */
#define PWR_SRDCR_VOSRDY (1u << 13)

#define FLASH_ACR HW_REG(0x52002000u)           /* LATENCY[3:0] WRHIGHFREQ[5:4] */
#define FLASH_ACR_6WS 6u

#define GPIOD_BASE 0x58020C00u
#define USART3_BASE 0x40004800u
#define USART3_CR1 HW_REG(USART3_BASE + 0x00u)
#define USART3_BRR HW_REG(USART3_BASE + 0x0Cu)
#define USART_CR1_UE (1u << 0)

#define PCLK1_HZ 140000000u

/* Cortex-M7 L1 caches (ARMv7-M ARM "Cache maintenance operations", Cortex-M7 TRM; the same steps
 * as CMSIS SCB_EnableICache/SCB_EnableDCache). */
#define SCB_CCR HW_REG(0xE000ED14u)
#define SCB_CCR_DC (1u << 16)
#define SCB_CCR_IC (1u << 17)
#define SCB_CCSIDR HW_REG(0xE000ED80u)
#define SCB_CSSELR HW_REG(0xE000ED84u)
#define SCB_ICIALLU HW_REG(0xE000EF50u)
#define SCB_DCISW HW_REG(0xE000EF60u)

static inline void barrier(void) { __asm__ volatile("dsb\n\tisb" ::: "memory"); }

static void m7_caches_enable(void)
{
    uint32_t sets, ways, s, w;
    SCB_ICIALLU = 0;
    barrier();
    SCB_CCR |= SCB_CCR_IC;
    barrier();
    /* D-cache: invalidate every set/way first (its contents are undefined at reset). */
    SCB_CSSELR = 0;   /* level 1 data cache */
    barrier();
    sets = ((SCB_CCSIDR >> 13) & 0x7FFFu) + 1u;
    ways = ((SCB_CCSIDR >> 3) & 0x3FFu) + 1u;
    for (s = 0; s < sets; ++s) {
        for (w = 0; w < ways; ++w) {
            SCB_DCISW = (s << 5) | (w << 30);   /* 32-byte lines, 4 ways on Cortex-M7 */
        }
    }
    barrier();
    SCB_CCR |= SCB_CCR_DC;
    barrier();
}

static void clock_280mhz(void)
{
    /* Direct SMPS: clear LDOEN (and BYPASS), keep SMPSEN; wait until the supply is active. */
    PWR_CR3 &= ~(PWR_CR3_LDOEN | PWR_CR3_BYPASS);
    while (!(PWR_CSR1 & PWR_CSR1_ACTVOSRDY)) {
    }
    PWR_SRDCR = (PWR_SRDCR & ~(3u << 14)) | (2u << 14);   /* VOS1 */
    while (!(PWR_SRDCR & PWR_SRDCR_VOSRDY)) {
    }
    PWR_SRDCR |= 3u << 14;                                /* VOS0 */
    while (!(PWR_SRDCR & PWR_SRDCR_VOSRDY)) {
    }

    FLASH_ACR = (FLASH_ACR & ~0xFu) | FLASH_ACR_6WS;      /* WRHIGHFREQ left at reset (no flash writes) */
    while ((FLASH_ACR & 0xFu) != FLASH_ACR_6WS) {
    }

    RCC_PLLCKSELR = (RCC_PLLCKSELR & ~((0x3Fu << 4) | 3u)) | (32u << 4);   /* HSI / 32 = 2 MHz */
    RCC_PLLCFGR = (RCC_PLLCFGR & ~0xFu) | (1u << 2) | (1u << 16);         /* RGE 2..4 MHz, wide VCO, P enabled */
    RCC_PLL1DIVR = (279u << 0) | (1u << 9) | (3u << 16) | (1u << 24);     /* N 280, P 2, Q 4, R 2 */
    RCC_CR |= RCC_CR_PLL1ON;
    while (!(RCC_CR & RCC_CR_PLL1RDY)) {
    }

    /* CPU /1, AHB /1, every APB /2 (field value 100), before the switch. */
    RCC_CDCFGR1 = (4u << 4);
    RCC_CDCFGR2 = (4u << 4) | (4u << 8);
    RCC_SRDCFGR = (4u << 4);
    RCC_CFGR = (RCC_CFGR & ~7u) | 3u;
    while (((RCC_CFGR >> 3) & 7u) != 3u) {
    }
}

static void usart3_init(void)
{
    RCC_AHB4ENR |= RCC_AHB4ENR_GPIODEN;
    RCC_APB1LENR |= RCC_APB1LENR_USART3EN;   /* kernel clock: rcc_pclk1 (CDCCIP2R reset value) */
    (void)RCC_APB1LENR;
    stm32_pin_af(GPIOD_BASE, 8, 7);   /* PD8 = USART3_TX, AF7 */
    stm32_pin_af(GPIOD_BASE, 9, 7);   /* PD9 = USART3_RX, AF7 */
    USART3_BRR = STM32_BRR16(PCLK1_HZ, 115200u);   /* 1215: 115226 baud, +0.02 % */
    USART3_CR1 = USART_CR1_UE | USART_CR1_TE | USART_CR1_RE;
}

void evo_board_init(void)
{
    clock_280mhz();
    m7_caches_enable();
    usart3_init();
    hw_dwt_init();
}
