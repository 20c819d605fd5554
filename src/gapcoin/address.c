/* Addresses: from an output script, for a network and node generation; and back. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "gapcoin_internal.h"

static int segwit_encode(const char *hrp, icms_gapcoin_bech32_t enc, int version,
                         const uint8_t *program, size_t program_len, char **out)
{
    uint8_t data[1 + 65];
    size_t n = 0;
    data[0] = (uint8_t)version;
    if (!icms__convert_bits(data + 1, &n, 5, program, program_len, 8, true))
        return icms__error(ICMS_ERROR, "address: cannot regroup witness program");
    return icms_gapcoin_bech32_encode(hrp, data, n + 1, enc, out);
}

int icms_gapcoin_script_to_address(const uint8_t *bytes, size_t bytes_len,
                                   icms_gapcoin_network_t network, icms_gapcoin_node_t node,
                                   char **out)
{
    if (!out)
        return icms__error(ICMS_EINVALID, "address: out is NULL");
    *out = NULL;
    const icms_gapcoin_params *p = icms_gapcoin_params_get(network);
    if (!p)
        return icms__error(ICMS_EINVALID, "address: unknown network %d", (int)network);
    if (node != ICMS_GAPCOIN_NODE_0_9 && node != ICMS_GAPCOIN_NODE_0_16 &&
        node != ICMS_GAPCOIN_NODE_2606)
        return icms__error(ICMS_EINVALID, "address: unknown node generation %d", (int)node);
    icms_gapcoin_script_type_t type = icms_gapcoin_script_classify(bytes, bytes_len);
    uint8_t h160[20];
    switch (type) {
    case ICMS_GAPCOIN_SCRIPT_P2PKH:
        return icms_gapcoin_base58check_encode(p->p2pkh_version, bytes + 3, 20, out);
    case ICMS_GAPCOIN_SCRIPT_P2SH:
        return icms_gapcoin_base58check_encode(p->p2sh_version, bytes + 2, 20, out);
    case ICMS_GAPCOIN_SCRIPT_P2PK:
        /* Nodes show a pay-to-pubkey output as the P2PKH address of that key. */
        icms_gapcoin_hash160(bytes + 1, bytes[0], h160);
        return icms_gapcoin_base58check_encode(p->p2pkh_version, h160, 20, out);
    case ICMS_GAPCOIN_SCRIPT_P2WPKH:
    case ICMS_GAPCOIN_SCRIPT_P2WSH:
    case ICMS_GAPCOIN_SCRIPT_P2TR:
    case ICMS_GAPCOIN_SCRIPT_WITNESS_UNKNOWN: {
        int version = bytes[0] == 0 ? 0 : bytes[0] - 0x50;
        if (node == ICMS_GAPCOIN_NODE_0_9)
            return icms__error(ICMS_ENOTFOUND, "address: node 0.9.x has no address for %s",
                               icms_gapcoin_script_type_name(type));
        if (node == ICMS_GAPCOIN_NODE_0_16) {
            if (!p->hrp_0_16)
                return icms__error(ICMS_ENOTFOUND,
                                   "address: no bech32 HRP is known for %snet on node 0.16.3",
                                   p->name);
            return segwit_encode(p->hrp_0_16, ICMS_GAPCOIN_BECH32, version, bytes + 2,
                                 bytes_len - 2, out);
        }
        return segwit_encode(p->hrp_2606, ICMS_GAPCOIN_BECH32M, version, bytes + 2, bytes_len - 2,
                             out);
    }
    case ICMS_GAPCOIN_SCRIPT_OP_RETURN:
    case ICMS_GAPCOIN_SCRIPT_NONSTANDARD:
    default:
        return icms__error(ICMS_ENOTFOUND, "address: a %s script has no address",
                           icms_gapcoin_script_type_name(type));
    }
}

