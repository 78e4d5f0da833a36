/* Secret store on a dedicated raw flash partition ("keys", data, subtype 0x41, two 4 KiB
 * sectors), for the storage keys whose old values must really be gone after an overwrite
 * (firmware/ABI.md env.storage_put: `prekeys`, and `id.seed`). NVS cannot promise that: it
 * marks an overwritten entry erased and leaves its bytes in flash until the page is
 * recycled. Here every write goes to the other sector (sequence number + SHA-256), and
 * then the sector that held the old values is erased with esp_partition_erase_range.
 * Written against ESP-IDF 5.x, never compiled here. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KEYS_PARTITION_LABEL "keys"
#define KEYS_PARTITION_SUBTYPE 0x41
#define KEYS_SECTOR_SIZE 4096

/* Whether `key` lives in the key store (not NVS): "id.seed" and "prekeys". */
bool keystore_handles(const char *key);

/* Finds the partition and picks the valid sector with the higher sequence number.
 * false: no "keys" partition (an older partition table): the caller falls back to NVS. */
bool keystore_init(void);

/* Copies the value of `key` to `out`: its length, -1 absent (or store unavailable), -2 larger than `cap`. */
int32_t keystore_get(const char *key, uint8_t *out, size_t cap);

/* Stores `key` (replacing its value, keeping the other keys): 0 done, -1 failed (nothing
 * changed: the old sector is erased only after the new one was written and read back). */
int32_t keystore_put(const char *key, const uint8_t *val, size_t len);
