/* Outcaxt ESP32 shell: loads the node core (node.wasm) into wasm3 and connects its
 * imports (firmware/ABI.md, "Core: node.wasm") to the radio, the clock, the random
 * number generator, NVS and the USB serial line. Routing, crypto and the serial
 * protocol all live in the core; this file only moves bytes and time.
 *
 * Boot: the `cores` flash partition (64-byte header of host-tools/flash/README.md:
 * "OCXC", u16 version 1, u32 payload size at 8, SHA-256 of the payload at 12; node.wasm
 * from byte 64) is used when its header and hash check out, otherwise the node.wasm
 * embedded in this app image. */

#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>

#include "bootloader_random.h"
#include "esp_partition.h"
#include "esp_random.h"
#include "esp_system.h"
#include "esp_timer.h"
#include "freertos/FreeRTOS.h"
#include "freertos/stream_buffer.h"
#include "freertos/task.h"
#include "mbedtls/sha256.h"
#include "nvs.h"
#include "nvs_flash.h"

#include "wasm3.h"

#include "board_config.h"
#include "keystore.h"
#include "pmu.h"
#include "radio.h"

#if OC_SERIAL_USB_JTAG
#include "driver/usb_serial_jtag.h"
#else
#include "driver/uart.h"
#endif

#if defined(CONFIG_IDF_TARGET_ESP32) && !defined(OC_BOARD_MCU_ESP32)
#error "board_config.h is for an ESP32-S3 board; run idf.py set-target esp32s3 (or choose another OC_BOARD)"
#endif
#if defined(CONFIG_IDF_TARGET_ESP32S3) && !defined(OC_BOARD_MCU_ESP32S3)
#error "board_config.h is for an ESP32 board; run idf.py set-target esp32 (or choose another OC_BOARD)"
#endif

/* ------------------------------------------------------------------ constants */

#define CORES_PARTITION_LABEL "cores"
#define CORES_PARTITION_SUBTYPE 0x40
#define CORES_MAGIC "OCXC"
#define CORES_FORMAT_VERSION 1
#define CORES_HEADER_LEN 64 /* magic 4, version u16, reserved u16, size u32, SHA-256 32, reserved 20 */

#define WASM3_STACK_BYTES (16 * 1024)
#define NVS_NAMESPACE "outcaxt"
#define NVS_KEY_MAX 15 /* NVS keys are at most 15 characters */
#define CONFIG_KEY "config"
#define CONFIG_MAX 63

#define SERIAL_BAUD 115200
#define SERIAL_CHUNK 256   /* bytes handed to serial_receive at once (≤ 512) */
#define SERIAL_RX_BUFFER 2048

#define SERIAL_FRAME_MAX 310 /* 0x00 + COBS(306) + 0x00 */
#define SERIAL_PAYLOAD_MAX 300
#define MSG_LOG 0x8A
#define LOG_ERROR 0
#define LOG_WARNING 1
#define LOG_INFO 2

#define POLL_MAX_MS 60000 /* wake at least once a minute, whatever node_poll says */

#define NOTIFY_RADIO (1u << 0)
#define NOTIFY_SERIAL (1u << 1)

extern const uint8_t node_wasm_start[] asm("_binary_node_wasm_start");
extern const uint8_t node_wasm_end[] asm("_binary_node_wasm_end");

/* ------------------------------------------------------------------ state */

static TaskHandle_t main_task;
static StreamBufferHandle_t serial_rx;
static nvs_handle_t nvs;
/* Partition "store" (partitions.csv): a second NVS partition for what the storage layer
 * keeps (firmware/STORAGE.md): contacts, mail kept for others, file objects and blocks.
 * Falls back to the main NVS when the partition is missing. */
#define STORE_PARTITION_LABEL "store"
static nvs_handle_t store_nvs;
static bool store_ok;
static bool keystore_ok; /* the "keys" partition exists: id.seed and prekeys live there, not in NVS */
static bool config_changed; /* set by storage_put("config"): re-read the modulation */
static uint8_t stored_config[CONFIG_MAX];
static size_t stored_config_len;

