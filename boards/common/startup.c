/* Vector table and reset handler for every Cortex-M core EVO targets (v6-M, v7-M, v7E-M, v8-M). */
#include <stdint.h>

#include "evo_board.h"

extern uint32_t _sidata[], _sdata[], _edata[], _sbss[], _ebss[], _sstack[], _estack[];
int main(void);
void __libc_init_array(void);
void Reset_Handler(void);

#define STACK_PAINT 0xA5A5A5A5u

static void Default_Handler(void)
{
    evo_console_write("EVO-FAULT unexpected exception\n");
    evo_board_exit(100);
}

static void HardFault_Handler(void)
{
    evo_console_write("EVO-FAULT HardFault\n");
    evo_board_exit(101);
}

void SysTick_Handler(void) __attribute__((weak, alias("Default_Handler")));

__attribute__((section(".isr_vector"), used)) void (*const evo_vectors[16])(void) = {
    (void (*)(void))_estack, /* initial main stack pointer */
    Reset_Handler,
    Default_Handler,   /* NMI */
    HardFault_Handler, /* HardFault */
    Default_Handler,   /* MemManage (v7-M and later) */
    Default_Handler,   /* BusFault */
    Default_Handler,   /* UsageFault */
    Default_Handler,   /* SecureFault (v8-M) */
    0,
    0,
    0,
    Default_Handler, /* SVCall */
    Default_Handler, /* DebugMon */
    0,
    Default_Handler, /* PendSV */
    SysTick_Handler, /* SysTick */
};

/* -nostartfiles drops crti/crtn, but newlib's __libc_init_array calls _init. */
void _init(void) {}
void _fini(void) {}

uint32_t evo_stack_used(void)
{
    const uint32_t *p = _sstack;
    while (p < _estack && *p == STACK_PAINT) {
        ++p;
    }
    return (uint32_t)((uintptr_t)_estack - (uintptr_t)p);
}

void Reset_Handler(void)
{
    uint32_t *s, *d;
#if defined(__ARM_FP)
    /* Give CP10/CP11 full access before any floating-point instruction runs. */
    *(volatile uint32_t *)0xE000ED88 |= 0xFu << 20;
    __asm__ volatile("dsb\n\tisb" ::: "memory");
#endif
    for (s = _sidata, d = _sdata; d < _edata;) {
        *d++ = *s++;
    }
    for (d = _sbss; d < _ebss;) {
        *d++ = 0;
    }
    /* Paint the unused part of the stack so evo_stack_used() can find the high-water mark. */
    {
        uintptr_t sp;
        __asm__ volatile("mov %0, sp" : "=r"(sp));
        for (d = _sstack; (uintptr_t)d < sp - 64u; ++d) {
            *d = STACK_PAINT;
        }
    }
    __libc_init_array();
    evo_board_exit(main());
}
