#include "memchain.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "core/json.h"
#include "icms/gapcoin.h"

typedef struct tx {
    char txid[65];
    char *hex;
    int64_t confirmations; /* -1 unknown (dropped), 0 mempool, >= 1 in a block */
    char blockhash[65];
} tx;

/* Open addressing over txids: the bench asks for thousands of them, and a
 * linear search would make the fixture, not the library, what it measures. */
enum { SLOTS = 2 * MEMCHAIN_MAX_TX };

struct memchain {
    tx txs[MEMCHAIN_MAX_TX];
    int count;
    int slot[SLOTS]; /* index + 1 into txs; 0 is empty */
    int next_address;
    char addresses[64][64];
    char scripts[64][64];
    /* post() may be called from several threads at once (the transport contract), and tests
     * pay, mine and drop while a tick on another thread asks: one lock for all of it. */
    pthread_mutex_t lock;
};

static size_t slot_of(const char *txid)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (; *txid; txid++)
        h = (h ^ (uint8_t)*txid) * 1099511628211ULL;
    return (size_t)(h % SLOTS);
}

static void hex_of(const uint8_t *bytes, size_t len, char *out)
{
    for (size_t i = 0; i < len; i++)
        snprintf(out + 2 * i, 3, "%02x", bytes[i]);
}

memchain *memchain_new(void)
{
    memchain *c = calloc(1, sizeof *c);
    pthread_mutex_init(&c->lock, NULL);
    for (int i = 0; i < 64; i++) {
        uint8_t h160[20];
        memset(h160, 0xA0 ^ i, sizeof h160);
        h160[0] = (uint8_t)i;
        char *address = NULL;
        icms_gapcoin_base58check_encode(38, h160, 20, &address);
        snprintf(c->addresses[i], 64, "%s", address);
        icms_free(address);
        uint8_t script[25] = {0x76, 0xa9, 20};
        memcpy(script + 3, h160, 20);
        script[23] = 0x88;
        script[24] = 0xac;
        hex_of(script, 25, c->scripts[i]);
    }
    return c;
}

