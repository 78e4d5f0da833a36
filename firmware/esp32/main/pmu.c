/* PMU power-up for boards whose radio is fed by a power-management chip (LilyGO T-Beam:
 * AXP192 on v1.1 and earlier, AXP2101 on v1.2; both at I2C address 0x34 on SDA 21 / SCL 22).
 * The chip that answers is identified by its chip-id register, the radio rail named in the
 * board profile (hardware/boards/<id>.json "pmu", emitted as OC_PMU_* by
 * host-tools/firmware/board-header.ts) is set to OC_PMU_RADIO_MV and switched on, and the
 * shell waits for it to settle before radio_init.
 *
 * Register facts and their sources:
 * - Chip id: register 0x03 ("IC type") reads 0x03 on the AXP192 and 0x4A on the AXP2101
 *   (XPowersLib src/REG/AXP192Constants.h XPOWERS_AXP192_IC_TYPE / XPOWERS_AXP192_CHIP_ID,
 *   AXP2101Constants.h XPOWERS_AXP2101_IC_TYPE / XPOWERS_AXP2101_CHIP_ID; copy in
 *   github.com/Xinyuan-LilyGO/LilyGo-LoRa-Series lib/XPowersLib). Address 0x34 for both
 *   (AXP192_SLAVE_ADDRESS, AXP2101_SLAVE_ADDRESS there).
 * - AXP192 LDO2/LDO3: on/off bits 2 and 3 of register 0x12 (XPOWERS_AXP192_LDO23_DC123_EXT_CTL;
 *   XPowersAXP192.tpp enableLDO2 sets bit 2); voltage in register 0x28 (XPOWERS_AXP192_LDO23OUT_VOL),
 *   LDO2 in bits 7..4, LDO3 in bits 3..0, 1800 mV + 100 mV per step up to 3300 mV
 *   (XPOWERS_AXP192_LDO2_VOL_MIN/STEPS/MAX; setLDO2Voltage keeps the low nibble).
 *   Register 0x12 also switches DCDC1/DCDC3/EXTEN, which feed the ESP32 itself on the
 *   T-Beam (LoRaBoards.cpp marks DCDC3 "protected"): only the one bit is changed
 *   (read-modify-write).
 * - AXP2101 ALDO1..4: on/off bits 0..3 of register 0x90 (XPOWERS_AXP2101_LDO_ONOFF_CTRL0;
 *   enableALDO2 sets bit 1); voltage in registers 0x92..0x95 (XPOWERS_AXP2101_LDO_VOL0_CTRL..
 *   LDO_VOL3_CTRL), bits 4..0, 500 mV + 100 mV per step up to 3500 mV; setALDO2Voltage keeps
 *   bits 7..5. Setting the voltage does not switch the rail on.
 * - Which rail feeds the radio: LilyGO's factory firmware (LilyGo-LoRa-Series
 *   examples/Factory/LoRaBoards.cpp, beginPower) sets LDO2 = 3300 mV for LoRa on the AXP192
 *   and ALDO2 = 3300 mV ("LoRa VDD") on the AXP2101 of the ESP32 T-Beam, probing the
 *   AXP2101 first, then the AXP192. The profile carries these values with their sources.
 * - Settling: no figure was found in the sources above; 20 ms is a generous guess for an
 *   LDO plus the radio's own power-on reset (RadioLib resets the radio afterwards anyway).
 *
 * I2C: the legacy ESP-IDF driver (driver/i2c.h: i2c_param_config, i2c_driver_install,
 * i2c_master_write_read_device, i2c_master_write_to_device), present from ESP-IDF 4.4
 * through 5.x; ESP-IDF 5.2 added driver/i2c_master.h and keeps the legacy one
 * ("Peripherals" migration guide for 5.2). The bus is released after power-up. */
#include "pmu.h"

#include "board_config.h"

#if defined(OC_HAS_PMU) && OC_HAS_PMU

#include <stdbool.h>

#include "driver/i2c.h"
#include "freertos/FreeRTOS.h"
#include "freertos/task.h"

#define PMU_I2C_PORT I2C_NUM_0
#define PMU_I2C_HZ 400000
#define PMU_TIMEOUT pdMS_TO_TICKS(50)
#define PMU_SETTLE_MS 20

#define REG_CHIP_ID 0x03
#define CHIP_ID_AXP192 0x03
#define CHIP_ID_AXP2101 0x4A

#define AXP192_REG_OUTPUT_CTL 0x12  /* bit 2 LDO2, bit 3 LDO3 */
#define AXP192_REG_LDO23_VOL 0x28   /* LDO2 bits 7..4, LDO3 bits 3..0 */
#define AXP192_LDO_MIN_MV 1800
#define AXP192_LDO_MAX_MV 3300
#define AXP2101_REG_LDO_ONOFF0 0x90 /* bit n-1: ALDOn */
#define AXP2101_REG_ALDO1_VOL 0x92  /* ALDOn at 0x92 + n - 1, bits 4..0 */
#define AXP2101_ALDO_MIN_MV 500
#define AXP2101_ALDO_MAX_MV 3500
#define LDO_STEP_MV 100

#define LOG_ERROR 0
#define LOG_WARNING 1
#define LOG_INFO 2

static bool reg_read(uint8_t reg, uint8_t *out) {
    return i2c_master_write_read_device(PMU_I2C_PORT, OC_PMU_I2C_ADDR, &reg, 1, out, 1, PMU_TIMEOUT) == ESP_OK;
}