static IM3Runtime runtime;
static IM3Function fn_io_buffer_ptr, fn_node_init, fn_node_receive, fn_node_tx_done, fn_node_poll, fn_serial_receive;
static uint32_t io_buffer; /* address of the core's 512-byte I/O buffer */

/* ------------------------------------------------------------------ serial line */

static void serial_write_bytes(const uint8_t *p, size_t n) {
#if OC_SERIAL_USB_JTAG
    while (n > 0) {
        int w = usb_serial_jtag_write_bytes(p, n, pdMS_TO_TICKS(100));
        if (w <= 0) return; /* no host listening: drop, as an unplugged UART would */
        p += w;
        n -= (size_t)w;
    }
#else
    uart_write_bytes(UART_NUM_0, p, n);
#endif
}

static int serial_read_bytes(uint8_t *p, size_t n, TickType_t wait) {
#if OC_SERIAL_USB_JTAG
    return usb_serial_jtag_read_bytes(p, n, wait);
#else
    return uart_read_bytes(UART_NUM_0, p, n, wait);
#endif
}

static void serial_start(void) {
#if OC_SERIAL_USB_JTAG
    usb_serial_jtag_driver_config_t cfg = {
        .tx_buffer_size = 1024,
        .rx_buffer_size = SERIAL_RX_BUFFER,
    };
    ESP_ERROR_CHECK(usb_serial_jtag_driver_install(&cfg));
#else
    const uart_config_t cfg = {
        .baud_rate = SERIAL_BAUD,
        .data_bits = UART_DATA_8_BITS,
        .parity = UART_PARITY_DISABLE,
        .stop_bits = UART_STOP_BITS_1,
        .flow_ctrl = UART_HW_FLOWCTRL_DISABLE,
        .source_clk = UART_SCLK_DEFAULT,
    };
    ESP_ERROR_CHECK(uart_driver_install(UART_NUM_0, SERIAL_RX_BUFFER, 1024, 0, NULL, 0));
    ESP_ERROR_CHECK(uart_param_config(UART_NUM_0, &cfg));
#endif
}

/* CRC-16/CCITT-FALSE (SERIAL.md): poly 0x1021, init 0xFFFF, no reflection, no final XOR. */
static uint16_t crc16(const uint8_t *p, size_t n) {
    uint16_t crc = 0xFFFF;
    for (size_t i = 0; i < n; i++) {
        crc ^= (uint16_t)p[i] << 8;
        for (int b = 0; b < 8; b++) crc = (crc & 0x8000) ? (uint16_t)((crc << 1) ^ 0x1021) : (uint16_t)(crc << 1);
    }
    return crc;
}

/* Writes one device message (type ≥ 0x80, seq 0) as a whole frame: 0x00, COBS, 0x00.
 * Only called outside the core's serial_write (never in the middle of its frame). */
static void serial_send_packet(uint8_t type, const uint8_t *payload, size_t len) {
    uint8_t pkt[4 + SERIAL_PAYLOAD_MAX + 2];
    uint8_t out[SERIAL_FRAME_MAX];
    if (len > SERIAL_PAYLOAD_MAX) len = SERIAL_PAYLOAD_MAX;
    pkt[0] = 1;
    pkt[1] = type;
    pkt[2] = 0;
    pkt[3] = 0;
    memcpy(pkt + 4, payload, len);
    uint16_t crc = crc16(pkt, 4 + len);
    pkt[4 + len] = (uint8_t)(crc & 0xFF);
    pkt[5 + len] = (uint8_t)(crc >> 8);
    size_t n = 6 + len;

    size_t o = 0;
    out[o++] = 0x00;
    size_t code_at = o++;
    uint8_t code = 1;
    for (size_t i = 0; i < n; i++) {
        if (pkt[i] == 0) {
            out[code_at] = code;
            code_at = o++;
            code = 1;
        } else {
            out[o++] = pkt[i];
            if (++code == 0xFF) {
                out[code_at] = code;
                code_at = o++;
                code = 1;
            }
        }
    }
    out[code_at] = code;
    out[o++] = 0x00;
    serial_write_bytes(out, o);
}

