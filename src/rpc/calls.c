/* The node calls a payment verifier needs, with each generation's shapes smoothed over. */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "core/core.h"
#include "rpc/rpc_internal.h"

#define MAX_HEADER_ADDER 4096u /* nAdd length bound; real headers use a few bytes (shift <= 1024) */

bool icms__rpc_is_hash(const char *hex)
{
    if (!hex || strlen(hex) != 64)
        return false;
    for (size_t i = 0; i < 64; i++)
        if (!isxdigit((unsigned char)hex[i]))
            return false;
    return true;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int icms__rpc_unhex(const char *hex, const char *what, uint8_t **out, size_t *out_len)
{
    *out = NULL;
    *out_len = 0;
    size_t len = strlen(hex);
    if (len % 2)
        return icms__error(ICMS_ETRANSPORT, "node sent %s as hex of odd length", what);
    uint8_t *b = icms__malloc(len / 2 ? len / 2 : 1);
    if (!b)
        return ICMS_ENOMEM;
    for (size_t i = 0; i < len / 2; i++) {
        int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            icms__free(b);
            return icms__error(ICMS_ETRANSPORT, "node sent %s with a non-hex character", what);
        }
        b[i] = (uint8_t)(hi << 4 | lo);
    }
    *out = b;
    *out_len = len / 2;
    return ICMS_OK;
}

static int bad_answer(const char *method, const char *what)
{
    return icms__error(ICMS_ETRANSPORT, "gapcoind %s: answer has no valid %s", method, what);
}

static int need_hash(const char *hex, const char *what)
{
    if (!icms__rpc_is_hash(hex))
        return icms__error(ICMS_EINVALID, "%s must be 64 hex characters", what);
    return ICMS_OK;
}

/* Copy a 64-hex member into a 65-byte buffer, lower-cased; false when absent or malformed. */
static bool get_hash(const cJSON *obj, const char *key, char buf[65])
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!cJSON_IsString(it) || !icms__rpc_is_hash(it->valuestring))
        return false;
    for (size_t i = 0; i < 64; i++)
        buf[i] = (char)tolower((unsigned char)it->valuestring[i]);
    buf[64] = '\0';
    return true;
}

/* A call whose result is a hex string, returned as bytes. */
static int call_hex(icms_rpc_client *c, const char *method, const char *params, uint8_t **bytes,
                    size_t *bytes_len)
{
    cJSON *res = NULL;
    int rc = icms__rpc_call(c, method, params, &res);
    if (rc < 0)
        return rc;
    if (!cJSON_IsString(res) || !res->valuestring)
        rc = bad_answer(method, "hex string");
    else
        rc = icms__rpc_unhex(res->valuestring, method, bytes, bytes_len);
    cJSON_Delete(res);
    return rc;
}

int icms_rpc_getblockcount(icms_rpc_client *c, int64_t *height)
{
    if (!c || !height)
        return icms__error(ICMS_EINVALID, "getblockcount: NULL argument");
    cJSON *res = NULL;
    int rc = icms__rpc_call(c, "getblockcount", "[]", &res);
    if (rc < 0)
        return rc;
    int64_t h;
    if (!icms__json_int(res, &h) || h < 0)
        rc = bad_answer("getblockcount", "height");
    else
        *height = h;
    cJSON_Delete(res);
    return rc;
}

int icms_rpc_getblockhash(icms_rpc_client *c, int64_t height, char **hash_hex)
{
    if (!c || !hash_hex)
        return icms__error(ICMS_EINVALID, "getblockhash: NULL argument");
    *hash_hex = NULL;
    if (height < 0 || height > INT32_MAX)
        return icms__error(ICMS_EINVALID, "getblockhash: height %" PRId64 " is out of range", height);
    char params[32];
    snprintf(params, sizeof params, "[%" PRId64 "]", height);
    cJSON *res = NULL;
    int rc = icms__rpc_call(c, "getblockhash", params, &res);
    if (rc == ICMS_EINVALID && icms__rpc_last_node_code() == -8)
        return icms__error(ICMS_ENOTFOUND, "gapcoind getblockhash: no block at height %" PRId64,
                           height);
    if (rc < 0)
        return rc;
    char buf[65];
    if (!cJSON_IsString(res) || !icms__rpc_is_hash(res->valuestring)) {
        rc = bad_answer("getblockhash", "block hash");
    } else {
        for (size_t i = 0; i < 65; i++)
            buf[i] = (char)tolower((unsigned char)res->valuestring[i]);
        *hash_hex = icms__strdup(buf);
        if (!*hash_hex)
            rc = ICMS_ENOMEM;
    }
    cJSON_Delete(res);
    return rc;
}

