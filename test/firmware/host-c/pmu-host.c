/* Host test of firmware/esp32/main/pmu.c with a generated board_config.h and a simulated
 * I2C bus: one device at address `dev_addr` with a 256-byte register file. Built and run by
 * test/firmware/keystore.test.ts. Usage: pmu-host <scenario>, scenarios:
 *   axp192 / axp2101   the chip answers; prints the registers pmu.c touched
 *   other              a device with another chip id answers
 *   none               nothing answers
 * Prints one line per log call ("log <level> <text>") and "result <r> <registers...>". */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "driver/i2c.h"
#include "freertos/task.h"
#include "pmu.h"

static uint8_t regs[256];
static int dev_addr = -1;
static int installed, deleted, delayed_ms, transactions;

esp_err_t i2c_param_config(i2c_port_t n, const i2c_config_t *c) {
    printf("i2c port %d sda %d scl %d master %d\n", n, c->sda_io_num, c->scl_io_num, c->mode == I2C_MODE_MASTER);
    return ESP_OK;
}
esp_err_t i2c_driver_install(i2c_port_t n, i2c_mode_t m, size_t a, size_t b, int f) { (void)n; (void)m; (void)a; (void)b; (void)f; installed++; return ESP_OK; }
esp_err_t i2c_driver_delete(i2c_port_t n) { (void)n; deleted++; return ESP_OK; }
esp_err_t i2c_master_write_to_device(i2c_port_t n, uint8_t addr, const uint8_t *w, size_t wn, TickType_t t) {
    (void)n; (void)t;
    transactions++;
    if (addr != dev_addr || wn != 2) return ESP_FAIL;
    regs[w[0]] = w[1];
    return ESP_OK;
}
esp_err_t i2c_master_write_read_device(i2c_port_t n, uint8_t addr, const uint8_t *w, size_t wn, uint8_t *r, size_t rn, TickType_t t) {
    (void)n; (void)t;
    transactions++;
    if (addr != dev_addr || wn != 1 || rn != 1) return ESP_FAIL;
    r[0] = regs[w[0]];
    return ESP_OK;
}
void vTaskDelay(TickType_t ticks) { delayed_ms += (int)ticks; }

static void log_line(uint8_t level, const char *fmt, ...) {
    char text[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    printf("log %u %s\n", level, text);
}

int main(int argc, char **argv) {
    const char *s = argc > 1 ? argv[1] : "none";
    memset(regs, 0, sizeof regs);
    /* Power-on values with unrelated bits set, which pmu.c must keep. */
    regs[0x12] = 0x41;  /* AXP192: DCDC1 + EXTEN on (they feed the OLED / ESP32 on a T-Beam) */
    regs[0x28] = 0x0C;  /* AXP192: LDO3 voltage step 12 in the low nibble */
    regs[0x90] = 0x80;  /* AXP2101: another LDO's enable bit */
    regs[0x93] = 0xE0;  /* AXP2101: reserved high bits of the ALDO2 voltage register */
    if (strcmp(s, "axp192") == 0) { dev_addr = 0x34; regs[0x03] = 0x03; }
    else if (strcmp(s, "axp2101") == 0) { dev_addr = 0x34; regs[0x03] = 0x4A; }
    else if (strcmp(s, "other") == 0) { dev_addr = 0x34; regs[0x03] = 0x77; }
    int r = pmu_power_up(log_line);
    printf("result %d r12=%02x r28=%02x r90=%02x r93=%02x installed=%d deleted=%d delay=%d transactions=%d\n",
           r, regs[0x12], regs[0x28], regs[0x90], regs[0x93], installed, deleted, delayed_ms, transactions);
    return 0;
}