/* A LOG line (SERIAL.md 0x8A): the shell's only way to say something on the link. */
static void host_log(uint8_t level, const char *fmt, ...) {
    uint8_t buf[1 + 200];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf((char *)buf + 1, sizeof buf - 1, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if ((size_t)n > sizeof buf - 2) n = (int)(sizeof buf - 2);
    buf[0] = level;
    serial_send_packet(MSG_LOG, buf, 1 + (size_t)n);
}

static void serial_reader_task(void *arg) {
    (void)arg;
    uint8_t buf[SERIAL_CHUNK];
    for (;;) {
        int n = serial_read_bytes(buf, sizeof buf, pdMS_TO_TICKS(20));
        if (n <= 0) continue;
        size_t off = 0;
        while (off < (size_t)n) off += xStreamBufferSend(serial_rx, buf + off, (size_t)n - off, portMAX_DELAY);
        xTaskNotify(main_task, NOTIFY_SERIAL, eSetBits);
    }
}

/* ------------------------------------------------------------------ radio interrupt */

static void IRAM_ATTR radio_irq(void) {
    BaseType_t woken = pdFALSE;
    xTaskNotifyFromISR(main_task, NOTIFY_RADIO, eSetBits, &woken);
    portYIELD_FROM_ISR(woken);
}

/* ------------------------------------------------------------------ core imports */

/* env.radio_transmit (ptr: i32, len: i32) -> i32 */
m3ApiRawFunction(h_radio_transmit) {
    m3ApiReturnType(int32_t);
    m3ApiGetArgMem(const uint8_t *, ptr);
    m3ApiGetArg(int32_t, len);
    if (len <= 0 || len > 255) m3ApiReturn(-1);
    m3ApiCheckMem(ptr, (uint32_t)len);
    int r = radio_transmit_start(ptr, (size_t)len);
    m3ApiReturn(r == 0 ? 0 : 1);
}

/* env.clock_now_ms () -> f64. Without a time source the count starts at boot (ABI.md allows it). */
m3ApiRawFunction(h_clock_now_ms) {
    m3ApiReturnType(double);
    struct timeval tv;
    gettimeofday(&tv, NULL);
    m3ApiReturn((double)tv.tv_sec * 1000.0 + (double)(tv.tv_usec / 1000));
}

/* env.random_fill (ptr: i32, len: i32) -> void */
m3ApiRawFunction(h_random_fill) {
    m3ApiGetArgMem(uint8_t *, ptr);
    m3ApiGetArg(int32_t, len);
    if (len <= 0) m3ApiSuccess();
    m3ApiCheckMem(ptr, (uint32_t)len);
    esp_fill_random(ptr, (size_t)len);
    m3ApiSuccess();
}

/* env.app_event (ptr: i32, len: i32) -> void. The shell always runs the core with serial
 * events on (config flag bit 3), so the core does not call this; should it, the event
 * goes out as its serial message (types 0x80-0x84 carry exactly the event bytes). */
m3ApiRawFunction(h_app_event) {
    m3ApiGetArgMem(const uint8_t *, ptr);
    m3ApiGetArg(int32_t, len);
    if (len <= 0) m3ApiSuccess();
    m3ApiCheckMem(ptr, (uint32_t)len);
    if (ptr[0] >= 0x80) serial_send_packet(ptr[0], ptr + 1, (size_t)len - 1);
    m3ApiSuccess();
}

/* Copies an ASCII key out of the core's memory; false when it cannot be an NVS key. */
static bool nvs_key(const uint8_t *p, int32_t len, char out[NVS_KEY_MAX + 1]) {
    if (len <= 0 || len > NVS_KEY_MAX) return false;
    for (int32_t i = 0; i < len; i++) {
        if (p[i] < 0x21 || p[i] > 0x7E) return false;
        out[i] = (char)p[i];
    }
    out[len] = '\0';
    return true;
}

/* The NVS handle a key lives in: the "store" partition for the storage layer's records
 * (prefixes of firmware/ABI.md, env.storage_put), the main NVS for everything else. */
static nvs_handle_t handle_for(const char *k) {
    static const char *const prefixes[] = { "ct.", "mail.", "fo.", "fb." };
    if (!store_ok) return nvs;
    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++) {
        if (strncmp(k, prefixes[i], strlen(prefixes[i])) == 0) return store_nvs;
    }
    return nvs;
}

