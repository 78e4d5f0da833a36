// The LoRa radio for the Outcaxt shell: RadioLib on an ESP-IDF hardware abstraction.
// Interrupt-driven receive, non-blocking transmit, and channel activity detection
// (CAD) before every transmission (listen-before-talk). Nothing here knows the
// protocol: frames go to and come from the node core untouched.
//
// Pins, chip, TCXO, RF switch and power come from board_config.h (generated from
// hardware/boards/<id>.json by host-tools/firmware/board-header.ts).

#include <math.h>
#include <string.h>

#include <RadioLib.h>

#include "driver/gpio.h"
#include "driver/spi_master.h"
#include "esp_attr.h"
#include "esp_rom_sys.h"
#include "esp_timer.h"
#include "freertos/FreeRTOS.h"
#include "freertos/task.h"

#include "board_config.h"
#include "radio.h"

#if OC_RADIO_FAMILY_SX126X && !defined(OC_PIN_BUSY)
#error "an SX126x board profile must give pins.busy"
#endif
#if !OC_RADIO_FAMILY_SX126X && !defined(OC_PIN_DIO0)
#error "an SX127x board profile must give pins.dio0"
#endif

namespace {

// ------------------------------------------------------------------ ESP-IDF HAL

constexpr spi_host_device_t kSpiHost = SPI2_HOST;
// Without DMA one SPI transaction moves at most 64 bytes; RadioLib drives chip select
// itself (GPIO), so a longer transfer is sent as several transactions under one CS.
constexpr size_t kSpiChunk = 64;
constexpr int kSpiClockHz = 4000000;

void IRAM_ATTR isr_trampoline(void *arg) {
    reinterpret_cast<void (*)(void)>(arg)();
}

class IdfHal : public RadioLibHal {
public:
    IdfHal()
        : RadioLibHal(GPIO_MODE_INPUT, GPIO_MODE_OUTPUT, 0, 1, GPIO_INTR_POSEDGE, GPIO_INTR_NEGEDGE) {}

    void init() override { spiBegin(); }
    void term() override { spiEnd(); }

    void pinMode(uint32_t pin, uint32_t mode) override {
        if (pin == RADIOLIB_NC) return;
        gpio_config_t c = {};
        c.pin_bit_mask = 1ULL << pin;
        c.mode = static_cast<gpio_mode_t>(mode);
        c.pull_up_en = GPIO_PULLUP_DISABLE;
        c.pull_down_en = GPIO_PULLDOWN_DISABLE;
        c.intr_type = GPIO_INTR_DISABLE;
        gpio_config(&c);
    }

    void digitalWrite(uint32_t pin, uint32_t value) override {
        if (pin == RADIOLIB_NC) return;
        gpio_set_level(static_cast<gpio_num_t>(pin), value);
    }

    uint32_t digitalRead(uint32_t pin) override {
        if (pin == RADIOLIB_NC) return 0;
        return static_cast<uint32_t>(gpio_get_level(static_cast<gpio_num_t>(pin)));
    }

    void attachInterrupt(uint32_t pin, void (*cb)(void), uint32_t mode) override {
        if (pin == RADIOLIB_NC) return;
        if (!isr_service_) {
            esp_err_t e = gpio_install_isr_service(0);
            isr_service_ = (e == ESP_OK || e == ESP_ERR_INVALID_STATE);
        }
        gpio_num_t g = static_cast<gpio_num_t>(pin);
        gpio_set_intr_type(g, static_cast<gpio_int_type_t>(mode));
        gpio_isr_handler_add(g, isr_trampoline, reinterpret_cast<void *>(cb));
        gpio_intr_enable(g);
    }

    void detachInterrupt(uint32_t pin) override {
        if (pin == RADIOLIB_NC) return;
        gpio_num_t g = static_cast<gpio_num_t>(pin);
        gpio_isr_handler_remove(g);
        gpio_set_intr_type(g, GPIO_INTR_DISABLE);
    }

    void delay(unsigned long ms) override {
        // vTaskDelay cannot wait less than a tick; short waits (radio reset) spin instead.
        if (ms >= portTICK_PERIOD_MS) vTaskDelay((ms + portTICK_PERIOD_MS - 1) / portTICK_PERIOD_MS);
        else esp_rom_delay_us(ms * 1000);
    }

    void delayMicroseconds(unsigned long us) override { esp_rom_delay_us(us); }

    unsigned long millis() override { return static_cast<unsigned long>(esp_timer_get_time() / 1000); }