int icms_rpc_getblock_raw(icms_rpc_client *c, const char *block_hash, uint8_t **bytes,
                          size_t *bytes_len)
{
    if (!c || !bytes || !bytes_len)
        return icms__error(ICMS_EINVALID, "getblock: NULL argument");
    *bytes = NULL;
    *bytes_len = 0;
    int rc = need_hash(block_hash, "block hash");
    if (rc < 0)
        return rc;
    char params[96];
    /* false, not 0: every generation takes a bool for verbose here */
    snprintf(params, sizeof params, "[\"%s\",false]", block_hash);
    return call_hex(c, "getblock", params, bytes, bytes_len);
}

/* Length of the variable-size header at the front of a raw block, or 0 when malformed. */
static size_t header_length(const uint8_t *b, size_t len)
{
    const size_t fixed = 84 + 2; /* version..nonce, then nShift */
    if (len < fixed + 1)
        return 0;
    uint64_t n = b[fixed];
    size_t pos = fixed + 1;
    if (n == 0xfd) {
        if (len < pos + 2)
            return 0;
        n = (uint64_t)b[pos] | (uint64_t)b[pos + 1] << 8;
        pos += 2;
        if (n < 0xfd)
            return 0; /* non-canonical compact size */
    } else if (n > 0xfd) {
        return 0;
    }
    if (n > MAX_HEADER_ADDER || len - pos < n)
        return 0;
    return pos + (size_t)n;
}

int icms_rpc_getblockheader_raw(icms_rpc_client *c, const char *block_hash, uint8_t **bytes,
                                size_t *bytes_len)
{
    if (!c || !bytes || !bytes_len)
        return icms__error(ICMS_EINVALID, "getblockheader: NULL argument");
    *bytes = NULL;
    *bytes_len = 0;
    int rc = need_hash(block_hash, "block hash");
    if (rc < 0)
        return rc;
    if (!atomic_load(&c->lacks_getblockheader)) {
        char params[96];
        snprintf(params, sizeof params, "[\"%s\",false]", block_hash);
        rc = call_hex(c, "getblockheader", params, bytes, bytes_len);
        if (rc != ICMS_EVERSION || c->generation != ICMS_RPC_GEN_AUTO)
            return rc;
        /* A 0.9.x node: remember, and read the header off the raw block from now on. */
        atomic_store(&c->lacks_getblockheader, 1);
    }
    uint8_t *block = NULL;
    size_t block_len = 0;
    rc = icms_rpc_getblock_raw(c, block_hash, &block, &block_len);
    if (rc < 0)
        return rc;
    size_t hlen = header_length(block, block_len);
    if (hlen == 0) {
        icms__free(block);
        return icms__error(ICMS_ETRANSPORT, "gapcoind getblock: raw block too short for a header");
    }
    uint8_t *shrunk = icms__realloc(block, hlen);
    if (!shrunk) {
        icms__free(block);
        return ICMS_ENOMEM;
    }
    *bytes = shrunk;
    *bytes_len = hlen;
    return ICMS_OK;
}

void icms_rpc_tx_free(icms_rpc_tx *tx)
{
    if (!tx)
        return;
    for (size_t i = 0; i < tx->output_count; i++) {
        icms__free(tx->outputs[i].script_hex);
        icms__free(tx->outputs[i].address);
    }
    icms__free(tx->outputs);
    icms__free(tx->raw);
    icms__free(tx);
}

static char *dup_string(const cJSON *it)
{
    return cJSON_IsString(it) && it->valuestring ? icms__strdup(it->valuestring) : NULL;
}

/* One vout entry; scriptPubKey's address is "addresses"[0] up to 0.16.3, "address" in 2606. */
static int parse_output(const cJSON *jo, icms_rpc_txout *o)
{
    const char *m = "getrawtransaction";
    int64_t n;
    const char *value = icms__json_number(cJSON_GetObjectItemCaseSensitive(jo, "value"));
    if (!value)
        return bad_answer(m, "output value");
    int rc = icms_rpc_amount_parse(value, strlen(value), &o->value);
    if (rc < 0)
        return icms__error_wrap(ICMS_ETRANSPORT, "gapcoind getrawtransaction: output value");
    if (!icms__json_int(cJSON_GetObjectItemCaseSensitive(jo, "n"), &n) || n < 0 || n > UINT32_MAX)
        return bad_answer(m, "output index");
    o->n = (uint32_t)n;
    const cJSON *spk = cJSON_GetObjectItemCaseSensitive(jo, "scriptPubKey");
    const cJSON *hex = cJSON_GetObjectItemCaseSensitive(spk, "hex");
    if (!cJSON_IsString(hex))
        return bad_answer(m, "output script");
    o->script_hex = dup_string(hex);
    if (!o->script_hex)
        return ICMS_ENOMEM;
    const cJSON *addr = cJSON_GetObjectItemCaseSensitive(spk, "address");
    const cJSON *addrs = cJSON_GetObjectItemCaseSensitive(spk, "addresses");
    /* Several addresses mean bare multisig: no single address describes the output. */
    if (!cJSON_IsString(addr) && cJSON_IsArray(addrs) && cJSON_GetArraySize(addrs) == 1)
        addr = cJSON_GetArrayItem(addrs, 0);
    if (cJSON_IsString(addr)) {
        o->address = dup_string(addr);
        if (!o->address)
            return ICMS_ENOMEM;
    }
    return ICMS_OK;
}