/* env.storage_get (keyPtr: i32, keyLen: i32, valPtr: i32, valCap: i32) -> i32 */
m3ApiRawFunction(h_storage_get) {
    m3ApiReturnType(int32_t);
    m3ApiGetArgMem(const uint8_t *, key);
    m3ApiGetArg(int32_t, key_len);
    m3ApiGetArgMem(uint8_t *, val);
    m3ApiGetArg(int32_t, cap);
    char k[NVS_KEY_MAX + 1];
    if (key_len <= 0 || cap < 0) m3ApiReturn(-1);
    m3ApiCheckMem(key, (uint32_t)key_len);
    if (!nvs_key(key, key_len, k)) m3ApiReturn(-1);
    if (keystore_ok && keystore_handles(k)) {
        /* Secrets: the key store, so that an overwrite really erases (keystore.h). */
        if (cap > 0) m3ApiCheckMem(val, (uint32_t)cap);
        int32_t r = keystore_get(k, val, (size_t)cap);
        if (r != -1) m3ApiReturn(r);
        /* Not there: an older firmware may have kept it in NVS. Move it over (once). */
        size_t legacy = 0;
        if (nvs_get_blob(nvs, k, NULL, &legacy) != ESP_OK) m3ApiReturn(-1);
        if (legacy > (size_t)cap) m3ApiReturn(-2);
        if (legacy > 0 && nvs_get_blob(nvs, k, val, &legacy) != ESP_OK) m3ApiReturn(-1);
        if (keystore_put(k, val, legacy) == 0) {
            nvs_erase_key(nvs, k);
            nvs_commit(nvs);
        }
        m3ApiReturn((int32_t)legacy);
    }
    nvs_handle_t h = handle_for(k);
    size_t size = 0;
    if (nvs_get_blob(h, k, NULL, &size) != ESP_OK) m3ApiReturn(-1);
    if (size > (size_t)cap) m3ApiReturn(-2);
    if (size > 0) {
        m3ApiCheckMem(val, (uint32_t)size);
        if (nvs_get_blob(h, k, val, &size) != ESP_OK) m3ApiReturn(-1);
    }
    m3ApiReturn((int32_t)size);
}

/* env.storage_put (keyPtr: i32, keyLen: i32, valPtr: i32, valLen: i32) -> i32 */
m3ApiRawFunction(h_storage_put) {
    m3ApiReturnType(int32_t);
    m3ApiGetArgMem(const uint8_t *, key);
    m3ApiGetArg(int32_t, key_len);
    m3ApiGetArgMem(const uint8_t *, val);
    m3ApiGetArg(int32_t, val_len);
    char k[NVS_KEY_MAX + 1];
    if (key_len <= 0 || val_len < 0) m3ApiReturn(-1);
    m3ApiCheckMem(key, (uint32_t)key_len);
    if (val_len > 0) m3ApiCheckMem(val, (uint32_t)val_len);
    if (!nvs_key(key, key_len, k)) m3ApiReturn(-1);
    if (keystore_ok && keystore_handles(k)) {
        /* New value in the other sector, then the old sector erased (keystore.c). */
        m3ApiReturn(keystore_put(k, val, (size_t)val_len) == 0 ? 0 : -1);
    }
    nvs_handle_t h = handle_for(k);
    if (nvs_set_blob(h, k, val, (size_t)val_len) != ESP_OK) m3ApiReturn(-1);
    if (nvs_commit(h) != ESP_OK) m3ApiReturn(-1);
    if (strcmp(k, CONFIG_KEY) == 0 && val_len <= CONFIG_MAX) {
        /* CONFIG_SET: the core restarted itself with this config; the radio follows after the call. */
        memcpy(stored_config, val, (size_t)val_len);
        stored_config_len = (size_t)val_len;
        config_changed = true;
    }
    m3ApiReturn(0);
}

