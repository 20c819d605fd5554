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

int icms__chain_check(icms_db *db, const char *txid, const uint8_t *script, size_t script_len,
                      int64_t depth, icms__chain_payment *out)
{
    memset(out, 0, sizeof *out);
    if (!db->gapcoin)
        return icms__error(ICMS_ETRANSPORT, "no Gapcoin node to verify against");
    icms_rpc_payment_query query = ICMS_RPC_PAYMENT_QUERY_INIT;
    query.txid = txid;
    query.script = script;
    query.script_len = script_len;
    query.network = db->network;
    query.min_amount = 0; /* the amount is judged by the payment rules, not here */
    query.min_confirmations = depth > 0 ? depth : 1;
    query.verify = db->spv ? ICMS_RPC_VERIFY_SPV : ICMS_RPC_VERIFY_RPC;
    icms_rpc_payment *answer = NULL;
    int rc = icms_rpc_check_payment(db->gapcoin, &query, &answer);
    if (rc == ICMS_ECONFLICT)
        return icms__error(ICMS_ETRANSPORT, "the node's chain moved during the check: %s",
                           icms_error_last()->message);
    if (rc)
        return rc;
    bool in_block = answer->blockhash[0] != '\0' && answer->confirmations >= 1;
    switch (answer->status) {
    case ICMS_RPC_PAYMENT_NOT_FOUND:
        out->status = ICMS__CHAIN_NOT_FOUND;
        break;
    case ICMS_RPC_PAYMENT_CONFLICTED:
        out->status = ICMS__CHAIN_CONFLICTED;
        break;
    default: /* CONFIRMED, UNCONFIRMED, INSUFFICIENT: where it is, and what it pays */
        out->status = in_block ? ICMS__CHAIN_IN_BLOCK : ICMS__CHAIN_IN_MEMPOOL;
        break;
    }
    out->confirmations = answer->confirmations;
    out->paid = answer->amount;
    memcpy(out->block_hash, answer->blockhash, sizeof out->block_hash);
    for (size_t i = 0; i < answer->vout_count && i < ICMS__CHAIN_MAX_OUTPUTS; i++)
        out->vouts[out->output_count++] = answer->vouts[i];
    icms_rpc_payment_free(answer);
    return ICMS_OK;
}