static bool reg_write(uint8_t reg, uint8_t value) {
    const uint8_t b[2] = {reg, value};
    return i2c_master_write_to_device(PMU_I2C_PORT, OC_PMU_I2C_ADDR, b, sizeof b, PMU_TIMEOUT) == ESP_OK;
}

/* Read-modify-write of the bits in `mask`, then read back. */
static bool reg_update(uint8_t reg, uint8_t mask, uint8_t bits) {
    uint8_t v = 0;
    if (!reg_read(reg, &v)) return false;
    if (!reg_write(reg, (uint8_t)((v & ~mask) | (bits & mask)))) return false;
    uint8_t back = 0;
    return reg_read(reg, &back) && (back & mask) == (bits & mask);
}

#ifdef OC_PMU_AXP192_RADIO_LDO
static int axp192_radio_on(pmu_log_fn log) {
    const int ldo = OC_PMU_AXP192_RADIO_LDO; /* 2 or 3 */
    const int mv = OC_PMU_RADIO_MV;
    if (mv < AXP192_LDO_MIN_MV || mv > AXP192_LDO_MAX_MV) {
        log(LOG_ERROR, "PMU: AXP192 LDO%d cannot give %d mV", ldo, mv);
        return -1;
    }
    const uint8_t step = (uint8_t)((mv - AXP192_LDO_MIN_MV) / LDO_STEP_MV);
    const bool high = ldo == 2;
    if (!reg_update(AXP192_REG_LDO23_VOL, high ? 0xF0 : 0x0F, high ? (uint8_t)(step << 4) : step) ||
        !reg_update(AXP192_REG_OUTPUT_CTL, (uint8_t)(1u << ldo), (uint8_t)(1u << ldo))) {
        log(LOG_ERROR, "PMU: AXP192 LDO%d: register write failed", ldo);
        return -1;
    }
    log(LOG_INFO, "PMU: AXP192 found, radio rail LDO%d on at %d mV", ldo, mv);
    return 0;
}
#endif

#ifdef OC_PMU_AXP2101_RADIO_ALDO
static int axp2101_radio_on(pmu_log_fn log) {
    const int aldo = OC_PMU_AXP2101_RADIO_ALDO; /* 1..4 */
    const int mv = OC_PMU_RADIO_MV;
    if (mv < AXP2101_ALDO_MIN_MV || mv > AXP2101_ALDO_MAX_MV) {
        log(LOG_ERROR, "PMU: AXP2101 ALDO%d cannot give %d mV", aldo, mv);
        return -1;
    }
    const uint8_t step = (uint8_t)((mv - AXP2101_ALDO_MIN_MV) / LDO_STEP_MV);
    if (!reg_update((uint8_t)(AXP2101_REG_ALDO1_VOL + aldo - 1), 0x1F, step) ||
        !reg_update(AXP2101_REG_LDO_ONOFF0, (uint8_t)(1u << (aldo - 1)), (uint8_t)(1u << (aldo - 1)))) {
        log(LOG_ERROR, "PMU: AXP2101 ALDO%d: register write failed", aldo);
        return -1;
    }
    log(LOG_INFO, "PMU: AXP2101 found, radio rail ALDO%d on at %d mV", aldo, mv);
    return 0;
}
#endif

int pmu_power_up(pmu_log_fn log) {
    const i2c_config_t cfg = {
        .mode = I2C_MODE_MASTER,
        .sda_io_num = OC_PMU_PIN_SDA,
        .scl_io_num = OC_PMU_PIN_SCL,
        .sda_pullup_en = GPIO_PULLUP_ENABLE,
        .scl_pullup_en = GPIO_PULLUP_ENABLE,
        .master.clk_speed = PMU_I2C_HZ,
    };
    if (i2c_param_config(PMU_I2C_PORT, &cfg) != ESP_OK || i2c_driver_install(PMU_I2C_PORT, I2C_MODE_MASTER, 0, 0, 0) != ESP_OK) {
        log(LOG_ERROR, "PMU: cannot start I2C on SDA %d / SCL %d", OC_PMU_PIN_SDA, OC_PMU_PIN_SCL);
        return -1;
    }
    uint8_t id = 0;
    int r = -1;
    if (!reg_read(REG_CHIP_ID, &id)) {
        log(LOG_ERROR, "PMU: nothing answers at I2C address 0x%02x (SDA %d, SCL %d)", OC_PMU_I2C_ADDR, OC_PMU_PIN_SDA, OC_PMU_PIN_SCL);
    }
#ifdef OC_PMU_AXP192_RADIO_LDO
    else if (id == CHIP_ID_AXP192) r = axp192_radio_on(log);
#endif
#ifdef OC_PMU_AXP2101_RADIO_ALDO
    else if (id == CHIP_ID_AXP2101) r = axp2101_radio_on(log);
#endif
    else {
        log(LOG_ERROR, "PMU: chip id 0x%02x at 0x%02x is not a PMU this board profile lists", id, OC_PMU_I2C_ADDR);
    }
    i2c_driver_delete(PMU_I2C_PORT);
    if (r == 0) vTaskDelay(pdMS_TO_TICKS(PMU_SETTLE_MS));
    return r;
}

#else /* no PMU on this board */

int pmu_power_up(pmu_log_fn log) {
    (void)log;
    return 0;
}

#endif
