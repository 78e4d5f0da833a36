/* Host test of firmware/esp32/main/keystore.c against a RAM flash with NOR semantics
 * (an erase sets a 4 KiB sector to 0xFF, a write can only clear bits), with injected
 * failures standing in for power cuts. Built and run by test/firmware/keystore.test.ts.
 * The SHA-256 stand-in is a non-cryptographic 32-byte digest: this tests the record
 * logic (sequence, checksum, erase order), not mbedTLS. Prints "ok <name>" per check and
 * exits 1 at the first failure. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "esp_partition.h"
#include "keystore.h"
#include "mbedtls/sha256.h"

#define SECTOR 4096
#define FLASH_SIZE (2 * SECTOR)

static uint8_t flash[FLASH_SIZE];
static esp_partition_t keys_part = {ESP_PARTITION_TYPE_DATA, 0x41, 0x1D0000, FLASH_SIZE, "keys"};
static int have_partition = 1;
static int fail_erase_at = -1;  /* the n-th erase from now fails (-1: none) */
static int fail_write_at = -1;
static int erases, writes;

const esp_partition_t *esp_partition_find_first(esp_partition_type_t type, esp_partition_subtype_t subtype, const char *label) {
    if (!have_partition || type != ESP_PARTITION_TYPE_DATA || subtype != 0x41 || strcmp(label, "keys") != 0) return NULL;
    return &keys_part;
}
esp_err_t esp_partition_read(const esp_partition_t *p, size_t off, void *dst, size_t size) {
    if (p != &keys_part || off + size > FLASH_SIZE) return ESP_FAIL;
    memcpy(dst, flash + off, size);
    return ESP_OK;
}
esp_err_t esp_partition_write(const esp_partition_t *p, size_t off, const void *src, size_t size) {
    if (p != &keys_part || off + size > FLASH_SIZE) return ESP_FAIL;
    if (fail_write_at >= 0 && fail_write_at-- == 0) {
        /* A power cut half way: only the first half of the bytes made it. */
        for (size_t i = 0; i < size / 2; i++) flash[off + i] &= ((const uint8_t *)src)[i];
        return ESP_FAIL;
    }
    writes++;
    for (size_t i = 0; i < size; i++) flash[off + i] &= ((const uint8_t *)src)[i]; /* NOR: bits only go 1 -> 0 */
    return ESP_OK;
}
esp_err_t esp_partition_erase_range(const esp_partition_t *p, size_t off, size_t size) {
    if (p != &keys_part || off % SECTOR != 0 || size % SECTOR != 0 || off + size > FLASH_SIZE) return ESP_FAIL;
    if (fail_erase_at >= 0 && fail_erase_at-- == 0) return ESP_FAIL;
    erases++;
    memset(flash + off, 0xFF, size);
    return ESP_OK;
}
int mbedtls_sha256(const unsigned char *in, size_t n, unsigned char out[32], int is224) {
    (void)is224;
    uint64_t h = 1469598103934665603ull;
    for (int k = 0; k < 4; k++) {
        for (size_t i = 0; i < n; i++) { h ^= in[i] + (uint64_t)k; h *= 1099511628211ull; }
        for (int b = 0; b < 8; b++) out[k * 8 + b] = (uint8_t)(h >> (8 * b));
    }
    return 0;
}

#define CHECK(name, cond) do { if (cond) printf("ok %s\n", name); else { printf("FAIL %s (line %d)\n", name, __LINE__); exit(1); } } while (0)

/* How many times `needle` occurs anywhere in the flash. */
static int occurrences(const uint8_t *needle, size_t n) {
    int c = 0;
    for (size_t i = 0; i + n <= FLASH_SIZE; i++) if (memcmp(flash + i, needle, n) == 0) c++;
    return c;
}

/* Distinct pseudo-random bytes per seed (xorshift), so no value is a shifted copy of another. */
static void fill(uint8_t *p, size_t n, uint32_t seed) {
    uint32_t x = seed * 2654435761u + 1;
    for (size_t i = 0; i < n; i++) { x ^= x << 13; x ^= x >> 17; x ^= x << 5; p[i] = (uint8_t)x; }
}