/* env.serial_write (ptr: i32, len: i32) -> void: whole frames for the USB line. */
m3ApiRawFunction(h_serial_write) {
    m3ApiGetArgMem(const uint8_t *, ptr);
    m3ApiGetArg(int32_t, len);
    if (len <= 0) m3ApiSuccess();
    m3ApiCheckMem(ptr, (uint32_t)len);
    serial_write_bytes(ptr, (size_t)len);
    m3ApiSuccess();
}

/* ------------------------------------------------------------------ loading the core */

/* The verified payload of the cores partition, mapped into the address space; NULL when
 * the partition is missing, empty or does not match its hash. */
static const uint8_t *cores_partition_wasm(size_t *len) {
    const esp_partition_t *part =
        esp_partition_find_first(ESP_PARTITION_TYPE_DATA, (esp_partition_subtype_t)CORES_PARTITION_SUBTYPE, CORES_PARTITION_LABEL);
    if (part == NULL) {
        host_log(LOG_WARNING, "no cores partition: using the built-in node.wasm");
        return NULL;
    }
    uint8_t hdr[CORES_HEADER_LEN];
    if (esp_partition_read(part, 0, hdr, sizeof hdr) != ESP_OK) return NULL;
    if (memcmp(hdr, CORES_MAGIC, 4) != 0) {
        host_log(LOG_INFO, "cores partition is empty: using the built-in node.wasm");
        return NULL;
    }
    uint16_t version = (uint16_t)(hdr[4] | hdr[5] << 8);
    if (version != CORES_FORMAT_VERSION) {
        host_log(LOG_ERROR, "cores partition: format version %u, this firmware knows %d: using the built-in node.wasm", version, CORES_FORMAT_VERSION);
        return NULL;
    }
    uint32_t size = (uint32_t)hdr[8] | (uint32_t)hdr[9] << 8 | (uint32_t)hdr[10] << 16 | (uint32_t)hdr[11] << 24;
    if (size < 8 || size > part->size - CORES_HEADER_LEN) {
        host_log(LOG_ERROR, "cores partition: payload size %" PRIu32 " does not fit: using the built-in node.wasm", size);
        return NULL;
    }
    const void *map = NULL;
    esp_partition_mmap_handle_t handle;
    if (esp_partition_mmap(part, 0, CORES_HEADER_LEN + size, ESP_PARTITION_MMAP_DATA, &map, &handle) != ESP_OK) {
        host_log(LOG_ERROR, "cores partition: cannot map it: using the built-in node.wasm");
        return NULL;
    }
    const uint8_t *payload = (const uint8_t *)map + CORES_HEADER_LEN;
    uint8_t digest[32];
    if (mbedtls_sha256(payload, size, digest, 0) != 0 || memcmp(digest, hdr + 12, 32) != 0) {
        esp_partition_munmap(handle);
        host_log(LOG_ERROR, "cores partition: SHA-256 mismatch: using the built-in node.wasm");
        return NULL;
    }
    if (memcmp(payload, "\0asm", 4) != 0) {
        esp_partition_munmap(handle);
        host_log(LOG_ERROR, "cores partition: payload is not WebAssembly: using the built-in node.wasm");
        return NULL;
    }
    *len = size; /* the mapping stays for the life of the program: wasm3 reads the bytes in place */
    return payload;
}

static bool check(M3Result r, const char *what) {
    if (r == m3Err_none) return true;
    host_log(LOG_ERROR, "%s: %s", what, r);
    return false;
}

