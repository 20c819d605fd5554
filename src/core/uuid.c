/*
 * UUIDv7 (RFC 9562 section 5.7) with process-wide monotonicity.
 *
 * Layout: 48-bit big-endian Unix milliseconds, version 7 (4 bits), rand_a
 * (12 bits), variant 10 (2 bits), rand_b (62 bits). rand_a and rand_b
 * together are treated as one 74-bit number (RFC 9562 section 6.2, method 2,
 * "monotonic random"): a new millisecond draws it afresh with its top bit
 * clear; an id in the same millisecond, or after the clock went back, keeps
 * the previous timestamp and adds a random step of 1..2^32. With the top bit
 * clear there is room for more than 2^40 ids per millisecond; should the
 * counter still run out, the timestamp moves one millisecond ahead.
 */
#include <pthread.h>
#include <string.h>

#include <sodium.h>

#include "core.h"
#include "uuid.h"

#define TIMESTAMP_MAX ((INT64_C(1) << 48) - 1)
#define RAND_B_LIMIT (UINT64_C(1) << 62)
#define RAND_A_LIMIT (UINT32_C(1) << 12)

static pthread_mutex_t state_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
    bool have;       /* an id was made in this process */
    int64_t ms;      /* its timestamp */
    uint32_t rand_a; /* its 12-bit rand_a */
    uint64_t rand_b; /* its 62-bit rand_b */
} last;

void icms__uuid7_reset(void)
{
    pthread_mutex_lock(&state_lock);
    memset(&last, 0, sizeof last);
    pthread_mutex_unlock(&state_lock);
}

static void fresh_random(void)
{
    uint8_t r[10];
    randombytes_buf(r, sizeof r);
    last.rand_a = ((uint32_t)r[0] << 8 | r[1]) & (RAND_A_LIMIT / 2 - 1); /* top bit clear */
    uint64_t b = 0;
    for (int i = 2; i < 10; i++)
        b = b << 8 | r[i];
    last.rand_b = b & (RAND_B_LIMIT - 1);
}

/* Add a random step to the 74-bit counter; false when it would overflow. */
static bool increment(void)
{
    uint32_t step32;
    randombytes_buf(&step32, sizeof step32);
    uint64_t step = (uint64_t)step32 + 1;
    uint64_t b = last.rand_b + step; /* both < 2^62 + 2^33: no uint64 overflow */
    uint32_t a = last.rand_a;
    if (b >= RAND_B_LIMIT) {
        b -= RAND_B_LIMIT;
        if (++a >= RAND_A_LIMIT)
            return false;
    }
    last.rand_a = a;
    last.rand_b = b;
    return true;
}

int icms__uuid7_new(icms_clock *clock, uint8_t out[ICMS_UUID_BYTES])
{
    int64_t now = icms_clock_now(clock);
    if (now < 0 || now > TIMESTAMP_MAX)
        return icms__error(ICMS_EINVALID, "uuid: the clock reads %lld ms, outside the UUIDv7 range",
                           (long long)now);
    pthread_mutex_lock(&state_lock);
    if (!last.have || now > last.ms) {
        last.have = true;
        last.ms = now;
        fresh_random();
    } else if (!increment()) {
        /* 2^73 ids in one millisecond cannot happen in practice, but stay correct if it does. */
        if (last.ms == TIMESTAMP_MAX) {
            pthread_mutex_unlock(&state_lock);
            return icms__error(ICMS_ERROR, "uuid: the UUIDv7 space is exhausted");
        }
        last.ms++;
        fresh_random();
    }
    uint64_t ms = (uint64_t)last.ms;
    for (int i = 0; i < 6; i++)
        out[i] = (uint8_t)(ms >> (40 - 8 * i));
    out[6] = (uint8_t)(0x70 | (last.rand_a >> 8));
    out[7] = (uint8_t)last.rand_a;
    out[8] = (uint8_t)(0x80 | (last.rand_b >> 56));
    for (int i = 9; i < 16; i++)
        out[i] = (uint8_t)(last.rand_b >> (8 * (15 - i)));
    pthread_mutex_unlock(&state_lock);
    return ICMS_OK;
}