int main(void) {
    uint8_t a[104], b[104], c[104], seed[32], got[128];
    fill(a, sizeof a, 1); fill(b, sizeof b, 2); fill(c, sizeof c, 3); fill(seed, sizeof seed, 4);
    memset(flash, 0xFF, sizeof flash);

    CHECK("routes id.seed and prekeys, nothing else", keystore_handles("id.seed") && keystore_handles("prekeys") && !keystore_handles("config") && !keystore_handles("prekey"));
    CHECK("an erased partition holds no record", keystore_init() && keystore_get("prekeys", got, sizeof got) == -1);

    CHECK("put prekeys", keystore_put("prekeys", a, sizeof a) == 0);
    CHECK("get prekeys", keystore_get("prekeys", got, sizeof got) == (int)sizeof a && memcmp(got, a, sizeof a) == 0);
    CHECK("put id.seed keeps prekeys", keystore_put("id.seed", seed, sizeof seed) == 0 &&
          keystore_get("prekeys", got, sizeof got) == (int)sizeof a && memcmp(got, a, sizeof a) == 0 &&
          keystore_get("id.seed", got, sizeof got) == 32 && memcmp(got, seed, 32) == 0);
    CHECK("a value larger than the buffer: -2", keystore_get("prekeys", got, 50) == -2);
    CHECK("an absent key: -1", keystore_get("other", got, sizeof got) == -1);

    CHECK("overwrite prekeys", keystore_put("prekeys", b, sizeof b) == 0 && keystore_get("prekeys", got, sizeof got) == (int)sizeof b && memcmp(got, b, sizeof b) == 0);
    CHECK("the old prekeys are physically gone from the flash", occurrences(a, sizeof a) == 0);
    CHECK("the current values are on flash exactly once", occurrences(b, sizeof b) == 1 && occurrences(seed, sizeof seed) == 1);
    CHECK("one sector is erased (all 0xFF) after a write", occurrences((const uint8_t *)"OCKS", 4) == 1);

    CHECK("survives a restart (init picks the record)", keystore_init() && keystore_get("prekeys", got, sizeof got) == (int)sizeof b && memcmp(got, b, sizeof b) == 0);

    /* Power cut after the new record is written, before the old sector is erased. */
    erases = 0;
    fail_erase_at = 1; /* the first erase (the target sector) works, the second (the old one) fails */
    CHECK("a failed erase of the old sector still stores the new value", keystore_put("prekeys", c, sizeof c) == 0);
    CHECK("then both records are on flash", occurrences(b, sizeof b) == 1 && occurrences(c, sizeof c) == 1);
    CHECK("after a restart the higher sequence wins", keystore_init() && keystore_get("prekeys", got, sizeof got) == (int)sizeof c && memcmp(got, c, sizeof c) == 0);
    CHECK("the next write erases the stale record first", keystore_put("prekeys", a, sizeof a) == 0 && occurrences(b, sizeof b) == 0 && occurrences(c, sizeof c) == 0 && occurrences(a, sizeof a) == 1);

    /* Power cut while writing: the half-written new record is erased, the old one stands. */
    fail_write_at = 0;
    CHECK("a failed write returns -1", keystore_put("prekeys", b, sizeof b) == -1);
    CHECK("the old value stands", keystore_get("prekeys", got, sizeof got) == (int)sizeof a && memcmp(got, a, sizeof a) == 0);
    CHECK("no part of the new value is left", occurrences(b, 16) == 0);
    CHECK("and after a restart too", keystore_init() && keystore_get("prekeys", got, sizeof got) == (int)sizeof a && memcmp(got, a, sizeof a) == 0);

    /* A torn record (power cut in the middle of a write the driver reported as done). */
    for (size_t i = 0; i < FLASH_SIZE; i++) if (memcmp(flash + i, "OCKS", 4) == 0) { flash[i + 20] ^= 0x01; break; }
    CHECK("a record whose digest does not match is ignored", keystore_init() && keystore_get("prekeys", got, sizeof got) == -1);
    CHECK("and the store works again after it", keystore_put("prekeys", c, sizeof c) == 0 && keystore_get("prekeys", got, sizeof got) == (int)sizeof c);

    have_partition = 0;
    CHECK("no keys partition: init false, get -1, put -1", !keystore_init() && keystore_get("prekeys", got, sizeof got) == -1 && keystore_put("prekeys", a, sizeof a) == -1);
    (void)writes;
    printf("done\n");
    return 0;
}
