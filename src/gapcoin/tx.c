/*
 * Transaction decoding: Bitcoin's legacy serialization and the BIP144 witness
 * form. Two passes over the same parser: the first validates and counts, the
 * second fills one allocation holding the structs and a copy of the bytes
 * they point into.
 */
#include <stdio.h>
#include <string.h>

#include "gapcoin_internal.h"

/* Smallest serialized input (32 + 4 + 1 + 4) and output (8 + 1). */
#define MIN_INPUT_SIZE 41
#define MIN_OUTPUT_SIZE 9

typedef struct counts {
    size_t inputs, outputs, witness_items;
} counts;

/* Where pass two writes; NULL members in pass one. */
typedef struct sink {
    icms_gapcoin_tx *tx;
    icms_gapcoin_txin *inputs;
    icms_gapcoin_txout *outputs;
    icms_gapcoin_slice *witness;
} sink;

static int fail_at(int rc, const char *part, size_t index)
{
    char prefix[48];
    snprintf(prefix, sizeof prefix, "tx %s %zu", part, index);
    return icms__error_wrap(rc, prefix);
}

static int parse_inputs(icms__reader *r, size_t n, sink *out)
{
    int rc;
    for (size_t i = 0; i < n; i++) {
        const uint8_t *prev, *script;
        uint32_t vout, sequence;
        size_t len;
        if ((rc = icms__read_bytes(r, 32, &prev, "prev txid")) != 0 ||
            (rc = icms__read_u32(r, &vout, "vout")) != 0 ||
            (rc = icms__read_var_bytes(r, &script, &len, "script_sig")) != 0 ||
            (rc = icms__read_u32(r, &sequence, "sequence")) != 0)
            return fail_at(rc, "input", i);
        if (out->inputs) {
            icms_gapcoin_txin *in = &out->inputs[i];
            memcpy(in->prev_txid, prev, 32);
            in->vout = vout;
            in->script_sig = script;
            in->script_sig_len = len;
            in->sequence = sequence;
            in->witness_count = 0;
            in->witness = NULL;
        }
    }
    return 0;
}

static int parse_outputs(icms__reader *r, size_t n, sink *out, int64_t *total)
{
    int rc;
    *total = 0;
    for (size_t i = 0; i < n; i++) {
        const uint8_t *script;
        uint64_t value;
        if ((rc = icms__read_u64(r, &value, "value")) != 0)
            return fail_at(rc, "output", i);
        /* Read as unsigned: a negative int64 shows up as a huge value here. */
        if (value > (uint64_t)ICMS_GAPCOIN_MAX_MONEY)
            return icms__error(ICMS_EINVALID, "tx output %zu: value %lld is out of range (0..%lld)",
                               i, (long long)(int64_t)value, (long long)ICMS_GAPCOIN_MAX_MONEY);
        if (!icms__add_i64(*total, (int64_t)value, total) || *total > ICMS_GAPCOIN_MAX_MONEY)
            return icms__error(ICMS_EINVALID, "tx output %zu: total of outputs exceeds %lld", i,
                               (long long)ICMS_GAPCOIN_MAX_MONEY);
        size_t len;
        if ((rc = icms__read_var_bytes(r, &script, &len, "script")) != 0)
            return fail_at(rc, "output", i);
        if (out->outputs) {
            out->outputs[i].value = (int64_t)value;
            out->outputs[i].script = script;
            out->outputs[i].script_len = len;
        }
    }
    return 0;
}

