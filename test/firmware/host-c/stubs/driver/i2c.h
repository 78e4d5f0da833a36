/* Stand-in for ESP-IDF's legacy driver/i2c.h (host test of pmu.c), ESP-IDF 5.x signatures. */
#pragma once
#include <stddef.h>
#include <stdint.h>
#include "esp_err.h"
#include "freertos/FreeRTOS.h"
typedef int i2c_port_t;
#define I2C_NUM_0 0
typedef enum { I2C_MODE_SLAVE = 0, I2C_MODE_MASTER } i2c_mode_t;
typedef enum { GPIO_PULLUP_DISABLE = 0, GPIO_PULLUP_ENABLE = 1 } gpio_pullup_t;
typedef struct {
    i2c_mode_t mode; int sda_io_num; int scl_io_num; gpio_pullup_t sda_pullup_en; gpio_pullup_t scl_pullup_en;
    union { struct { uint32_t clk_speed; } master; struct { uint8_t addr_10bit_en; uint16_t slave_addr; uint32_t maximum_speed; } slave; };
    uint32_t clk_flags;
} i2c_config_t;
esp_err_t i2c_param_config(i2c_port_t i2c_num, const i2c_config_t *i2c_conf);
esp_err_t i2c_driver_install(i2c_port_t i2c_num, i2c_mode_t mode, size_t slv_rx_buf_len, size_t slv_tx_buf_len, int intr_alloc_flags);
esp_err_t i2c_driver_delete(i2c_port_t i2c_num);
esp_err_t i2c_master_write_to_device(i2c_port_t i2c_num, uint8_t device_address, const uint8_t *write_buffer, size_t write_size, TickType_t ticks_to_wait);
esp_err_t i2c_master_write_read_device(i2c_port_t i2c_num, uint8_t device_address, const uint8_t *write_buffer, size_t write_size, uint8_t *read_buffer, size_t read_size, TickType_t ticks_to_wait);