static int parse_tx(const cJSON *res, icms_rpc_tx *tx)
{
    const char *m = "getrawtransaction";
    const cJSON *hex = cJSON_GetObjectItemCaseSensitive(res, "hex");
    if (!cJSON_IsString(hex))
        return bad_answer(m, "hex");
    int rc = icms__rpc_unhex(hex->valuestring, "the raw transaction", &tx->raw, &tx->raw_len);
    if (rc < 0)
        return rc;
    if (!get_hash(res, "txid", tx->txid))
        return bad_answer(m, "txid");
    const cJSON *conf = cJSON_GetObjectItemCaseSensitive(res, "confirmations");
    if (conf && !icms__json_int(conf, &tx->confirmations))
        return bad_answer(m, "confirmations");
    const cJSON *bh = cJSON_GetObjectItemCaseSensitive(res, "blockhash");
    if (bh) {
        if (!get_hash(res, "blockhash", tx->blockhash))
            return bad_answer(m, "blockhash");
        tx->in_block = 1;
    }
    /* Asked with a block hash, newer nodes say outright whether the block is in the best chain. */
    const cJSON *active = cJSON_GetObjectItemCaseSensitive(res, "in_active_chain");
    if (cJSON_IsFalse(active))
        tx->confirmations = 0;
    const cJSON *bt = cJSON_GetObjectItemCaseSensitive(res, "blocktime");
    if (bt && !icms__json_int(bt, &tx->blocktime))
        return bad_answer(m, "blocktime");
    const cJSON *vout = cJSON_GetObjectItemCaseSensitive(res, "vout");
    if (!cJSON_IsArray(vout))
        return bad_answer(m, "vout");
    int count = cJSON_GetArraySize(vout);
    if (count > 0) {
        tx->outputs = icms__calloc((size_t)count, sizeof *tx->outputs);
        if (!tx->outputs)
            return ICMS_ENOMEM;
    }
    const cJSON *jo;
    cJSON_ArrayForEach(jo, vout)
    {
        rc = parse_output(jo, &tx->outputs[tx->output_count]);
        tx->output_count++; /* counted even on failure, so tx_free frees its strings */
        if (rc < 0)
            return rc;
    }
    return ICMS_OK;
}

static int get_tx(icms_rpc_client *c, const char *txid, const char *block_hash, icms_rpc_tx **out)
{
    if (!c || !out)
        return icms__error(ICMS_EINVALID, "getrawtransaction: NULL argument");
    *out = NULL;
    int rc = need_hash(txid, "txid");
    if (rc == ICMS_OK && block_hash)
        rc = need_hash(block_hash, "block hash");
    if (rc < 0)
        return rc;
    /* 0.9.x takes no block hash: drop the hint rather than fail. */
    if (block_hash && atomic_load(&c->lacks_getblockheader))
        block_hash = NULL;
    char params[176];
    /* An integer 1: 0.9.x refuses `true` here, later generations take both. */
    if (block_hash)
        snprintf(params, sizeof params, "[\"%s\",1,\"%s\"]", txid, block_hash);
    else
        snprintf(params, sizeof params, "[\"%s\",1]", txid);
    cJSON *res = NULL;
    rc = icms__rpc_call(c, "getrawtransaction", params, &res);
    if (rc < 0)
        return rc;
    icms_rpc_tx *tx = icms__calloc(1, sizeof *tx);
    if (!tx) {
        cJSON_Delete(res);
        return ICMS_ENOMEM;
    }
    rc = cJSON_IsObject(res) ? parse_tx(res, tx) : bad_answer("getrawtransaction", "object");
    cJSON_Delete(res);
    if (rc < 0) {
        icms_rpc_tx_free(tx);
        return rc;
    }
    *out = tx;
    return ICMS_OK;
}

int icms_rpc_getrawtransaction(icms_rpc_client *c, const char *txid, icms_rpc_tx **out)
{
    return get_tx(c, txid, NULL, out);
}