/* Build the output script for a decoded address. */
static void fill_script(icms_gapcoin_address *a)
{
    uint8_t *s = a->script;
    if (a->type == ICMS_GAPCOIN_SCRIPT_P2PKH) {
        s[0] = 0x76;
        s[1] = 0xa9;
        s[2] = 20;
        memcpy(s + 3, a->program, 20);
        s[23] = 0x88;
        s[24] = 0xac;
        a->script_len = 25;
    } else if (a->type == ICMS_GAPCOIN_SCRIPT_P2SH) {
        s[0] = 0xa9;
        s[1] = 20;
        memcpy(s + 2, a->program, 20);
        s[22] = 0x87;
        a->script_len = 23;
    } else {
        s[0] = a->witness_version == 0 ? 0 : (uint8_t)(0x50 + a->witness_version);
        s[1] = (uint8_t)a->program_len;
        memcpy(s + 2, a->program, a->program_len);
        a->script_len = 2 + a->program_len;
    }
}

/* HRPs by which a segwit address names its network and generation. */
static const struct {
    const char *hrp;
    icms_gapcoin_network_t network;
    icms_gapcoin_node_t node;
    icms_gapcoin_bech32_t encoding;
} hrps[] = {
    {"gp", ICMS_GAPCOIN_MAIN, ICMS_GAPCOIN_NODE_0_16, ICMS_GAPCOIN_BECH32},
    {"gap", ICMS_GAPCOIN_MAIN, ICMS_GAPCOIN_NODE_2606, ICMS_GAPCOIN_BECH32M},
    {"tgap", ICMS_GAPCOIN_TEST, ICMS_GAPCOIN_NODE_2606, ICMS_GAPCOIN_BECH32M},
};

static bool looks_segwit(const char *text)
{
    for (size_t i = 0; i < ICMS__ARRAY_LEN(hrps); i++) {
        size_t n = strlen(hrps[i].hrp);
        if (strncasecmp(text, hrps[i].hrp, n) == 0 && text[n] == '1')
            return true;
    }
    return false;
}

static int decode_segwit(const char *text, icms_gapcoin_address *a)
{
    char *hrp;
    uint8_t *data;
    size_t data_len;
    icms_gapcoin_bech32_t enc;
    int rc = icms_gapcoin_bech32_decode(text, &hrp, &data, &data_len, &enc);
    if (rc != 0)
        return icms__error_wrap(rc, "address");
    size_t k = 0;
    while (k < ICMS__ARRAY_LEN(hrps) && strcmp(hrp, hrps[k].hrp) != 0)
        k++;
    icms__free(hrp);
    if (k == ICMS__ARRAY_LEN(hrps)) {
        rc = icms__error(ICMS_EINVALID, "address: unknown HRP");
    } else if (enc != hrps[k].encoding) {
        rc = icms__error(ICMS_EINVALID, "address: HRP \"%s\" requires %s, got %s", hrps[k].hrp,
                         hrps[k].encoding == ICMS_GAPCOIN_BECH32 ? "bech32 (BIP173)"
                                                                 : "bech32m (BIP350)",
                         enc == ICMS_GAPCOIN_BECH32 ? "bech32" : "bech32m");
    } else if (data_len < 1) {
        rc = icms__error(ICMS_EINVALID, "address: no witness version");
    } else if (data[0] > 16) {
        rc = icms__error(ICMS_EINVALID, "address: witness version %u is above 16", data[0]);
    } else if (!icms__convert_bits(a->program, &a->program_len, 8, data + 1, data_len - 1, 5,
                                   false) ||
               a->program_len < 2 || a->program_len > 40) {
        rc = icms__error(ICMS_EINVALID,
                         "address: witness program has a bad length or non-zero padding");
    } else if (data[0] == 0 && a->program_len != 20 && a->program_len != 32) {
        rc = icms__error(ICMS_EINVALID,
                         "address: version 0 witness program of %zu bytes (must be 20 or 32)",
                         a->program_len);
    }
    if (rc == 0) {
        a->network = hrps[k].network;
        a->node = hrps[k].node;
        a->witness_version = data[0];
        if (data[0] == 0)
            a->type = a->program_len == 20 ? ICMS_GAPCOIN_SCRIPT_P2WPKH : ICMS_GAPCOIN_SCRIPT_P2WSH;
        else if (data[0] == 1 && a->program_len == 32)
            a->type = ICMS_GAPCOIN_SCRIPT_P2TR;
        else
            a->type = ICMS_GAPCOIN_SCRIPT_WITNESS_UNKNOWN;
    }
    icms__free(data);
    return rc;
}

