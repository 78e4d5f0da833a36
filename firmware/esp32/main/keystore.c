/* Key store on the raw "keys" partition: see keystore.h for why.
 *
 * Layout: two sectors of KEYS_SECTOR_SIZE bytes; at most one holds the current record,
 * except for the moment between writing a new record and erasing the old one. A record:
 *
 *   offset  size  field
 *        0     4  magic "OCKS"
 *        4     2  format version (1), little-endian
 *        6     2  payload length n (entries), little-endian
 *        8     4  sequence number, little-endian (the higher valid one wins)
 *       12     n  entries: key length u8 (1..15), key (ASCII), value length u16 LE, value
 *     12+n    32  SHA-256 of bytes 0..12+n
 *
 * Erased flash (0xFF) has no magic, so an empty partition holds no record.
 *
 * Write (keystore_put): build the whole new record (every key, one of them replaced) in
 * RAM with sequence + 1; erase the other sector; write the record there; read it back and
 * compare; only then erase the sector with the old record, which physically removes the old
 * secrets (NOR flash: an erase sets every bit of the sector to 1). A power cut before the
 * old sector is erased leaves two valid records: the reader takes the higher sequence, and
 * the next write erases the older one first. A power cut while writing leaves a record
 * whose SHA-256 does not match: ignored, the old record stands.
 *
 * Not protected against someone who reads the flash while a secret is current (no flash
 * encryption): the point is forward secrecy, old prekeys gone once replaced. The RAM
 * buffers are wiped after use. */
#include "keystore.h"

#include <string.h>

#include "esp_partition.h"
#include "mbedtls/sha256.h"

#define MAGIC "OCKS"
#define FORMAT_VERSION 1
#define HEADER_LEN 12
#define DIGEST_LEN 32
#define PAYLOAD_MAX (KEYS_SECTOR_SIZE - HEADER_LEN - DIGEST_LEN)
#define KEY_MAX 15

static const esp_partition_t *part;
static int current = -1;  /* sector holding the current record, -1 none */
static uint32_t current_seq;
static uint8_t buf[KEYS_SECTOR_SIZE];  /* a record being read or built */
static uint8_t old[KEYS_SECTOR_SIZE];  /* the current record while a new one is built; read-back check */

static void wipe(void *p, size_t n) {
    volatile uint8_t *v = (volatile uint8_t *)p;
    while (n--) *v++ = 0;
}

bool keystore_handles(const char *key) {
    return strcmp(key, "id.seed") == 0 || strcmp(key, "prekeys") == 0;
}

static uint16_t le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t le32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }

/* Reads sector `s` into `out`; true when it holds a valid record (its payload length in *n, sequence in *seq). */
static bool read_record(int s, uint8_t *out, uint16_t *n, uint32_t *seq) {
    if (esp_partition_read(part, (size_t)s * KEYS_SECTOR_SIZE, out, KEYS_SECTOR_SIZE) != ESP_OK) return false;
    if (memcmp(out, MAGIC, 4) != 0 || le16(out + 4) != FORMAT_VERSION) return false;
    uint16_t len = le16(out + 6);
    if (len > PAYLOAD_MAX) return false;
    uint8_t digest[DIGEST_LEN];
    if (mbedtls_sha256(out, HEADER_LEN + len, digest, 0) != 0) return false;
    bool ok = memcmp(digest, out + HEADER_LEN + len, DIGEST_LEN) == 0;
    /* Entries must parse exactly to the payload length. */
    for (size_t at = HEADER_LEN; ok && at < (size_t)HEADER_LEN + len;) {
        uint8_t kl = out[at];
        if (kl == 0 || kl > KEY_MAX || at + 1 + kl + 2 > (size_t)HEADER_LEN + len) { ok = false; break; }
        uint16_t vl = le16(out + at + 1 + kl);
        at += 1 + kl + 2 + vl;
        if (at > (size_t)HEADER_LEN + len) ok = false;
    }
    if (ok) { *n = len; *seq = le32(out + 8); }
    return ok;
}

bool keystore_init(void) {
    part = esp_partition_find_first(ESP_PARTITION_TYPE_DATA, (esp_partition_subtype_t)KEYS_PARTITION_SUBTYPE, KEYS_PARTITION_LABEL);
    if (part == NULL || part->size < 2 * KEYS_SECTOR_SIZE) { part = NULL; return false; }
    current = -1;
    for (int s = 0; s < 2; s++) {
        uint16_t n;
        uint32_t seq;
        if (read_record(s, buf, &n, &seq) && (current < 0 || seq > current_seq)) { current = s; current_seq = seq; }
    }
    wipe(buf, sizeof buf);
    return true;
}