/* Parses, loads and links a node core; false (and logged) on any error. */
static bool load_core(IM3Environment env, const uint8_t *wasm, size_t len) {
    runtime = m3_NewRuntime(env, WASM3_STACK_BYTES, NULL);
    if (runtime == NULL) {
        host_log(LOG_ERROR, "wasm3: no memory for the runtime");
        return false;
    }
    IM3Module mod;
    if (!check(m3_ParseModule(env, &mod, wasm, (uint32_t)len), "m3_ParseModule")) goto fail;
    if (!check(m3_LoadModule(runtime, mod), "m3_LoadModule")) {
        m3_FreeModule(mod);
        goto fail;
    }
    /* Every import of node.wasm (firmware/ABI.md); test/firmware/imports.test.ts checks this list. */
    if (!check(m3_LinkRawFunction(mod, "env", "radio_transmit", "i(ii)", &h_radio_transmit), "link radio_transmit")) goto fail;
    if (!check(m3_LinkRawFunction(mod, "env", "clock_now_ms", "F()", &h_clock_now_ms), "link clock_now_ms")) goto fail;
    if (!check(m3_LinkRawFunction(mod, "env", "random_fill", "v(ii)", &h_random_fill), "link random_fill")) goto fail;
    if (!check(m3_LinkRawFunction(mod, "env", "app_event", "v(ii)", &h_app_event), "link app_event")) goto fail;
    if (!check(m3_LinkRawFunction(mod, "env", "storage_get", "i(iiii)", &h_storage_get), "link storage_get")) goto fail;
    if (!check(m3_LinkRawFunction(mod, "env", "storage_put", "i(iiii)", &h_storage_put), "link storage_put")) goto fail;
    if (!check(m3_LinkRawFunction(mod, "env", "serial_write", "v(ii)", &h_serial_write), "link serial_write")) goto fail;

    if (!check(m3_FindFunction(&fn_io_buffer_ptr, runtime, "io_buffer_ptr"), "find io_buffer_ptr")) goto fail;
    if (!check(m3_FindFunction(&fn_node_init, runtime, "node_init"), "find node_init")) goto fail;
    if (!check(m3_FindFunction(&fn_node_receive, runtime, "node_receive"), "find node_receive")) goto fail;
    if (!check(m3_FindFunction(&fn_node_tx_done, runtime, "node_tx_done"), "find node_tx_done")) goto fail;
    if (!check(m3_FindFunction(&fn_node_poll, runtime, "node_poll"), "find node_poll")) goto fail;
    if (!check(m3_FindFunction(&fn_serial_receive, runtime, "serial_receive"), "find serial_receive")) goto fail;

    int32_t io = 0;
    if (!check(m3_CallV(fn_io_buffer_ptr), "io_buffer_ptr") || !check(m3_GetResultsV(fn_io_buffer_ptr, &io), "io_buffer_ptr result")) goto fail;
    uint32_t mem_size = 0;
    m3_GetMemory(runtime, &mem_size, 0);
    if (io < 0 || (uint32_t)io + 512 > mem_size) {
        host_log(LOG_ERROR, "node core: I/O buffer at %" PRId32 " outside its %" PRIu32 "-byte memory", io, mem_size);
        goto fail;
    }
    io_buffer = (uint32_t)io;
    return true;

fail:
    m3_FreeRuntime(runtime); /* frees the loaded module with it */
    runtime = NULL;
    return false;
}

/* The core's memory; re-read after each call in case it moved (it does not grow, ABI.md). */
static uint8_t *core_io(void) {
    uint32_t size = 0;
    return m3_GetMemory(runtime, &size, 0) + io_buffer;
}

static int32_t call_i32(IM3Function f, const char *what, M3Result r) {
    int32_t ret = -1;
    if (r != m3Err_none || m3_GetResultsV(f, &ret) != m3Err_none) {
        host_log(LOG_ERROR, "%s trapped: %s", what, r != m3Err_none ? r : "no result");
        return -1;
    }
    return ret;
}

/* ------------------------------------------------------------------ node config */

/* Applies the modulation of a node config (ABI.md "Config") to the radio. */
static void radio_follow_config(const uint8_t *c, size_t len) {
    if (len < 16 || c[0] != 1) return;
    uint32_t bw = (uint32_t)c[4] | (uint32_t)c[5] << 8 | (uint32_t)c[6] << 16 | (uint32_t)c[7] << 24;
    int preamble = c[8] | c[9] << 8;
    int r = radio_configure((float)bw / 1000.0f, c[1], c[2] + 4, preamble);
    if (r != 0) host_log(LOG_ERROR, "radio: modulation SF%d BW%" PRIu32 " CR4/%d refused (%d)", c[1], bw, c[2] + 4, r);
}

