#include "app/chain.h"

#include <ctype.h>
#include <string.h>

#include "core/core.h"

char *icms_address_dup(const char *address)
{
    return address ? icms__strdup(address) : NULL;
}

bool icms__chain_txid_valid(const char *text)
{
    if (!text || strlen(text) != 64)
        return false;
    for (int i = 0; i < 64; i++)
        if (!isxdigit((unsigned char)text[i]))
            return false;
    return true;
}

int icms__chain_address_script(icms_db *db, const char *address, char **script_hex_out)
{
    uint8_t *script = NULL;
    size_t len = 0;
    int rc = icms_gapcoin_address_to_script(address, db->network, &script, &len);
    if (rc)
        return icms__error(ICMS_EINVALID, "not a Gapcoin address of this network: %s",
                           icms_error_last()->message);
    rc = icms_gapcoin_hex_encode(script, len, script_hex_out);
    icms_free(script);
    return rc;
}

int icms__chain_new_address(icms_db *db, const char *project_id, char **address_out)
{
    *address_out = NULL;
    int rc;
    if (db->addresses)
        rc = db->addresses->next_address(db->addresses, project_id, address_out);
    else if (db->gapcoin)
        rc = icms_rpc_getnewaddress(db->gapcoin, address_out);
    else
        return icms__error(ICMS_ETRANSPORT, "no address source: give icms_open a Gapcoin node "
                                            "or an address provider");
    if (rc == ICMS_OK && !*address_out)
        rc = icms__error(ICMS_ETRANSPORT, "the address source returned no address");
    if (rc)
        return rc;
    /* Whatever the source, the address must be one we can check payments against. */
    char *script = NULL;
    rc = icms__chain_address_script(db, *address_out, &script);
    icms_free(script);
    if (rc) {
        icms_free(*address_out);
        *address_out = NULL;
        return icms__error(ICMS_ETRANSPORT, "the address source gave an unusable address");
    }
    return ICMS_OK;
}

static void measure(const icms_gapcoin_tx *tx, const uint8_t *script, size_t script_len,
                    icms__chain_payment *out)
{
    for (size_t i = 0; i < tx->output_count; i++) {
        const icms_gapcoin_txout *o = &tx->outputs[i];
        if (o->script_len != script_len || memcmp(o->script, script, script_len) != 0)
            continue;
        /* Decoded values are bounded by the coin's money supply: the sum cannot overflow. */
        out->paid += o->value;
        if (out->output_count < ICMS__CHAIN_MAX_OUTPUTS) {
            out->vouts[out->output_count] = (uint32_t)i;
            out->values[out->output_count] = o->value;
            out->output_count++;
        }
    }
}

int icms__chain_check(icms_db *db, const char *txid, const uint8_t *script, size_t script_len,
                      icms__chain_payment *out)
{
    memset(out, 0, sizeof *out);
    if (!db->gapcoin)
        return icms__error(ICMS_ETRANSPORT, "no Gapcoin node to verify against");
    icms_rpc_tx *answer = NULL;
    int rc = icms_rpc_getrawtransaction(db->gapcoin, txid, &answer);
    if (rc == ICMS_ENOTFOUND) {
        icms_error_clear();
        out->status = ICMS__CHAIN_NOT_FOUND;
        return ICMS_OK;
    }
    if (rc)
        return rc;
    icms_gapcoin_tx *tx = NULL;
    rc = icms_gapcoin_tx_decode(answer->raw, answer->raw_len, &tx);
    if (rc) {
        icms_rpc_tx_free(answer);
        return icms__error(ICMS_ETRANSPORT, "the node's transaction does not decode: %s",
                           icms_error_last()->message);
    }
    char computed[65];
    icms_gapcoin_hash_to_hex(tx->txid, computed);
    if (strcmp(computed, txid) != 0) {
        rc = icms__error(ICMS_ECORRUPT, "the node answered with another transaction (%s)",
                         computed);
    } else {
        measure(tx, script, script_len, out);
        out->confirmations = answer->confirmations;
        if (answer->confirmations < 0)
            out->status = ICMS__CHAIN_CONFLICTED;
        else if (answer->confirmations >= 1 && answer->in_block)
            out->status = ICMS__CHAIN_IN_BLOCK;
        else
            out->status = ICMS__CHAIN_IN_MEMPOOL;
        if (answer->in_block)
            memcpy(out->block_hash, answer->blockhash, sizeof out->block_hash);
    }
    icms_gapcoin_tx_free(tx);
    icms_rpc_tx_free(answer);
    return rc;
}
