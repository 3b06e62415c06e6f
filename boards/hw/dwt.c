/* Cycle counter for Cortex-M3/M4/M7/M33: DWT->CYCCNT (ARMv7-M / ARMv8-M Architecture Reference
 * Manual, "The Data Watchpoint and Trace unit"). Shared by every hardware board with cycle_counter = "dwt". */
#include "evo_board.h"
#include "hw/hw.h"

#define DEMCR HW_REG(0xE000EDFCu)      /* Debug Exception and Monitor Control Register */
#define DEMCR_TRCENA (1u << 24)        /* enables the DWT and ITM blocks */
#define DWT_CTRL HW_REG(0xE0001000u)
#define DWT_CTRL_CYCCNTENA (1u << 0)
#define DWT_CTRL_NOCYCCNT (1u << 25)   /* read-only: 1 = this implementation has no CYCCNT */
#define DWT_CYCCNT HW_REG(0xE0001004u)
#define DWT_LAR HW_REG(0xE0001FB0u)    /* CoreSight Lock Access Register */
#define DWT_LAR_KEY 0xC5ACCE55u

static int dwt_ok;

void hw_dwt_init(void)
{
    DEMCR |= DEMCR_TRCENA;
#if defined(EVO_DWT_UNLOCK)
    /* The Cortex-M7 DWT has a CoreSight software lock: DWT_CTRL ignores writes until the key
     * is written to LAR (seen on STM32F7/H7). The M4 and M33 boards do not define this. */
    DWT_LAR = DWT_LAR_KEY;
#endif
    if (DWT_CTRL & DWT_CTRL_NOCYCCNT) {
        return;
    }
    DWT_CYCCNT = 0;
    DWT_CTRL |= DWT_CTRL_CYCCNTENA;
    /* Trust the counter only if the enable bit stuck (a locked DWT reads it back as 0). */
    dwt_ok = (DWT_CTRL & DWT_CTRL_CYCCNTENA) != 0;
}

uint32_t evo_cycles(void) { return DWT_CYCCNT; }

int evo_cycles_available(void) { return dwt_ok; }