/* Starts the node with the stored config (CONFIG_SET) or the board's built-in one.
 * Serial events (flag bit 3) are always on: the USB line is the board's only app link. */
static bool node_start(void) {
    static const uint8_t builtin[OC_NODE_CONFIG_LEN] = OC_NODE_CONFIG_BYTES;
    uint8_t cfg[CONFIG_MAX];
    size_t len = sizeof builtin;
    size_t stored = sizeof cfg;
    bool from_store = nvs_get_blob(nvs, CONFIG_KEY, cfg, &stored) == ESP_OK && stored >= 16 && stored <= CONFIG_MAX;
    if (from_store) {
        len = stored;
    } else {
        memcpy(cfg, builtin, sizeof builtin);
    }
    cfg[12] |= 8;
    for (int attempt = 0; attempt < 2; attempt++) {
        memcpy(core_io(), cfg, len);
        int32_t r = call_i32(fn_node_init, "node_init", m3_CallV(fn_node_init, (int32_t)io_buffer, (int32_t)len));
        if (r == 0) {
            radio_follow_config(cfg, len);
            host_log(LOG_INFO, "node started on %s config (%s, %s)", from_store ? "the stored" : "the built-in", OC_BOARD_ID, OC_REGION_ID);
            return true;
        }
        host_log(LOG_ERROR, "node_init refused the %s config (%" PRId32 ")", from_store ? "stored" : "built-in", r);
        if (!from_store) return false;
        from_store = false; /* a stored config the core refuses: fall back to the built-in one */
        len = sizeof builtin;
        memcpy(cfg, builtin, sizeof builtin);
        cfg[12] |= 8;
    }
    return false;
}

/* ------------------------------------------------------------------ main loop */

static void after_core_call(void) {
    if (config_changed) {
        config_changed = false;
        radio_follow_config(stored_config, stored_config_len);
    }
}

static uint32_t poll_node(void) {
    int32_t ms = call_i32(fn_node_poll, "node_poll", m3_CallV(fn_node_poll));
    after_core_call();
    if (ms < 0) ms = 1000;
    if (ms > POLL_MAX_MS) ms = POLL_MAX_MS;
    return (uint32_t)ms;
}

static void handle_radio(void) {
    static radio_rx_t rx;
    switch (radio_service(&rx)) {
    case RADIO_EVENT_RX:
        memcpy(core_io(), rx.data, rx.len);
        call_i32(fn_node_receive, "node_receive",
                 m3_CallV(fn_node_receive, (int32_t)io_buffer, (int32_t)rx.len, rx.rssi_dbm, rx.snr_db_x4));
        after_core_call();
        break;
    case RADIO_EVENT_TX_DONE:
        if (m3_CallV(fn_node_tx_done) != m3Err_none) host_log(LOG_ERROR, "node_tx_done trapped");
        after_core_call();
        break;
    case RADIO_EVENT_NONE:
        break;
    }
}

static void handle_serial(void) {
    uint8_t buf[SERIAL_CHUNK];
    size_t n;
    while ((n = xStreamBufferReceive(serial_rx, buf, sizeof buf, 0)) > 0) {
        memcpy(core_io(), buf, n);
        call_i32(fn_serial_receive, "serial_receive", m3_CallV(fn_serial_receive, (int32_t)io_buffer, (int32_t)n));
        after_core_call();
    }
}

static void halt(const char *why) {
    for (;;) {
        host_log(LOG_ERROR, "halted: %s", why);
        vTaskDelay(pdMS_TO_TICKS(10000));
    }
}

