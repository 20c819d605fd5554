/* The demo's simulated Gapcoin node: see sim.h. */
#include "sim.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jbuf.h"
#include "jread.h"

#define SIM_START_TIME 1764547200u /* 2025-12-01T00:00:00Z */
#define SIM_SUBSIDY (INT64_C(50) * ICMS_GAPCOIN_COIN)

typedef struct sim_tx {
    uint8_t *raw;
    size_t len;
    uint8_t txid[32];
    int64_t height; /* -1 while in the mempool */
} sim_tx;

typedef struct sim_block {
    uint8_t header[ICMS_GAPCOIN_HEADER_MAX_SIZE];
    size_t header_len;
    uint8_t hash[32];
    uint32_t time;
    size_t first_tx; /* index into the chain's txs */
    size_t tx_count;
} sim_block;

struct sim_chain {
    icms_gapcoin_network_t network;
    sim_tx *txs;
    size_t ntx, captx;
    sim_block *blocks;
    size_t nblocks, capblocks;
    sim_tx *mempool; /* transactions waiting for a block */
    size_t nmempool, capmempool;
    unsigned next_address;
    unsigned next_spend; /* which coinbase output the wallet spends next */
    unsigned long calls;
};

/* ---- serialization ---- */

typedef struct wbuf {
    uint8_t *b;
    size_t len, cap;
    int failed;
} wbuf;

static void put(wbuf *w, const void *p, size_t n)
{
    if (w->failed)
        return;
    if (w->len + n > w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 256;
        while (cap < w->len + n)
            cap *= 2;
        uint8_t *b = realloc(w->b, cap);
        if (!b) {
            w->failed = 1;
            return;
        }
        w->b = b;
        w->cap = cap;
    }
    memcpy(w->b + w->len, p, n);
    w->len += n;
}

static void put_u32(wbuf *w, uint32_t v)
{
    uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    put(w, b, 4);
}

static void put_u64(wbuf *w, uint64_t v)
{
    put_u32(w, (uint32_t)v);
    put_u32(w, (uint32_t)(v >> 32));
}

static void put_compact(wbuf *w, uint64_t n)
{
    uint8_t b;
    if (n < 0xfd) {
        b = (uint8_t)n;
        put(w, &b, 1);
    } else if (n <= 0xffff) {
        uint8_t x[3] = {0xfd, (uint8_t)n, (uint8_t)(n >> 8)};
        put(w, x, 3);
    } else {
        b = 0xfe;
        put(w, &b, 1);
        put_u32(w, (uint32_t)n);
    }
}

static void put_script(wbuf *w, const uint8_t *s, size_t n)
{
    put_compact(w, n);
    put(w, s, n);
}

/* The P2PKH script of a label's key: the demo's stand-in for a wallet key. */
static void label_script(const char *label, uint8_t script[25])
{
    uint8_t h[20];
    icms_gapcoin_hash160((const uint8_t *)label, strlen(label), h);
    script[0] = 0x76; /* OP_DUP */
    script[1] = 0xa9; /* OP_HASH160 */
    script[2] = 20;
    memcpy(script + 3, h, 20);
    script[23] = 0x88; /* OP_EQUALVERIFY */
    script[24] = 0xac; /* OP_CHECKSIG */
}

/* Keep a serialized transaction: its txid comes from the library's own decoder. */
static int keep_tx(wbuf *w, sim_tx *out)
{
    if (w->failed) {
        free(w->b);
        return ICMS_ENOMEM;
    }
    icms_gapcoin_tx *tx = NULL;
    int rc = icms_gapcoin_tx_decode(w->b, w->len, &tx);
    if (rc) {
        free(w->b);
        return rc;
    }
    memcpy(out->txid, tx->txid, 32);
    icms_gapcoin_tx_free(tx);
    out->raw = w->b;
    out->len = w->len;
    out->height = -1;
    return ICMS_OK;
}

