/* ARM semihosting: "BKPT 0xAB" with r0 = operation and r1 = argument (any M-profile core).
 * QEMU serves it with -semihosting-config enable=on,target=native. */
#ifndef EVO_SEMIHOST_H
#define EVO_SEMIHOST_H

#include <stdint.h>

#define EVO_SYS_WRITE0 0x04
#define EVO_SYS_EXIT_EXTENDED 0x20
#define EVO_ADP_APPLICATION_EXIT 0x20026u

static inline int evo_semihost_call(int op, const void *arg)
{
    register int r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

#endif