void memchain_free(memchain *c)
{
    if (!c)
        return;
    for (int i = 0; i < c->count; i++)
        icms_free(c->txs[i].hex);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

const char *memchain_address(memchain *c, int n, const char **script_hex)
{
    if (script_hex)
        *script_hex = c->scripts[n % 64];
    return c->addresses[n % 64];
}

int memchain_count(const memchain *c)
{
    return c->count;
}

static int pay_unlocked(memchain *c, const char *script_hex, int64_t value, const char **txid_out)
{
    if (c->count == MEMCHAIN_MAX_TX)
        return -1;
    int i = c->count++;
    uint8_t raw[256];
    size_t len = 0;
    const uint8_t head[] = {1, 0, 0, 0, 1}; /* version 1, one input */
    memcpy(raw, head, sizeof head);
    len = sizeof head;
    memset(raw + len, 0x5a, 32); /* a previous output unique to this transaction */
    memcpy(raw + len, &i, sizeof i);
    len += 32;
    memset(raw + len, 0, 4);
    len += 4;
    raw[len++] = 1;
    raw[len++] = 0;
    memset(raw + len, 0xff, 4);
    len += 4;
    raw[len++] = 1; /* one output */
    for (int b = 0; b < 8; b++)
        raw[len++] = (uint8_t)((uint64_t)value >> (8 * b));
    size_t script_len = strlen(script_hex) / 2;
    raw[len++] = (uint8_t)script_len;
    for (size_t b = 0; b < script_len; b++) {
        unsigned int byte;
        sscanf(script_hex + 2 * b, "%2x", &byte);
        raw[len++] = (uint8_t)byte;
    }
    memset(raw + len, 0, 4);
    len += 4;
    icms_gapcoin_tx *decoded = NULL;
    if (icms_gapcoin_tx_decode(raw, len, &decoded) != 0)
        return -1;
    icms_gapcoin_hash_to_hex(decoded->txid, c->txs[i].txid);
    icms_gapcoin_tx_free(decoded);
    icms_gapcoin_hex_encode(raw, len, &c->txs[i].hex);
    c->txs[i].confirmations = 0;
    size_t s = slot_of(c->txs[i].txid);
    while (c->slot[s])
        s = (s + 1) % SLOTS;
    c->slot[s] = i + 1;
    if (txid_out)
        *txid_out = c->txs[i].txid;
    return i;
}

int memchain_pay(memchain *c, const char *script_hex, int64_t value, const char **txid_out)
{
    pthread_mutex_lock(&c->lock);
    int r = pay_unlocked(c, script_hex, value, txid_out);
    pthread_mutex_unlock(&c->lock);
    return r;
}

static void mine_unlocked(memchain *c, int blocks)
{
    static unsigned block_counter;
    for (int i = 0; i < c->count; i++) {
        tx *t = &c->txs[i];
        if (t->confirmations == 0) {
            t->confirmations = blocks;
            snprintf(t->blockhash, sizeof t->blockhash, "%064x", ++block_counter);
        } else if (t->confirmations > 0) {
            t->confirmations += blocks;
        }
    }
}

void memchain_mine(memchain *c, int blocks)
{
    pthread_mutex_lock(&c->lock);
    mine_unlocked(c, blocks);
    pthread_mutex_unlock(&c->lock);
}

static void drop_unlocked(memchain *c, int i)
{
    if (i >= 0 && i < c->count)
        c->txs[i].confirmations = -1;
}

void memchain_drop(memchain *c, int i)
{
    pthread_mutex_lock(&c->lock);
    drop_unlocked(c, i);
    pthread_mutex_unlock(&c->lock);
}

static const tx *find(const memchain *c, const char *txid)
{
    for (size_t s = slot_of(txid); c->slot[s]; s = (s + 1) % SLOTS) {
        const tx *t = &c->txs[c->slot[s] - 1];
        if (strcmp(t->txid, txid) == 0 && t->confirmations >= 0)
            return t;
    }
    return NULL;
}

/*
 * The reply's text, printed straight into out: every value is a number, a
 * constant or hex/base58 text that needs no escaping. id is the request's id
 * as written ("" for none: then the reply has none either).
 */
static int answer(memchain *c, const char *method, const char *txid, const char *id, char *out,
                  size_t size, int *status)
{
    char id_member[96] = "";
    if (id[0])
        snprintf(id_member, sizeof id_member, "\"id\":%s,", id);
    *status = 200;
    if (method && strcmp(method, "getnewaddress") == 0)
        return snprintf(out, size, "{%s\"result\":\"%s\",\"error\":null}", id_member,
                        c->addresses[c->next_address++ % 64]);
    if (method && strcmp(method, "getrawtransaction") == 0) {
        const tx *t = txid ? find(c, txid) : NULL;
        if (!t) {
            *status = 500;
            return snprintf(out, size,
                            "{%s\"result\":null,\"error\":{\"code\":-5,\"message\":"
                            "\"No such mempool or blockchain transaction\"}}",
                            id_member);
        }
        char block[160] = "";
        if (t->confirmations > 0)
            snprintf(block, sizeof block, "\"blockhash\":\"%s\",\"blocktime\":1413916000,",
                     t->blockhash);
        return snprintf(out, size,
                        "{%s\"result\":{\"hex\":\"%s\",\"txid\":\"%s\",\"confirmations\":%lld,"
                        "%s\"vout\":[]},\"error\":null}",
                        id_member, t->hex, t->txid, (long long)t->confirmations, block);
    }
    *status = 404;
    return snprintf(out, size,
                    "{%s\"result\":null,\"error\":{\"code\":-32601,\"message\":\"Method not "
                    "found\"}}",
                    id_member);
}

/* The request read with the library's own JSON reader: its method, first param and id. */
static int post(icms_transport *t, const icms_transport_request *req, int *status,
                uint8_t **body, size_t *body_len)
{
    memchain *c = t->payload;
    cJSON *request = NULL;
    if (icms__json_parse((const char *)req->body, req->body_len, NULL, &request) != ICMS_OK)
        icms_error_clear(); /* answered as a request without a method */
    const cJSON *params = icms__json_get(request, "params");
    const cJSON *first = cJSON_IsArray(params) ? params->child : NULL;
    const char *id = icms__json_number_text(icms__json_get(request, "id"));
    char text[1024];
    pthread_mutex_lock(&c->lock);
    int n = answer(c, icms__json_get_string(request, "method"),
                   cJSON_IsString(first) ? first->valuestring : NULL, id ? id : "", text,
                   sizeof text, status);
    pthread_mutex_unlock(&c->lock);
    cJSON_Delete(request);
    if (n < 0 || (size_t)n >= sizeof text)
        return -1; /* cannot happen with the fixture's own transactions */
    *body = icms_transport_alloc((size_t)n + 1);
    if (!*body)
        return ICMS_ENOMEM; /* a test failing allocations in turn reaches this one too */
    memcpy(*body, text, (size_t)n + 1);
    *body_len = (size_t)n;
    return 0;
}

static void free_transport(icms_transport *t)
{
    icms_free(t); /* the chain itself belongs to whoever made it */
}

icms_transport *memchain_transport(memchain *c)
{
    icms_transport *t = icms_transport_alloc(sizeof *t);
    *t = (icms_transport)ICMS_TRANSPORT_INIT;
    t->post = post;
    t->free = free_transport;
    t->payload = c;
    return t;
}
