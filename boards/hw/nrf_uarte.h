/* nrf_uarte.c: the UARTE console shared by nRF52840 and nRF5340 (same UARTE register block). */
#ifndef EVO_NRF_UARTE_H
#define EVO_NRF_UARTE_H

#include "hw/hw.h"

/* PSEL value for port 0 pin n: PIN[4:0], PORT[5] = 0, CONNECT[31] = 0 (connected). */
#define NRF_PSEL_P0(n) ((uint32_t)(n))

void nrf_uarte_init(uint32_t tx_psel, uint32_t rx_psel);

#endif