    unsigned long micros() override { return static_cast<unsigned long>(esp_timer_get_time()); }

    long pulseIn(uint32_t pin, uint32_t state, unsigned long timeout) override {
        if (pin == RADIOLIB_NC) return 0;
        const unsigned long start = micros();
        while (digitalRead(pin) == state) {
            if (micros() - start > timeout) return 0;
        }
        while (digitalRead(pin) != state) {
            if (micros() - start > timeout) return 0;
        }
        const unsigned long rise = micros();
        while (digitalRead(pin) == state) {
            if (micros() - start > timeout) return 0;
        }
        return static_cast<long>(micros() - rise);
    }

    void spiBegin() override {
        if (dev_ != nullptr) return;
        spi_bus_config_t bus = {};
        bus.mosi_io_num = OC_PIN_MOSI;
        bus.miso_io_num = OC_PIN_MISO;
        bus.sclk_io_num = OC_PIN_SCK;
        bus.quadwp_io_num = -1;
        bus.quadhd_io_num = -1;
        bus.max_transfer_sz = kSpiChunk;
        ESP_ERROR_CHECK(spi_bus_initialize(kSpiHost, &bus, SPI_DMA_DISABLED));
        spi_device_interface_config_t dev = {};
        dev.mode = 0;
        dev.clock_speed_hz = kSpiClockHz;
        dev.spics_io_num = -1;
        dev.queue_size = 1;
        ESP_ERROR_CHECK(spi_bus_add_device(kSpiHost, &dev, &dev_));
    }

    void spiBeginTransaction() override { spi_device_acquire_bus(dev_, portMAX_DELAY); }

    void spiTransfer(uint8_t *out, size_t len, uint8_t *in) override {
        for (size_t off = 0; off < len; off += kSpiChunk) {
            const size_t n = (len - off < kSpiChunk) ? len - off : kSpiChunk;
            spi_transaction_t t = {};
            t.length = n * 8;
            t.tx_buffer = out != nullptr ? out + off : nullptr;
            t.rx_buffer = in != nullptr ? in + off : nullptr;
            spi_device_polling_transmit(dev_, &t);
        }
    }

    void spiEndTransaction() override { spi_device_release_bus(dev_); }

    void spiEnd() override {
        if (dev_ == nullptr) return;
        spi_bus_remove_device(dev_);
        spi_bus_free(kSpiHost);
        dev_ = nullptr;
    }

private:
    spi_device_handle_t dev_ = nullptr;
    bool isr_service_ = false;
};

// ------------------------------------------------------------------ radio

IdfHal hal;

#if OC_RADIO_FAMILY_SX126X
constexpr uint32_t kIrqPin = OC_PIN_DIO1;    // SX126x: every interrupt on DIO1
Module mod(&hal, OC_PIN_NSS, OC_PIN_DIO1, OC_PIN_RESET, OC_PIN_BUSY);
SX1262 radio(&mod);
#else
constexpr uint32_t kIrqPin = OC_PIN_DIO0;    // SX127x: RxDone / TxDone on DIO0
#ifdef OC_PIN_DIO1
Module mod(&hal, OC_PIN_NSS, OC_PIN_DIO0, OC_PIN_RESET, OC_PIN_DIO1);
#else
Module mod(&hal, OC_PIN_NSS, OC_PIN_DIO0, OC_PIN_RESET, RADIOLIB_NC);
#endif
SX1276 radio(&mod);
#endif

enum class State { Rx, Tx };
State state = State::Rx;
radio_irq_fn on_irq = nullptr;
// While a blocking CAD runs, RadioLib polls the interrupt pin itself: our ISR stays quiet.
volatile bool cad_active = false;

struct Modulation {
    float bw_khz;
    int sf;
    int cr_denom;
    int preamble;
};
bool modulation_pending = false;
Modulation pending = {};

void IRAM_ATTR on_dio(void) {
    if (!cad_active && on_irq != nullptr) on_irq();
}

int start_rx() {
    state = State::Rx;
    return radio.startReceive();
}

int apply_modulation(const Modulation &m) {
    radio.standby();
    int16_t st = radio.setBandwidth(m.bw_khz);
    if (st == RADIOLIB_ERR_NONE) st = radio.setSpreadingFactor(static_cast<uint8_t>(m.sf));
    if (st == RADIOLIB_ERR_NONE) st = radio.setCodingRate(static_cast<uint8_t>(m.cr_denom));
    if (st == RADIOLIB_ERR_NONE) st = radio.setPreambleLength(static_cast<uint16_t>(m.preamble));
    int16_t rx = start_rx();
    return st != RADIOLIB_ERR_NONE ? st : rx;
}

}  // namespace

