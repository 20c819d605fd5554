/*
 * The payment check: what did a transaction pay to a script, and how sure are
 * we of it?
 *
 * The node is asked for the raw bytes only. They are decoded here; the txid
 * is recomputed (so the node cannot answer with another transaction) and the
 * amount is summed from the decoded outputs (so the node's JSON amounts and
 * addresses play no part). In SPV mode inclusion in the block the node names
 * is proved with a merkle proof and the block header's proof of work.
 */
#include <string.h>

#include "core/core.h"
#include "rpc/rpc_internal.h"

static const char *const STATUS_NAMES[] = {"NOT_FOUND", "UNCONFIRMED", "CONFIRMED", "INSUFFICIENT",
                                           "CONFLICTED"};

const char *icms_rpc_payment_status_name(icms_rpc_payment_status_t status)
{
    if ((int)status < 0 || (size_t)status >= ICMS__ARRAY_LEN(STATUS_NAMES))
        return "UNKNOWN";
    return STATUS_NAMES[status];
}

void icms_rpc_payment_free(icms_rpc_payment *payment)
{
    if (!payment)
        return;
    icms__free(payment->vouts);
    icms__free(payment);
}

/* The expected script, from the query's bytes or address; *owned is set when it must be freed. */
static int expected_script(const icms_rpc_payment_query *q, const uint8_t **script, size_t *len,
                           uint8_t **owned)
{
    *owned = NULL;
    if (q->script) {
        if (q->script_len == 0 || q->script_len > 10000)
            return icms__error(ICMS_EINVALID, "payment check: script length %zu is out of range",
                               q->script_len);
        *script = q->script;
        *len = q->script_len;
        return ICMS_OK;
    }
    if (!q->address)
        return icms__error(ICMS_EINVALID, "payment check: give a script or an address");
    int rc = icms_gapcoin_address_to_script(q->address, q->network, owned, len);
    if (rc < 0)
        return icms__error_wrap(rc, "payment check: address");
    *script = *owned;
    return ICMS_OK;
}

static int check_query(const icms_rpc_payment_query *q)
{
    if (q->version != ICMS_RPC_PAYMENT_QUERY_VERSION)
        return icms__error(ICMS_EVERSION, "payment query version %u is not supported", q->version);
    if (!icms__rpc_is_hash(q->txid))
        return icms__error(ICMS_EINVALID, "payment check: txid must be 64 hex characters");
    if (q->block_hash && !icms__rpc_is_hash(q->block_hash))
        return icms__error(ICMS_EINVALID, "payment check: block_hash must be 64 hex characters");
    if (q->min_amount < 0)
        return icms__error(ICMS_EINVALID, "payment check: min_amount is negative");
    if (q->min_confirmations < 0)
        return icms__error(ICMS_EINVALID, "payment check: min_confirmations is negative");
    if (q->verify != ICMS_RPC_VERIFY_RPC && q->verify != ICMS_RPC_VERIFY_SPV)
        return icms__error(ICMS_EINVALID, "payment check: unknown verify mode %d", (int)q->verify);
    if (q->verify == ICMS_RPC_VERIFY_SPV && q->min_confirmations > ICMS_RPC_SPV_MAX_DEPTH)
        return icms__error(ICMS_EINVALID, "payment check: SPV verifies at most %d confirmations",
                           ICMS_RPC_SPV_MAX_DEPTH);
    if (!icms_gapcoin_params_get(q->network))
        return icms__error(ICMS_EINVALID, "payment check: unknown network %d", (int)q->network);
    return ICMS_OK;
}

/* A codec failure on the node's data is corruption; running out of memory is not. */
static int node_data_error(int rc, const char *what)
{
    return icms__error_wrap(rc == ICMS_ENOMEM ? ICMS_ENOMEM : ICMS_ECORRUPT, what);
}

static bool is_coinbase(const icms_gapcoin_tx *tx)
{
    static const uint8_t zero[32] = {0};
    return tx->input_count == 1 && tx->inputs[0].vout == 0xffffffffu &&
           memcmp(tx->inputs[0].prev_txid, zero, 32) == 0;
}