void app_main(void) {
    main_task = xTaskGetCurrentTaskHandle();

    /* True random numbers without Wi-Fi/Bluetooth: keep the SAR ADC entropy source on.
     * (The shell uses neither the radio subsystem nor the ADC.) */
    bootloader_random_enable();

    serial_start();
    serial_rx = xStreamBufferCreate(SERIAL_RX_BUFFER, 1);
    if (serial_rx == NULL) halt("no memory for the serial buffer");

    esp_err_t e = nvs_flash_init();
    if (e == ESP_ERR_NVS_NO_FREE_PAGES || e == ESP_ERR_NVS_NEW_VERSION_FOUND) {
        /* Erasing loses the identity: say so, a new one is created at node_init. */
        host_log(LOG_WARNING, "NVS unreadable (%s): erased; a new identity will be created", esp_err_to_name(e));
        ESP_ERROR_CHECK(nvs_flash_erase());
        e = nvs_flash_init();
    }
    if (e != ESP_OK || nvs_open(NVS_NAMESPACE, NVS_READWRITE, &nvs) != ESP_OK) halt("NVS unavailable");
    e = nvs_flash_init_partition(STORE_PARTITION_LABEL);
    if (e == ESP_ERR_NVS_NO_FREE_PAGES || e == ESP_ERR_NVS_NEW_VERSION_FOUND) {
        host_log(LOG_WARNING, "\"%s\" unreadable (%s): erased; kept mail and file blocks are lost", STORE_PARTITION_LABEL,
                 esp_err_to_name(e));
        nvs_flash_erase_partition(STORE_PARTITION_LABEL);
        e = nvs_flash_init_partition(STORE_PARTITION_LABEL);
    }
    store_ok = e == ESP_OK && nvs_open_from_partition(STORE_PARTITION_LABEL, NVS_NAMESPACE, NVS_READWRITE, &store_nvs) == ESP_OK;
    if (!store_ok) {
        host_log(LOG_WARNING, "no \"%s\" partition: contacts, kept mail and file blocks share the small main NVS",
                 STORE_PARTITION_LABEL);
    }
    keystore_ok = keystore_init();
    if (!keystore_ok) {
        host_log(LOG_WARNING, "no \"%s\" partition: identity and prekeys stay in NVS, where overwritten prekeys are not erased at once",
                 KEYS_PARTITION_LABEL);
    }

    IM3Environment env = m3_NewEnvironment();
    if (env == NULL) halt("wasm3: no memory for the environment");
    size_t wasm_len = 0;
    const uint8_t *wasm = cores_partition_wasm(&wasm_len);
    bool loaded = wasm != NULL && load_core(env, wasm, wasm_len);
    if (!loaded) {
        if (wasm != NULL) host_log(LOG_ERROR, "the cores partition's node.wasm did not load: using the built-in one");
        loaded = load_core(env, node_wasm_start, (size_t)(node_wasm_end - node_wasm_start));
    }
    if (!loaded) halt("no node core could be loaded");

    /* T-Beam: the radio's supply comes from the PMU and is off until switched on (pmu.c). */
    if (pmu_power_up(host_log) != 0) host_log(LOG_WARNING, "PMU power-up failed: the radio may be unpowered");

    int r = radio_init(radio_irq);
    if (r != 0) halt("radio did not start (check the board choice and the radio power rail)");
    host_log(LOG_INFO, "%s: %s radio at %.3f MHz, %d dBm", OC_BOARD_NAME, OC_RADIO_FAMILY_SX126X ? "SX126x" : "SX127x",
             (double)OC_LORA_FREQ_MHZ, OC_TX_POWER_DBM);

    if (!node_start()) halt("node_init failed");

    xTaskCreate(serial_reader_task, "serial_rx", 4096, NULL, tskIDLE_PRIORITY + 2, NULL);

    uint32_t wait_ms = poll_node();
    int64_t deadline = esp_timer_get_time() + (int64_t)wait_ms * 1000;
    for (;;) {
        int64_t now = esp_timer_get_time();
        TickType_t ticks = now >= deadline ? 0 : pdMS_TO_TICKS((deadline - now + 999) / 1000);
        uint32_t bits = 0;
        xTaskNotifyWait(0, UINT32_MAX, &bits, ticks);
        if (bits & NOTIFY_RADIO) handle_radio();
        if (bits & NOTIFY_SERIAL) handle_serial();
        /* After every event, and when the deadline passes: node_poll (ABI.md). */
        wait_ms = poll_node();
        deadline = esp_timer_get_time() + (int64_t)wait_ms * 1000;
    }
}