/* Finds `key` in the record in `rec` (payload length n): offset of its value length field, or 0. */
static size_t find_entry(const uint8_t *rec, uint16_t n, const char *key) {
    size_t kl = strlen(key);
    for (size_t at = HEADER_LEN; at < (size_t)HEADER_LEN + n;) {
        uint8_t l = rec[at];
        if (l == kl && memcmp(rec + at + 1, key, kl) == 0) return at + 1 + l;
        at += 1 + l + 2 + le16(rec + at + 1 + l);
    }
    return 0;
}

int32_t keystore_get(const char *key, uint8_t *out, size_t cap) {
    if (part == NULL || current < 0) return -1;
    uint16_t n;
    uint32_t seq;
    int32_t r = -1;
    if (read_record(current, buf, &n, &seq)) {
        size_t at = find_entry(buf, n, key);
        if (at != 0) {
            uint16_t vl = le16(buf + at);
            if (vl > cap) r = -2;
            else { memcpy(out, buf + at + 2, vl); r = vl; }
        }
    }
    wipe(buf, sizeof buf);
    return r;
}

int32_t keystore_put(const char *key, const uint8_t *val, size_t len) {
    size_t kl = strlen(key);
    if (part == NULL || kl == 0 || kl > KEY_MAX || len > 0xFFFF) return -1;
    /* The current record's other entries are carried over. */
    uint16_t old_n = 0;
    uint32_t seq = 0;
    if (current >= 0 && !read_record(current, old, &old_n, &seq)) { wipe(old, sizeof old); return -1; }
    size_t at = HEADER_LEN;
    for (size_t o = HEADER_LEN; o < (size_t)HEADER_LEN + old_n;) {
        uint8_t l = old[o];
        size_t entry = 1 + (size_t)l + 2 + le16(old + o + 1 + l);
        if (!(l == kl && memcmp(old + o + 1, key, kl) == 0)) { memcpy(buf + at, old + o, entry); at += entry; }
        o += entry;
    }
    wipe(old, sizeof old);
    if (at + 1 + kl + 2 + len > (size_t)HEADER_LEN + PAYLOAD_MAX) { wipe(buf, sizeof buf); return -1; }
    buf[at++] = (uint8_t)kl;
    memcpy(buf + at, key, kl); at += kl;
    buf[at++] = (uint8_t)(len & 0xFF);
    buf[at++] = (uint8_t)(len >> 8);
    memcpy(buf + at, val, len); at += len;
    uint16_t n = (uint16_t)(at - HEADER_LEN);
    uint32_t next = current >= 0 ? current_seq + 1 : 1;
    memcpy(buf, MAGIC, 4);
    buf[4] = FORMAT_VERSION & 0xFF; buf[5] = FORMAT_VERSION >> 8;
    buf[6] = (uint8_t)(n & 0xFF); buf[7] = (uint8_t)(n >> 8);
    for (int i = 0; i < 4; i++) buf[8 + i] = (uint8_t)(next >> (8 * i));
    if (mbedtls_sha256(buf, at, buf + at, 0) != 0) { wipe(buf, sizeof buf); return -1; }
    size_t total = at + DIGEST_LEN;

    int target = current == 0 ? 1 : 0;
    size_t target_off = (size_t)target * KEYS_SECTOR_SIZE;
    bool ok = esp_partition_erase_range(part, target_off, KEYS_SECTOR_SIZE) == ESP_OK &&
              esp_partition_write(part, target_off, buf, total) == ESP_OK &&
              esp_partition_read(part, target_off, old, total) == ESP_OK &&
              memcmp(old, buf, total) == 0;
    wipe(buf, sizeof buf);
    wipe(old, sizeof old);
    if (!ok) {
        /* The old record stands; do not leave a half-written copy of the new secrets behind. */
        esp_partition_erase_range(part, target_off, KEYS_SECTOR_SIZE);
        return -1;
    }
    int previous = current;
    current = target;
    current_seq = next;
    /* Now the old values are physically erased. If this fails, the next put erases that sector before writing it. */
    if (previous >= 0) esp_partition_erase_range(part, (size_t)previous * KEYS_SECTOR_SIZE, KEYS_SECTOR_SIZE);
    return 0;
}