static int decode_base58(const char *text, icms_gapcoin_address *a)
{
    uint8_t version;
    uint8_t *payload;
    size_t len;
    int rc = icms_gapcoin_base58check_decode(text, &version, &payload, &len);
    if (rc != 0)
        return icms__error_wrap(rc, "address");
    if (len != 20) {
        icms__free(payload);
        if (version == 97 || version == 239)
            return icms__error(ICMS_EINVALID, "address: this is a private key (WIF), not an "
                                              "address");
        return icms__error(ICMS_EINVALID, "address: payload of %zu bytes (an address has 20)", len);
    }
    memcpy(a->program, payload, 20);
    icms__free(payload);
    a->program_len = 20;
    a->witness_version = -1;
    a->node = ICMS_GAPCOIN_NODE_0_9;
    for (int n = ICMS_GAPCOIN_MAIN; n <= ICMS_GAPCOIN_TEST; n++) {
        const icms_gapcoin_params *p = icms_gapcoin_params_get((icms_gapcoin_network_t)n);
        if (version == p->p2pkh_version || version == p->p2sh_version) {
            a->network = p->network;
            a->type =
                version == p->p2pkh_version ? ICMS_GAPCOIN_SCRIPT_P2PKH : ICMS_GAPCOIN_SCRIPT_P2SH;
            return 0;
        }
    }
    return icms__error(ICMS_EINVALID, "address: unknown version byte %u", version);
}

int icms_gapcoin_address_decode(const char *text, icms_gapcoin_address *out)
{
    if (!text || !out)
        return icms__error(ICMS_EINVALID, "address: NULL argument");
    icms_gapcoin_address a;
    memset(&a, 0, sizeof a);
    int rc;
    if (looks_segwit(text)) {
        rc = decode_segwit(text, &a);
        if (rc == ICMS_EINVALID) {
            /*
             * A base58 address may start like an HRP ("GP1...": version 38 gives
             * 'G'); if it is one, take it, else the segwit reason is the useful one.
             */
            char why[256];
            snprintf(why, sizeof why, "%s", icms_error_last()->message);
            memset(&a, 0, sizeof a);
            if (decode_base58(text, &a) != 0)
                return icms__error(rc, "%s", why);
            rc = 0;
        }
    } else {
        rc = decode_base58(text, &a);
    }
    if (rc != 0)
        return rc;
    fill_script(&a);
    *out = a;
    return 0;
}

int icms_gapcoin_address_to_script(const char *text, icms_gapcoin_network_t network, uint8_t **out,
                                   size_t *out_len)
{
    if (!out || !out_len)
        return icms__error(ICMS_EINVALID, "address: out is NULL");
    *out = NULL;
    *out_len = 0;
    const icms_gapcoin_params *p = icms_gapcoin_params_get(network);
    if (!p)
        return icms__error(ICMS_EINVALID, "address: unknown network %d", (int)network);
    icms_gapcoin_address a;
    int rc = icms_gapcoin_address_decode(text, &a);
    if (rc != 0)
        return rc;
    if (a.network != network)
        return icms__error(ICMS_EINVALID, "address: belongs to %snet, not %snet",
                           icms_gapcoin_params_get(a.network)->name, p->name);
    uint8_t *s = icms__memdup(a.script, a.script_len);
    if (!s)
        return ICMS_ENOMEM;
    *out = s;
    *out_len = a.script_len;
    return 0;
}