extern "C" int radio_init(radio_irq_fn irq) {
    on_irq = irq;
#if OC_RADIO_FAMILY_SX126X
    int16_t st = radio.begin(OC_LORA_FREQ_MHZ, OC_LORA_BW_KHZ, OC_LORA_SF, OC_LORA_CR_DENOM, OC_LORA_SYNC_WORD,
                             OC_TX_POWER_DBM, OC_LORA_PREAMBLE, OC_RADIO_TCXO_VOLTAGE, false);
    if (st != RADIOLIB_ERR_NONE) return st;
#if OC_RF_SWITCH_DIO2
    st = radio.setDio2AsRfSwitch(true);
    if (st != RADIOLIB_ERR_NONE) return st;
#endif
    st = radio.setCRC(2);
#else
    int16_t st = radio.begin(OC_LORA_FREQ_MHZ, OC_LORA_BW_KHZ, OC_LORA_SF, OC_LORA_CR_DENOM, OC_LORA_SYNC_WORD,
                             OC_TX_POWER_DBM, OC_LORA_PREAMBLE, 0);
    if (st != RADIOLIB_ERR_NONE) return st;
    st = radio.setCRC(true);
#endif
    if (st != RADIOLIB_ERR_NONE) return st;
#if OC_RF_SWITCH_GPIO
#if defined(OC_PIN_RX_ENABLE) && defined(OC_PIN_TX_ENABLE)
    radio.setRfSwitchPins(OC_PIN_RX_ENABLE, OC_PIN_TX_ENABLE);
#elif defined(OC_PIN_RX_ENABLE)
    radio.setRfSwitchPins(OC_PIN_RX_ENABLE, RADIOLIB_NC);
#else
    radio.setRfSwitchPins(RADIOLIB_NC, OC_PIN_TX_ENABLE);
#endif
#endif
    radio.setPacketReceivedAction(on_dio);
    return start_rx();
}

extern "C" int radio_configure(float bw_khz, int sf, int cr_denom, int preamble) {
    Modulation m = {bw_khz, sf, cr_denom, preamble};
    if (state == State::Tx) {
        // Changing the modem now would abort the frame on the air and lose its TX-done.
        pending = m;
        modulation_pending = true;
        return 0;
    }
    return apply_modulation(m);
}

extern "C" int radio_transmit_start(const uint8_t *data, size_t len) {
    if (state == State::Tx) return 1;
    if (len == 0 || len > 255) return RADIOLIB_ERR_PACKET_TOO_LONG;
    // An interrupt not yet serviced is a frame just heard: let the main loop take it first.
    if (hal.digitalRead(kIrqPin) != 0) return 1;
    cad_active = true;
    int16_t cad = radio.scanChannel();
    cad_active = false;
    if (cad == RADIOLIB_LORA_DETECTED) {
        start_rx();
        return 1;
    }
    if (cad != RADIOLIB_CHANNEL_FREE) {
        start_rx();
        return cad < 0 ? cad : -1;
    }
    int16_t st = radio.startTransmit(const_cast<uint8_t *>(data), len);
    if (st != RADIOLIB_ERR_NONE) {
        start_rx();
        return st;
    }
    state = State::Tx;
    return 0;
}

extern "C" radio_event_t radio_service(radio_rx_t *rx) {
    if (state == State::Tx) {
        radio.finishTransmit();
        if (modulation_pending) {
            modulation_pending = false;
            apply_modulation(pending);
        } else {
            start_rx();
        }
        return RADIO_EVENT_TX_DONE;
    }
    if (hal.digitalRead(kIrqPin) == 0) return RADIO_EVENT_NONE;  // edge without a pending event
    size_t len = radio.getPacketLength();
    if (len == 0 || len > 255) {
        start_rx();
        return RADIO_EVENT_NONE;
    }
    int16_t st = radio.readData(rx->data, len);
    if (st != RADIOLIB_ERR_NONE) {  // CRC or header error: nothing for the node
        start_rx();
        return RADIO_EVENT_NONE;
    }
    rx->len = len;
    rx->rssi_dbm = static_cast<int32_t>(lroundf(radio.getRSSI()));
    rx->snr_db_x4 = static_cast<int32_t>(lroundf(radio.getSNR() * 4.0f));
    start_rx();
    return RADIO_EVENT_RX;
}