/* Sum the decoded outputs paying script; remember which. */
static int sum_outputs(const icms_gapcoin_tx *tx, const uint8_t *script, size_t script_len,
                       icms_rpc_payment *p)
{
    for (size_t i = 0; i < tx->output_count; i++) {
        const icms_gapcoin_txout *o = &tx->outputs[i];
        if (o->script_len != script_len || memcmp(o->script, script, script_len) != 0)
            continue;
        if (!icms__add_i64(p->amount, o->value, &p->amount))
            return icms__error(ICMS_ECORRUPT, "payment check: output values overflow");
        uint32_t *v = icms__realloc(p->vouts, (p->vout_count + 1) * sizeof *v);
        if (!v)
            return ICMS_ENOMEM;
        p->vouts = v;
        p->vouts[p->vout_count++] = (uint32_t)i;
    }
    return ICMS_OK;
}

/* Inclusion by gettxoutproof; *header receives the proof's header. */
static int prove_with_proof(const uint8_t *proof_bytes, size_t proof_len, const uint8_t txid[32],
                            icms_gapcoin_header *header)
{
    icms_gapcoin_merkle_proof *proof = NULL;
    int rc = icms_gapcoin_merkle_proof_verify(proof_bytes, proof_len, &proof);
    if (rc < 0)
        return node_data_error(rc, "payment check: the node's merkle proof");
    if (!icms_gapcoin_merkle_proof_contains(proof, txid))
        rc = icms__error(ICMS_ECORRUPT, "payment check: the merkle proof does not prove this txid");
    else
        *header = proof->header;
    icms_gapcoin_merkle_proof_free(proof);
    return rc;
}

/* Inclusion by the whole block (0.9.x has no gettxoutproof): the decoder checks its merkle root. */
static int prove_with_block(const uint8_t *block_bytes, size_t block_len, const uint8_t txid[32],
                            icms_gapcoin_header *header)
{
    icms_gapcoin_block *block = NULL;
    int rc = icms_gapcoin_block_decode(block_bytes, block_len, &block);
    if (rc < 0)
        return node_data_error(rc, "payment check: the node's block");
    rc = icms__error(ICMS_ECORRUPT, "payment check: the block does not hold this txid");
    for (size_t i = 0; i < block->tx_count; i++) {
        if (memcmp(block->txs[i]->txid, txid, 32) == 0) {
            *header = block->header;
            rc = ICMS_OK;
            break;
        }
    }
    icms_gapcoin_block_free(block);
    return rc;
}

static uint64_t difficulty_floor(const icms_rpc_payment_query *q)
{
    return q->min_difficulty ? q->min_difficulty
                             : icms_gapcoin_params_get(q->network)->min_difficulty;
}

/* The header at height from the node, checked against the hash the node gives for that height. */
static int fetch_header(icms_rpc_client *c, int64_t height, icms_gapcoin_header *out)
{
    char *hash = NULL;
    uint8_t *bytes = NULL;
    size_t len = 0;
    int rc = icms_rpc_getblockhash(c, height, &hash);
    if (rc == ICMS_OK)
        rc = icms_rpc_getblockheader_raw(c, hash, &bytes, &len);
    if (rc == ICMS_OK) {
        uint8_t want[32];
        rc = icms_gapcoin_header_decode(bytes, len, out);
        if (rc < 0)
            rc = node_data_error(rc, "payment check: header");
        else if (icms_gapcoin_hash_from_hex(hash, want) < 0 || memcmp(want, out->hash, 32) != 0)
            rc = icms__error(ICMS_ECORRUPT,
                             "payment check: the header at height %lld is not block %s",
                             (long long)height, hash);
    }
    icms__free(hash);
    icms__free(bytes);
    return rc;
}

/*
 * Prove the depth instead of trusting it: the headers from the transaction's
 * block up to the depth needed must form a valid chain (links, retarget,
 * median time, proof of work) at no less than the difficulty floor. The node
 * chooses which chain to show us; what it cannot do is show one without
 * spending the work.
 */