int64_t icms__uuid7_time_ms(const uint8_t id[ICMS_UUID_BYTES])
{
    uint64_t ms = 0;
    for (int i = 0; i < 6; i++)
        ms = ms << 8 | id[i];
    return (int64_t)ms;
}

void icms__uuid_format(const uint8_t id[ICMS_UUID_BYTES], char out[ICMS_UUID_STRING_SIZE])
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    for (int i = 0; i < ICMS_UUID_BYTES; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hex[id[i] >> 4];
        out[o++] = hex[id[i] & 0xf];
    }
    out[o] = '\0';
}

static int hex_value(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    return -1;
}

/* Where an id's 16 bytes stand in its 36 characters (each byte: two hex digits). */
static const uint8_t byte_at[ICMS_UUID_BYTES] = {0,  2,  4,  6,  9,  11, 14, 16,
                                                 19, 21, 24, 26, 28, 30, 32, 34};

/* Why a 36-character text is not a UUID (the slow path, to say which character). */
static int refuse(const char *text)
{
    for (size_t i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (text[i] != '-')
                return icms__error(ICMS_EINVALID, "invalid UUID: expected '-' at character %zu",
                                   i + 1);
        } else if (hex_value(text[i]) < 0) {
            if (text[i] >= 'A' && text[i] <= 'F')
                return icms__error(
                    ICMS_EINVALID,
                    "invalid UUID: character %zu is uppercase; ids are lowercase hex", i + 1);
            return icms__error(ICMS_EINVALID, "invalid UUID: character %zu is not a hex digit",
                               i + 1);
        }
    }
    return icms__error(ICMS_EINVALID, "invalid UUID");
}

int icms__uuid_parse(const char *text, size_t len, uint8_t out[ICMS_UUID_BYTES])
{
    if (len != 36)
        return icms__error(ICMS_EINVALID,
                           "invalid UUID: must be 36 characters (8-4-4-4-12 hex), got %zu", len);
    if (text[8] != '-' || text[13] != '-' || text[18] != '-' || text[23] != '-')
        return refuse(text);
    uint8_t id[ICMS_UUID_BYTES];
    int bad = 0; /* any digit that is not lowercase hex turns a bit on */
    for (size_t i = 0; i < ICMS_UUID_BYTES; i++) {
        int hi = hex_value(text[byte_at[i]]), lo = hex_value(text[byte_at[i] + 1]);
        bad |= hi | lo;
        id[i] = (uint8_t)(((unsigned)hi << 4) | ((unsigned)lo & 0xfu));
    }
    if (bad < 0)
        return refuse(text);
    if (id[6] >> 4 != 7)
        return icms__error(ICMS_EINVALID, "invalid UUID: version %d, expected 7", id[6] >> 4);
    if ((id[8] & 0xc0) != 0x80)
        return icms__error(ICMS_EINVALID, "invalid UUID: the variant is not RFC 9562's");
    memcpy(out, id, sizeof id);
    return ICMS_OK;
}

int icms_uuid_format(const uint8_t *bytes, size_t bytes_len, char *out, size_t out_len)
{
    if (!bytes || !out)
        return icms__error(ICMS_EINVALID, "uuid: bytes and out may not be NULL");
    if (bytes_len != ICMS_UUID_BYTES)
        return icms__error(ICMS_EINVALID, "uuid: %zu bytes, expected %d", bytes_len,
                           ICMS_UUID_BYTES);
    if (out_len < ICMS_UUID_STRING_SIZE)
        return icms__error(ICMS_EBUFS, "uuid: the buffer needs %d bytes, got %zu",
                           ICMS_UUID_STRING_SIZE, out_len);
    icms__uuid_format(bytes, out);
    return ICMS_OK;
}

int icms_uuid_parse(const char *text, uint8_t *out, size_t out_len)
{
    if (!text || !out)
        return icms__error(ICMS_EINVALID, "uuid: text and out may not be NULL");
    if (out_len < ICMS_UUID_BYTES)
        return icms__error(ICMS_EBUFS, "uuid: the buffer needs %d bytes, got %zu", ICMS_UUID_BYTES,
                           out_len);
    return icms__uuid_parse(text, strlen(text), out);
}