int icms_rpc_getrawtransaction_in_block(icms_rpc_client *c, const char *txid,
                                        const char *block_hash, icms_rpc_tx **out)
{
    if (!block_hash)
        return icms__error(ICMS_EINVALID, "getrawtransaction: block hash is NULL");
    int rc = get_tx(c, txid, block_hash, out);
    /* A node that refuses the third parameter (0.9.x, not yet known as such): ask without it. */
    if (rc == ICMS_EINVALID && c && c->generation == ICMS_RPC_GEN_AUTO && icms__rpc_is_hash(txid) &&
        icms__rpc_last_node_code() != 0)
        rc = get_tx(c, txid, NULL, out);
    return rc;
}

int icms_rpc_gettxoutproof(icms_rpc_client *c, const char *txid, const char *block_hash,
                           uint8_t **bytes, size_t *bytes_len)
{
    if (!c || !bytes || !bytes_len)
        return icms__error(ICMS_EINVALID, "gettxoutproof: NULL argument");
    *bytes = NULL;
    *bytes_len = 0;
    int rc = need_hash(txid, "txid");
    if (rc == ICMS_OK && block_hash)
        rc = need_hash(block_hash, "block hash");
    if (rc < 0)
        return rc;
    if (c->generation == ICMS_RPC_GEN_0_9)
        return icms__error(ICMS_EVERSION, "gettxoutproof: 0.9.x nodes do not have it");
    char params[176];
    if (block_hash)
        snprintf(params, sizeof params, "[[\"%s\"],\"%s\"]", txid, block_hash);
    else
        snprintf(params, sizeof params, "[[\"%s\"]]", txid);
    rc = call_hex(c, "gettxoutproof", params, bytes, bytes_len);
    /* "Transaction not yet in block" is -5 as well; both mean: no proof to be had. */
    return rc;
}

int icms_rpc_getnewaddress(icms_rpc_client *c, char **address)
{
    if (!c || !address)
        return icms__error(ICMS_EINVALID, "getnewaddress: NULL argument");
    *address = NULL;
    cJSON *res = NULL;
    int rc = icms__rpc_call(c, "getnewaddress", "[]", &res);
    if (rc < 0)
        return rc;
    if (!cJSON_IsString(res) || !res->valuestring || !res->valuestring[0]) {
        rc = bad_answer("getnewaddress", "address");
    } else {
        *address = icms__strdup(res->valuestring);
        if (!*address)
            rc = ICMS_ENOMEM;
    }
    cJSON_Delete(res);
    return rc;
}

void icms_rpc_address_info_free(icms_rpc_address_info *info)
{
    if (!info)
        return;
    icms__free(info->address);
    icms__free(info->script_hex);
    icms__free(info);
}

/* Base58 and bech32 use letters and digits only; anything else is invalid without asking. */
static bool plausible_address(const char *a)
{
    size_t n = strlen(a);
    if (n == 0 || n > 128)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)a[i]))
            return false;
    return true;
}

int icms_rpc_validateaddress(icms_rpc_client *c, const char *address, icms_rpc_address_info **out)
{
    if (!c || !address || !out)
        return icms__error(ICMS_EINVALID, "validateaddress: NULL argument");
    *out = NULL;
    icms_rpc_address_info *info = icms__calloc(1, sizeof *info);
    if (!info)
        return ICMS_ENOMEM;
    if (!plausible_address(address)) {
        *out = info; /* is_valid 0 */
        return ICMS_OK;
    }
    char params[160];
    snprintf(params, sizeof params, "[\"%s\"]", address);
    cJSON *res = NULL;
    int rc = icms__rpc_call(c, "validateaddress", params, &res);
    if (rc < 0) {
        icms__free(info);
        return rc;
    }
    const cJSON *valid = cJSON_GetObjectItemCaseSensitive(res, "isvalid");
    if (!cJSON_IsBool(valid)) {
        rc = bad_answer("validateaddress", "isvalid");
    } else if (cJSON_IsTrue(valid)) {
        info->is_valid = 1;
        const cJSON *a = cJSON_GetObjectItemCaseSensitive(res, "address");
        const cJSON *s = cJSON_GetObjectItemCaseSensitive(res, "scriptPubKey");
        if (cJSON_IsString(a) && !(info->address = dup_string(a)))
            rc = ICMS_ENOMEM;
        if (rc == ICMS_OK && cJSON_IsString(s) && !(info->script_hex = dup_string(s)))
            rc = ICMS_ENOMEM;
    }
    cJSON_Delete(res);
    if (rc < 0) {
        icms_rpc_address_info_free(info);
        return rc;
    }
    *out = info;
    return ICMS_OK;
}