static int coinbase(int64_t height, sim_tx *out)
{
    wbuf w = {0};
    put_u32(&w, 1); /* version */
    put_compact(&w, 1);
    uint8_t zero[32] = {0};
    put(&w, zero, 32);
    put_u32(&w, 0xffffffffu);
    /* BIP34-style height push, then a tag */
    uint8_t sig[20] = {3, (uint8_t)height, (uint8_t)(height >> 8), (uint8_t)(height >> 16)};
    memcpy(sig + 4, "icms demo miner", 15);
    put_script(&w, sig, 19);
    put_u32(&w, 0xffffffffu);
    put_compact(&w, 1);
    put_u64(&w, (uint64_t)SIM_SUBSIDY);
    uint8_t script[25];
    label_script("icms-demo-miner", script);
    put_script(&w, script, sizeof script);
    put_u32(&w, 0); /* locktime */
    return keep_tx(&w, out);
}

static int push_tx(sim_tx **arr, size_t *n, size_t *cap, const sim_tx *tx)
{
    if (*n == *cap) {
        size_t c = *cap ? *cap * 2 : 16;
        sim_tx *a = realloc(*arr, c * sizeof *a);
        if (!a)
            return ICMS_ENOMEM;
        *arr = a;
        *cap = c;
    }
    (*arr)[(*n)++] = *tx;
    return ICMS_OK;
}

/* One block on top of the chain, holding a coinbase and the mempool. */
static int mine_one(sim_chain *c)
{
    if (c->nblocks == c->capblocks) {
        size_t cap = c->capblocks ? c->capblocks * 2 : 16;
        sim_block *b = realloc(c->blocks, cap * sizeof *b);
        if (!b)
            return ICMS_ENOMEM;
        c->blocks = b;
        c->capblocks = cap;
    }
    int64_t height = (int64_t)c->nblocks;
    sim_tx cb;
    int rc = coinbase(height, &cb);
    if (rc)
        return rc;
    cb.height = height;
    size_t first = c->ntx;
    if ((rc = push_tx(&c->txs, &c->ntx, &c->captx, &cb)) != ICMS_OK) {
        free(cb.raw);
        return rc;
    }
    for (size_t i = 0; i < c->nmempool; i++) {
        c->mempool[i].height = height;
        if ((rc = push_tx(&c->txs, &c->ntx, &c->captx, &c->mempool[i])) != ICMS_OK)
            return rc;
    }
    c->nmempool = 0;
    size_t count = c->ntx - first;
    uint8_t *ids = malloc(32 * count);
    if (!ids)
        return ICMS_ENOMEM;
    for (size_t i = 0; i < count; i++)
        memcpy(ids + 32 * i, c->txs[first + i].txid, 32);

    icms_gapcoin_header h;
    memset(&h, 0, sizeof h);
    h.version = 2;
    if (c->nblocks)
        memcpy(h.prev_hash, c->blocks[c->nblocks - 1].hash, 32);
    rc = icms_gapcoin_merkle_root(ids, 32 * count, h.merkle_root, NULL);
    free(ids);
    if (rc)
        return rc;
    h.time = SIM_START_TIME + (uint32_t)height * ICMS_GAPCOIN_TARGET_SPACING;
    h.n_difficulty = icms_gapcoin_params_get(c->network)->min_difficulty;
    h.nonce = (uint32_t)height;
    h.shift = 20;
    h.adder_len = 3;
    h.adder[0] = (uint8_t)height;
    h.adder[1] = 0x5a;
    h.adder[2] = 0x0c;
    uint8_t *bytes = NULL;
    size_t len = 0;
    rc = icms_gapcoin_header_encode(&h, &bytes, &len);
    if (rc)
        return rc;
    sim_block *blk = &c->blocks[c->nblocks];
    memcpy(blk->header, bytes, len);
    blk->header_len = len;
    icms_free(bytes);
    icms_gapcoin_header decoded;
    rc = icms_gapcoin_header_decode(blk->header, blk->header_len, &decoded);
    if (rc)
        return rc;
    memcpy(blk->hash, decoded.hash, 32);
    blk->time = h.time;
    blk->first_tx = first;
    blk->tx_count = count;
    c->nblocks++;
    return ICMS_OK;
}