static int verify_depth(icms_rpc_client *c, const icms_rpc_payment_query *q,
                        const icms_gapcoin_header *first, int64_t depth, icms_rpc_payment *p)
{
    int64_t count = p->confirmations < depth ? p->confirmations : depth;
    if (count < 1)
        count = 1;
    int64_t tip = 0;
    int rc = icms_rpc_getblockcount(c, &tip);
    if (rc < 0)
        return rc;
    int64_t height = tip - p->confirmations + 1;
    if (height < 0)
        return icms__error(ICMS_ECORRUPT, "payment check: %lld confirmations on a chain of %lld",
                           (long long)p->confirmations, (long long)tip + 1);
    icms_gapcoin_header *headers = icms__calloc((size_t)count, sizeof *headers);
    if (!headers)
        return ICMS_ENOMEM;
    /* The block must still be at the height its confirmations imply (no block arrived meanwhile). */
    rc = fetch_header(c, height, &headers[0]);
    if (rc == ICMS_OK && memcmp(headers[0].hash, first->hash, 32) != 0)
        rc = icms__error(ICMS_ECONFLICT,
                         "payment check: the chain changed during the check; run it again");
    uint64_t floor = difficulty_floor(q);
    for (int64_t i = 1; rc == ICMS_OK && i < count; i++) {
        rc = fetch_header(c, height + i, &headers[i]);
        if (rc == ICMS_OK && headers[i].n_difficulty < floor)
            rc = icms__error(ICMS_ECORRUPT,
                             "payment check: header at height %lld has difficulty %llu, below %llu",
                             (long long)(height + i), (unsigned long long)headers[i].n_difficulty,
                             (unsigned long long)floor);
    }
    if (rc == ICMS_ENOTFOUND)
        rc = icms__error(ICMS_ECONFLICT,
                         "payment check: the chain changed during the check; run it again");
    if (rc == ICMS_OK) {
        icms_gapcoin_chain_options opts = ICMS_GAPCOIN_CHAIN_OPTIONS_INIT;
        opts.network = q->network;
        opts.first_height = height;
        icms_gapcoin_chain_result res;
        rc = icms_gapcoin_chain_verify_headers(headers, (size_t)count, &opts, &res);
        if (rc < 0)
            rc = node_data_error(rc, "payment check: headers above the block");
        else
            p->verified_depth = count;
    }
    icms__free(headers);
    return rc;
}

static int verify_spv(icms_rpc_client *c, const icms_rpc_payment_query *q, const uint8_t txid[32],
                      int64_t depth, icms_rpc_payment *p)
{
    uint8_t *bytes = NULL;
    size_t len = 0;
    icms_gapcoin_header header;
    int rc = icms_rpc_gettxoutproof(c, q->txid, p->blockhash, &bytes, &len);
    if (rc == ICMS_OK) {
        rc = prove_with_proof(bytes, len, txid, &header);
    } else if (rc == ICMS_EVERSION) {
        rc = icms_rpc_getblock_raw(c, p->blockhash, &bytes, &len);
        if (rc == ICMS_OK)
            rc = prove_with_block(bytes, len, txid, &header);
    }
    icms__free(bytes);
    if (rc == ICMS_ENOTFOUND)
        return icms__error(ICMS_ECONFLICT,
                           "payment check: the chain changed during the check; run it again");
    if (rc < 0)
        return rc;

    uint8_t named[32];
    if (icms_gapcoin_hash_from_hex(p->blockhash, named) < 0 || memcmp(named, header.hash, 32) != 0)
        return icms__error(ICMS_ECORRUPT,
                           "payment check: the proof is for another block than the node named");
    uint64_t floor = difficulty_floor(q);
    /* Without a floor, a header with difficulty 0 would "prove" anything at no cost. */
    if (header.n_difficulty < floor)
        return icms__error(ICMS_ECORRUPT,
                           "payment check: block difficulty %llu is below the accepted %llu",
                           (unsigned long long)header.n_difficulty, (unsigned long long)floor);
    rc = icms_gapcoin_pow_check(&header, &p->pow);
    if (rc < 0)
        return node_data_error(rc, "payment check: block proof of work");
    rc = verify_depth(c, q, &header, depth, p);
    if (rc < 0)
        return rc;
    p->spv_verified = 1;
    return ICMS_OK;
}

