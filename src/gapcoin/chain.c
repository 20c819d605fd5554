/*
 * Header-chain verification: links, retarget, median time past and proof of
 * work, header by header. Only what the next header needs is kept (the last
 * two headers' difficulty and times, the last 11 times), so serialized
 * chains are checked as a stream.
 */
#include <stdio.h>
#include <string.h>

#include "gapcoin_internal.h"

typedef struct chain {
    const icms_gapcoin_params *params;
    int64_t first_height;                    /* -1 when unknown */
    size_t index;                            /* headers accepted so far */
    icms_gapcoin_header prev;                /* valid when index > 0 */
    uint32_t times[ICMS_GAPCOIN_MTP_WINDOW]; /* ring of the last times */
    icms_gapcoin_chain_result result;
} chain;

static bool all_zero(const uint8_t *p, size_t n)
{
    uint8_t acc = 0;
    for (size_t i = 0; i < n; i++)
        acc |= p[i];
    return acc == 0;
}

static uint32_t median_time_past(const chain *c)
{
    size_t n = c->index < ICMS_GAPCOIN_MTP_WINDOW ? c->index : ICMS_GAPCOIN_MTP_WINDOW;
    uint32_t t[ICMS_GAPCOIN_MTP_WINDOW];
    memcpy(t, c->times, n * sizeof t[0]);
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && t[j - 1] > t[j]; j--) {
            uint32_t tmp = t[j];
            t[j] = t[j - 1];
            t[j - 1] = tmp;
        }
    return t[n / 2];
}

/* Time of the header before prev, from the ring (valid when index >= 2). */
static uint32_t time_before_prev(const chain *c)
{
    return c->times[(c->index - 2) % ICMS_GAPCOIN_MTP_WINDOW];
}

static int check_next(chain *c, const icms_gapcoin_header *h)
{
    size_t i = c->index;
    char hex[ICMS_GAPCOIN_HASH_HEX_SIZE];
    if (i == 0 && all_zero(h->prev_hash, 32)) {
        if (c->first_height > 0)
            return icms__error(ICMS_EINVALID, "a genesis header cannot be at height %lld",
                               (long long)c->first_height);
        c->first_height = 0;
        if (memcmp(h->hash, c->params->genesis_hash, 32) != 0) {
            icms_gapcoin_hash_to_hex(h->hash, hex);
            return icms__error(ICMS_EINVALID, "header %s is not the %snet genesis", hex,
                               c->params->name);
        }
    }
    if (i == 0 && c->first_height == 0 && !all_zero(h->prev_hash, 32))
        return icms__error(ICMS_EINVALID, "a header at height 0 must be the genesis");
    if (i > 0) {
        if (memcmp(h->prev_hash, c->prev.hash, 32) != 0)
            return icms__error(ICMS_EINVALID, "prev_hash does not link to the previous header");
        /* Height of prev, when known; the timespan is the target near genesis. */
        int64_t prev_height = c->first_height >= 0 ? c->first_height + (int64_t)i - 1 : -1;
        bool near_genesis = prev_height >= 0 && prev_height < 2;
        if (near_genesis || i >= 2) {
            int64_t span = near_genesis ? ICMS_GAPCOIN_TARGET_SPACING
                                        : (int64_t)c->prev.time - (int64_t)time_before_prev(c);
            uint64_t want;
            int rc =
                icms_gapcoin_next_difficulty(c->params->network, c->prev.n_difficulty, span, &want);
            if (rc != 0)
                return rc;
            if (h->n_difficulty != want)
                return icms__error(ICMS_EINVALID,
                                   "n_difficulty %llu differs from the retarget %llu",
                                   (unsigned long long)h->n_difficulty, (unsigned long long)want);
        }
        uint32_t mtp = median_time_past(c);
        if (h->time <= mtp)
            return icms__error(ICMS_EINVALID, "time %u is not after the median time past %u",
                               h->time, mtp);
    }
    icms_gapcoin_pow pow;
    int rc = icms_gapcoin_pow_check(h, &pow);
    if (rc != 0)
        return rc;
    c->result.total_work = c->result.total_work > UINT64_MAX - pow.achieved
                               ? UINT64_MAX
                               : c->result.total_work + pow.achieved;
    c->prev = *h;
    c->times[i % ICMS_GAPCOIN_MTP_WINDOW] = h->time;
    c->index++;
    c->result.count = c->index;
    memcpy(c->result.tip, h->hash, 32);
    return 0;
}

static int chain_start(chain *c, const icms_gapcoin_chain_options *options)
{
    memset(c, 0, sizeof *c);
    icms_gapcoin_chain_options defaults = ICMS_GAPCOIN_CHAIN_OPTIONS_INIT;
    if (!options)
        options = &defaults;
    if (options->version != ICMS_GAPCOIN_CHAIN_OPTIONS_VERSION)
        return icms__error(ICMS_EVERSION, "chain: options version %u is not %d", options->version,
                           ICMS_GAPCOIN_CHAIN_OPTIONS_VERSION);
    c->params = icms_gapcoin_params_get(options->network);
    if (!c->params)
        return icms__error(ICMS_EINVALID, "chain: unknown network %d", (int)options->network);
    if (options->first_height < -1)
        return icms__error(ICMS_EINVALID, "chain: first_height %lld is negative",
                           (long long)options->first_height);
    c->first_height = options->first_height;
    return 0;
}

static int chain_fail(chain *c, int rc, icms_gapcoin_chain_result *out)
{
    char prefix[40];
    snprintf(prefix, sizeof prefix, "chain: header %zu", c->index);
    c->result.failed_index = c->index;
    if (out)
        *out = c->result;
    return icms__error_wrap(rc, prefix);
}

int icms_gapcoin_chain_verify_headers(const icms_gapcoin_header *headers, size_t count,
                                      const icms_gapcoin_chain_options *options,
                                      icms_gapcoin_chain_result *out)
{
    if (out)
        memset(out, 0, sizeof *out);
    chain c;
    int rc = chain_start(&c, options);
    if (rc != 0)
        return rc;
    if (!headers || count == 0)
        return icms__error(ICMS_EINVALID, "chain: no headers");
    for (size_t i = 0; i < count; i++)
        if ((rc = check_next(&c, &headers[i])) != 0)
            return chain_fail(&c, rc, out);
    if (out)
        *out = c.result;
    return 0;
}

int icms_gapcoin_chain_verify(const uint8_t *bytes, size_t bytes_len,
                              const icms_gapcoin_chain_options *options,
                              icms_gapcoin_chain_result *out)
{
    if (out)
        memset(out, 0, sizeof *out);
    chain c;
    int rc = chain_start(&c, options);
    if (rc != 0)
        return rc;
    if (!bytes || bytes_len == 0)
        return icms__error(ICMS_EINVALID, "chain: no headers");
    icms__reader r = {bytes, bytes_len, 0};
    while (icms__reader_left(&r) > 0) {
        if (c.index >= ICMS_GAPCOIN_CHAIN_MAX) {
            c.result.failed_index = c.index;
            if (out)
                *out = c.result;
            return icms__error(ICMS_ELIMIT, "chain: more than %u headers", ICMS_GAPCOIN_CHAIN_MAX);
        }
        icms_gapcoin_header h;
        if ((rc = icms__header_parse(&r, &h)) != 0 || (rc = check_next(&c, &h)) != 0)
            return chain_fail(&c, rc, out);
    }
    if (out)
        *out = c.result;
    return 0;
}