sim_chain *sim_new(icms_gapcoin_network_t network)
{
    sim_chain *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->network = network;
    if (mine_one(c) != ICMS_OK) {
        sim_free(c);
        return NULL;
    }
    return c;
}

void sim_free(sim_chain *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->ntx; i++)
        free(c->txs[i].raw);
    for (size_t i = 0; i < c->nmempool; i++)
        free(c->mempool[i].raw);
    free(c->txs);
    free(c->mempool);
    free(c->blocks);
    free(c);
}

int sim_mine(sim_chain *c, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        int rc = mine_one(c);
        if (rc)
            return rc;
    }
    return ICMS_OK;
}

int64_t sim_height(const sim_chain *c)
{
    return (int64_t)c->nblocks - 1;
}

unsigned long sim_calls(const sim_chain *c)
{
    return c->calls;
}

int sim_pay(sim_chain *c, const char *address, int64_t amount, char txid_hex[65])
{
    uint8_t *script = NULL;
    size_t script_len = 0;
    int rc = icms_gapcoin_address_to_script(address, c->network, &script, &script_len);
    if (rc)
        return rc;
    /* The wallet spends one of the miner's coinbase outputs: 50 GAP each. */
    const sim_tx *funding = &c->txs[c->blocks[c->next_spend % c->nblocks].first_tx];
    c->next_spend++;
    wbuf w = {0};
    put_u32(&w, 2); /* version */
    put_compact(&w, 1);
    put(&w, funding->txid, 32);
    put_u32(&w, 0);
    /* A signature-shaped push and a compressed key: nobody checks them here. */
    uint8_t sig[1 + 71 + 1 + 33];
    sig[0] = 71;
    memset(sig + 1, 0x30, 71);
    sig[72] = 33;
    sig[73] = 0x02;
    memset(sig + 74, 0x5c, 32);
    put_script(&w, sig, sizeof sig);
    put_u32(&w, 0xfffffffeu);
    int64_t change = SIM_SUBSIDY - amount - 10000; /* fee 0.0001 GAP */
    put_compact(&w, change > 0 ? 2 : 1);
    put_u64(&w, (uint64_t)amount);
    put_script(&w, script, script_len);
    if (change > 0) {
        uint8_t change_script[25];
        label_script("icms-demo-wallet-change", change_script);
        put_u64(&w, (uint64_t)change);
        put_script(&w, change_script, sizeof change_script);
    }
    put_u32(&w, (uint32_t)sim_height(c)); /* locktime: the current height, as wallets do */
    icms_free(script);
    sim_tx tx;
    rc = keep_tx(&w, &tx);
    if (rc)
        return rc;
    rc = push_tx(&c->mempool, &c->nmempool, &c->capmempool, &tx);
    if (rc) {
        free(tx.raw);
        return rc;
    }
    icms_gapcoin_hash_to_hex(tx.txid, txid_hex);
    return ICMS_OK;
}

int sim_wallet_address(sim_chain *c, const char *label, char **out)
{
    uint8_t h[20];
    icms_gapcoin_hash160((const uint8_t *)label, strlen(label), h);
    return icms_gapcoin_base58check_encode(icms_gapcoin_params_get(c->network)->p2pkh_version, h,
                                           sizeof h, out);
}

/* ---- JSON-RPC ---- */

static void hash_value(jbuf *b, const uint8_t hash[32])
{
    char hex[ICMS_GAPCOIN_HASH_HEX_SIZE];
    icms_gapcoin_hash_to_hex(hash, hex);
    jbuf_str(b, hex);
}

/* An amount as a node writes it: GAP with 8 decimals, from the integer. */
static void amount_value(jbuf *b, int64_t units)
{
    jbuf_printf(b, "%s%" PRId64 ".%08" PRId64, b->need_comma ? "," : "", units / ICMS_GAPCOIN_COIN,
                units % ICMS_GAPCOIN_COIN);
    b->need_comma = true;
}