static int run_check(icms_rpc_client *c, const icms_rpc_payment_query *q, const uint8_t *script,
                     size_t script_len, icms_rpc_payment *p)
{
    icms_rpc_tx *node_tx = NULL;
    int rc = q->block_hash ? icms_rpc_getrawtransaction_in_block(c, q->txid, q->block_hash, &node_tx)
                           : icms_rpc_getrawtransaction(c, q->txid, &node_tx);
    if (rc == ICMS_ENOTFOUND) {
        p->status = ICMS_RPC_PAYMENT_NOT_FOUND;
        return ICMS_OK;
    }
    if (rc < 0)
        return rc;
    icms_gapcoin_tx *tx = NULL;
    rc = icms_gapcoin_tx_decode(node_tx->raw, node_tx->raw_len, &tx);
    if (rc < 0) {
        icms_rpc_tx_free(node_tx);
        return node_data_error(rc, "payment check: the node's raw transaction");
    }
    uint8_t asked[32];
    char computed[ICMS_GAPCOIN_HASH_HEX_SIZE];
    icms_gapcoin_hash_to_hex(tx->txid, computed);
    if (icms_gapcoin_hash_from_hex(q->txid, asked) < 0 || memcmp(asked, tx->txid, 32) != 0) {
        rc = icms__error(ICMS_ECORRUPT, "payment check: asked for txid %s, the node's bytes hash to %s",
                         q->txid, computed);
        goto done;
    }
    p->confirmations = node_tx->confirmations;
    if (node_tx->in_block)
        memcpy(p->blockhash, node_tx->blockhash, sizeof p->blockhash);
    p->is_coinbase = is_coinbase(tx);
    rc = sum_outputs(tx, script, script_len, p);
    if (rc < 0)
        goto done;

    int64_t depth = q->min_confirmations;
    if (p->is_coinbase && depth < ICMS_RPC_COINBASE_MATURITY)
        depth = ICMS_RPC_COINBASE_MATURITY;
    bool in_best_chain = node_tx->in_block && node_tx->confirmations >= 1;
    if (q->verify == ICMS_RPC_VERIFY_SPV && in_best_chain) {
        rc = verify_spv(c, q, asked, depth, p);
        if (rc < 0)
            goto done;
    }
    if (node_tx->confirmations < 0 || (node_tx->in_block && node_tx->confirmations == 0))
        p->status = ICMS_RPC_PAYMENT_CONFLICTED;
    else if (p->vout_count == 0 || p->amount < q->min_amount)
        p->status = ICMS_RPC_PAYMENT_INSUFFICIENT;
    else if (node_tx->confirmations < depth)
        p->status = ICMS_RPC_PAYMENT_UNCONFIRMED;
    else
        p->status = ICMS_RPC_PAYMENT_CONFIRMED;
done:
    icms_gapcoin_tx_free(tx);
    icms_rpc_tx_free(node_tx);
    return rc;
}

int icms_rpc_check_payment(icms_rpc_client *client, const icms_rpc_payment_query *query,
                           icms_rpc_payment **out)
{
    if (!client || !query || !out)
        return icms__error(ICMS_EINVALID, "payment check: NULL argument");
    *out = NULL;
    int rc = check_query(query);
    if (rc < 0)
        return rc;
    const uint8_t *script = NULL;
    size_t script_len = 0;
    uint8_t *owned = NULL;
    rc = expected_script(query, &script, &script_len, &owned);
    if (rc < 0)
        return rc;
    icms_rpc_payment *p = icms__calloc(1, sizeof *p);
    if (!p) {
        icms__free(owned);
        return ICMS_ENOMEM;
    }
    rc = run_check(client, query, script, script_len, p);
    icms__free(owned);
    if (rc < 0) {
        icms_rpc_payment_free(p);
        return rc;
    }
    *out = p;
    return ICMS_OK;
}