static int parse_witness(icms__reader *r, size_t n_inputs, sink *out, size_t *items)
{
    int rc;
    bool any = false;
    *items = 0;
    for (size_t i = 0; i < n_inputs; i++) {
        uint64_t count;
        if ((rc = icms__read_compact(r, icms__reader_left(r), &count, "witness item count")) != 0)
            return fail_at(rc, "witness of input", i);
        if (out->inputs) {
            out->inputs[i].witness_count = (size_t)count;
            out->inputs[i].witness = count ? out->witness + *items : NULL;
        }
        any |= count > 0;
        for (uint64_t k = 0; k < count; k++) {
            size_t len;
            const uint8_t *item;
            if ((rc = icms__read_var_bytes(r, &item, &len, "witness item")) != 0)
                return fail_at(rc, "witness of input", i);
            if (out->witness) {
                out->witness[*items].bytes = item;
                out->witness[*items].bytes_len = len;
            }
            (*items)++;
        }
    }
    /* The witness form with an all-empty witness is a second encoding of the same tx. */
    if (!any)
        return icms__error(ICMS_EINVALID, "tx: witness form with an empty witness");
    return 0;
}

/* One pass over a transaction at r; fills *c, and *out's members when set. */
static int parse(icms__reader *r, counts *c, sink *out)
{
    size_t start = r->pos;
    uint32_t version;
    int rc;
    if ((rc = icms__read_u32(r, &version, "tx version")) != 0)
        return rc;
    bool witness = false;
    if (icms__reader_left(r) >= 1 && r->bytes[r->pos] == 0) {
        /* Zero inputs would be invalid anyway, so a 0 here is the BIP144 marker. */
        if (icms__reader_left(r) < 2 || r->bytes[r->pos + 1] != 1)
            return icms__error(ICMS_EINVALID,
                               "tx: zero inputs, or witness marker without flag 1 "
                               "at offset %zu",
                               r->pos - start);
        witness = true;
        r->pos += 2;
    }
    uint64_t n_in, n_out;
    if ((rc = icms__read_compact(r, ICMS_GAPCOIN_MAX_COMPACT_SIZE, &n_in, "tx input count")) != 0)
        return rc;
    if (n_in == 0)
        return icms__error(ICMS_EINVALID, "tx: no inputs");
    if (n_in > icms__reader_left(r) / MIN_INPUT_SIZE)
        return icms__error(ICMS_EINVALID, "tx: %llu inputs cannot fit in the %zu bytes left",
                           (unsigned long long)n_in, icms__reader_left(r));
    if ((rc = parse_inputs(r, (size_t)n_in, out)) != 0)
        return rc;
    if ((rc = icms__read_compact(r, ICMS_GAPCOIN_MAX_COMPACT_SIZE, &n_out, "tx output count")) != 0)
        return rc;
    if (n_out == 0)
        return icms__error(ICMS_EINVALID, "tx: no outputs");
    if (n_out > icms__reader_left(r) / MIN_OUTPUT_SIZE)
        return icms__error(ICMS_EINVALID, "tx: %llu outputs cannot fit in the %zu bytes left",
                           (unsigned long long)n_out, icms__reader_left(r));
    int64_t total;
    if ((rc = parse_outputs(r, (size_t)n_out, out, &total)) != 0)
        return rc;
    size_t outputs_end = r->pos;
    size_t items = 0;
    if (witness && (rc = parse_witness(r, (size_t)n_in, out, &items)) != 0)
        return rc;
    uint32_t locktime;
    if ((rc = icms__read_u32(r, &locktime, "tx locktime")) != 0)
        return rc;
    size_t size = r->pos - start;
    if (size > ICMS_GAPCOIN_TX_MAX_SIZE)
        return icms__error(ICMS_ELIMIT, "tx: %zu bytes exceeds %d", size, ICMS_GAPCOIN_TX_MAX_SIZE);
    c->inputs = (size_t)n_in;
    c->outputs = (size_t)n_out;
    c->witness_items = items;
    if (out->tx) {
        icms_gapcoin_tx *tx = out->tx;
        const uint8_t *b = r->bytes + start;
        tx->version = (int32_t)version;
        tx->locktime = locktime;
        tx->size = size;
        tx->has_witness = witness;
        tx->input_count = (size_t)n_in;
        tx->inputs = out->inputs;
        tx->output_count = (size_t)n_out;
        tx->outputs = out->outputs;
        tx->total_out = total;
        icms_gapcoin_sha256d(b, size, tx->wtxid);
        if (witness) {
            /* Non-witness form: version, then inputs and outputs, then locktime. */
            size_t mid = outputs_end - start - 6;
            tx->base_size = 4 + mid + 4;
            icms__sha256d3(b, 4, b + 6, mid, b + size - 4, 4, tx->txid);
        } else {
            tx->base_size = size;
            memcpy(tx->txid, tx->wtxid, 32);
        }
    }
    return 0;
}