static const sim_block *find_block(const sim_chain *c, const char *hex)
{
    uint8_t hash[32];
    if (!hex || icms_gapcoin_hash_from_hex(hex, hash) != ICMS_OK)
        return NULL;
    for (size_t i = 0; i < c->nblocks; i++)
        if (memcmp(c->blocks[i].hash, hash, 32) == 0)
            return &c->blocks[i];
    return NULL;
}

static const sim_tx *find_tx(const sim_chain *c, const char *hex)
{
    uint8_t id[32];
    if (!hex || icms_gapcoin_hash_from_hex(hex, id) != ICMS_OK)
        return NULL;
    for (size_t i = 0; i < c->ntx; i++)
        if (memcmp(c->txs[i].txid, id, 32) == 0)
            return &c->txs[i];
    for (size_t i = 0; i < c->nmempool; i++)
        if (memcmp(c->mempool[i].txid, id, 32) == 0)
            return &c->mempool[i];
    return NULL;
}

/* getrawtransaction TXID 1, in the shape of a 0.16.3 node. */
static int raw_transaction(const sim_chain *c, const sim_tx *t, jbuf *b)
{
    icms_gapcoin_tx *tx = NULL;
    int rc = icms_gapcoin_tx_decode(t->raw, t->len, &tx);
    if (rc)
        return rc;
    jbuf_obj_open(b);
    jbuf_khex(b, "hex", t->raw, t->len);
    jbuf_key(b, "txid");
    hash_value(b, tx->txid);
    jbuf_key(b, "hash");
    hash_value(b, tx->wtxid);
    jbuf_ki64(b, "version", tx->version);
    jbuf_ku64(b, "size", tx->size);
    jbuf_ku64(b, "locktime", tx->locktime);
    jbuf_key(b, "vout");
    jbuf_arr_open(b);
    for (size_t i = 0; i < tx->output_count; i++) {
        const icms_gapcoin_txout *o = &tx->outputs[i];
        jbuf_obj_open(b);
        jbuf_key(b, "value");
        amount_value(b, o->value);
        jbuf_ku64(b, "n", i);
        jbuf_key(b, "scriptPubKey");
        jbuf_obj_open(b);
        jbuf_khex(b, "hex", o->script, o->script_len);
        jbuf_kstr(b, "type", "pubkeyhash");
        char *address = NULL;
        if (icms_gapcoin_script_to_address(o->script, o->script_len, c->network,
                                           ICMS_GAPCOIN_NODE_0_16, &address) == ICMS_OK) {
            jbuf_key(b, "addresses");
            jbuf_arr_open(b);
            jbuf_str(b, address);
            jbuf_arr_close(b);
        }
        icms_free(address);
        jbuf_obj_close(b);
        jbuf_obj_close(b);
    }
    jbuf_arr_close(b);
    if (t->height >= 0) {
        const sim_block *blk = &c->blocks[t->height];
        jbuf_key(b, "blockhash");
        hash_value(b, blk->hash);
        jbuf_ki64(b, "confirmations", sim_height(c) - t->height + 1);
        jbuf_ku64(b, "time", blk->time);
        jbuf_ku64(b, "blocktime", blk->time);
    }
    jbuf_obj_close(b);
    icms_gapcoin_tx_free(tx);
    return ICMS_OK;
}

