/* Thin C interface to the LoRa radio (radio.cpp, RadioLib). Pins, chip and power come
 * from board_config.h; the modulation from the node config in use. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** What one radio interrupt meant (radio_service). */
typedef enum {
    RADIO_EVENT_NONE = 0, /* nothing for the node (spurious edge, CRC error, header error) */
    RADIO_EVENT_RX = 1,   /* a frame was heard: see radio_rx_t */
    RADIO_EVENT_TX_DONE = 2 /* the frame given to radio_transmit is off the air */
} radio_event_t;

typedef struct {
    uint8_t data[256];
    size_t len;
    int32_t rssi_dbm;
    int32_t snr_db_x4; /* SNR in quarter dB, as node_receive wants it */
} radio_rx_t;

/** Called from the radio's DIO interrupt (ISR context): must only wake the main task. */
typedef void (*radio_irq_fn)(void);

/** Brings the radio up on the board's pins at OC_LORA_FREQ_MHZ / OC_TX_POWER_DBM and starts
 *  receiving. 0 on success, else the RadioLib status code (negative). */
int radio_init(radio_irq_fn on_irq);

/** Sets the modulation (bandwidth kHz, spreading factor, coding rate denominator 5..8,
 *  preamble symbols) and returns to receive. 0 on success, else a RadioLib status code. */
int radio_configure(float bw_khz, int sf, int cr_denom, int preamble);

/** Listen-before-talk (CAD), then start sending. 0 = taken (RADIO_EVENT_TX_DONE follows),
 *  1 = channel busy (CAD saw a preamble, or a frame is being received, or a send is in
 *  progress), negative = radio error. Never blocks longer than one CAD. */
int radio_transmit_start(const uint8_t *data, size_t len);

/** Handles a radio interrupt from the main task; fills *rx for RADIO_EVENT_RX. */
radio_event_t radio_service(radio_rx_t *rx);

#ifdef __cplusplus
}
#endif