/* Round up so that each array in the single allocation is aligned for its type. */
static size_t align8(size_t n)
{
    return (n + 7) & ~(size_t)7;
}

int icms__tx_parse(icms__reader *r, icms_gapcoin_tx **out)
{
    *out = NULL;
    size_t start = r->pos;
    counts c;
    sink none = {NULL, NULL, NULL, NULL};
    int rc = parse(r, &c, &none);
    if (rc != 0) {
        r->pos = start;
        return rc;
    }
    size_t size = r->pos - start;
    /* Counts are bounded by the bytes they were read from, so these cannot overflow. */
    size_t at_in = align8(sizeof(icms_gapcoin_tx));
    size_t at_out = at_in + align8(c.inputs * sizeof(icms_gapcoin_txin));
    size_t at_wit = at_out + align8(c.outputs * sizeof(icms_gapcoin_txout));
    size_t at_bytes = at_wit + align8(c.witness_items * sizeof(icms_gapcoin_slice));
    uint8_t *block = icms__malloc(at_bytes + size);
    if (!block) {
        r->pos = start;
        return ICMS_ENOMEM;
    }
    memset(block, 0, at_bytes);
    memcpy(block + at_bytes, r->bytes + start, size);
    sink fill = {(icms_gapcoin_tx *)block, (icms_gapcoin_txin *)(block + at_in),
                 (icms_gapcoin_txout *)(block + at_out),
                 c.witness_items ? (icms_gapcoin_slice *)(block + at_wit) : NULL};
    /* The second pass reads the copy, so every pointer it stores is into the block. */
    icms__reader copy = {block + at_bytes, size, 0};
    rc = parse(&copy, &c, &fill);
    if (rc != 0) {
        icms__free(block);
        r->pos = start;
        return icms__error(ICMS_ERROR, "tx: second pass disagreed with the first");
    }
    *out = (icms_gapcoin_tx *)block;
    return 0;
}

int icms_gapcoin_tx_decode(const uint8_t *bytes, size_t bytes_len, icms_gapcoin_tx **out)
{
    if (!out)
        return icms__error(ICMS_EINVALID, "tx: out is NULL");
    *out = NULL;
    if (!bytes && bytes_len)
        return icms__error(ICMS_EINVALID, "tx: bytes is NULL");
    if (bytes_len > ICMS_GAPCOIN_TX_MAX_SIZE)
        return icms__error(ICMS_ELIMIT, "tx: %zu bytes exceeds %d", bytes_len,
                           ICMS_GAPCOIN_TX_MAX_SIZE);
    icms__reader r = {bytes, bytes_len, 0};
    icms_gapcoin_tx *tx;
    int rc = icms__tx_parse(&r, &tx);
    if (rc != 0)
        return rc;
    if (r.pos != bytes_len) {
        icms_gapcoin_tx_free(tx);
        return icms__error(ICMS_EINVALID, "tx: %zu trailing bytes after the transaction",
                           bytes_len - r.pos);
    }
    *out = tx;
    return 0;
}

void icms_gapcoin_tx_free(icms_gapcoin_tx *tx)
{
    icms__free(tx);
}

int icms_gapcoin_tx_is_coinbase(const icms_gapcoin_tx *tx)
{
    if (!tx || tx->input_count != 1 || tx->inputs[0].vout != 0xffffffff)
        return 0;
    for (size_t i = 0; i < 32; i++)
        if (tx->inputs[0].prev_txid[i])
            return 0;
    return 1;
}