/* Answer one call into b (the result value); or a node error code and message. */
static int answer(sim_chain *c, const char *method, const jval *params, jbuf *b, int *node_code,
                  const char **node_message)
{
    const jval *p0 = jat(params, 0);
    const char *s0 = p0 && p0->type == J_STRING ? p0->text : NULL;
    if (strcmp(method, "getblockcount") == 0) {
        jbuf_i64(b, sim_height(c));
    } else if (strcmp(method, "getblockhash") == 0) {
        int64_t h;
        if (!jval_i64(p0, &h) || h < 0 || h > sim_height(c)) {
            *node_code = -8;
            *node_message = "Block height out of range";
            return -1;
        }
        hash_value(b, c->blocks[h].hash);
    } else if (strcmp(method, "getblockheader") == 0 || strcmp(method, "getblock") == 0) {
        const sim_block *blk = find_block(c, s0);
        if (!blk) {
            *node_code = -5;
            *node_message = "Block not found";
            return -1;
        }
        if (method[8] == 'h') {
            jbuf_hex(b, blk->header, blk->header_len);
        } else {
            wbuf w = {0};
            put(&w, blk->header, blk->header_len);
            put_compact(&w, blk->tx_count);
            for (size_t i = 0; i < blk->tx_count; i++)
                put(&w, c->txs[blk->first_tx + i].raw, c->txs[blk->first_tx + i].len);
            if (w.failed)
                return ICMS_ENOMEM;
            jbuf_hex(b, w.b, w.len);
            free(w.b);
        }
    } else if (strcmp(method, "getrawtransaction") == 0) {
        const sim_tx *t = find_tx(c, s0);
        if (!t) {
            *node_code = -5;
            *node_message = "No such mempool or blockchain transaction";
            return -1;
        }
        return raw_transaction(c, t, b);
    } else if (strcmp(method, "getnewaddress") == 0) {
        char label[64];
        snprintf(label, sizeof label, "icms-demo-address-%u", c->next_address++);
        char *address = NULL;
        int rc = sim_wallet_address(c, label, &address);
        if (rc)
            return rc;
        jbuf_str(b, address);
        icms_free(address);
    } else {
        *node_code = -32601;
        *node_message = "Method not found";
        return -1;
    }
    return ICMS_OK;
}

static int sim_post(icms_transport *t, const icms_transport_request *req, int *status,
                    uint8_t **body, size_t *body_len)
{
    sim_chain *c = t->payload;
    c->calls++;
    jval *call = jread_parse((const char *)req->body, req->body_len);
    const char *method = jstr(call, "method");
    const jval *id = jget(call, "id");
    jbuf b;
    jbuf_init(&b);
    int node_code = 0;
    const char *node_message = NULL;
    int rc = ICMS_OK;
    jbuf_obj_open(&b);
    jbuf_key(&b, "result");
    if (!method) {
        node_code = -32600;
        node_message = "Invalid request";
        jbuf_null(&b);
    } else {
        jbuf res;
        jbuf_init(&res);
        rc = answer(c, method, jget(call, "params"), &res, &node_code, &node_message);
        char *text = jbuf_take(&res);
        if (rc == ICMS_OK && text)
            jbuf_json(&b, text);
        else
            jbuf_null(&b);
        if (rc == ICMS_OK && !text)
            rc = ICMS_ENOMEM;
        free(text);
        if (rc == -1)
            rc = ICMS_OK; /* a node error, answered below */
    }
    jbuf_key(&b, "error");
    if (node_code) {
        jbuf_obj_open(&b);
        jbuf_ki64(&b, "code", node_code);
        jbuf_kstr(&b, "message", node_message);
        jbuf_obj_close(&b);
    } else {
        jbuf_null(&b);
    }
    jbuf_key(&b, "id");
    if (id && id->type == J_NUMBER)
        jbuf_json(&b, id->text);
    else
        jbuf_null(&b);
    jbuf_obj_close(&b);
    jread_free(call);
    char *text = jbuf_take(&b);
    if (rc) {
        free(text);
        return rc;
    }
    if (!text)
        return ICMS_ENOMEM;
    size_t n = strlen(text);
    *body = icms_transport_alloc(n);
    if (!*body) {
        free(text);
        return ICMS_ENOMEM;
    }
    memcpy(*body, text, n);
    *body_len = n;
    *status = node_code ? 500 : 200; /* as bitcoind-family nodes answer errors */
    free(text);
    return ICMS_OK;
}

static void sim_transport_free(icms_transport *t)
{
    free(t); /* the chain belongs to the demo */
}

int sim_transport(sim_chain *chain, icms_transport **out)
{
    icms_transport *t = calloc(1, sizeof *t);
    if (!t)
        return ICMS_ENOMEM;
    *t = (icms_transport)ICMS_TRANSPORT_INIT;
    t->post = sim_post;
    t->free = sim_transport_free;
    t->payload = chain;
    *out = t;
    return ICMS_OK;
}
