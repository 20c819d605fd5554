/*
 * What the application asks of the Gapcoin chain, through the database's RPC
 * client. Always called outside a store transaction.
 */
#ifndef ICMS_SRC_APP_CHAIN_H
#define ICMS_SRC_APP_CHAIN_H

#include "app/db.h"

#define ICMS__CHAIN_MAX_OUTPUTS 32

typedef enum icms__chain_status_t {
    ICMS__CHAIN_NOT_FOUND = 0,  /* the node does not know the transaction */
    ICMS__CHAIN_IN_MEMPOOL = 1, /* known, in no block of the best chain */
    ICMS__CHAIN_IN_BLOCK = 2,   /* in a block of the best chain: see confirmations */
    ICMS__CHAIN_CONFLICTED = 3  /* the node reports it conflicts with the best chain */
} icms__chain_status_t;

typedef struct icms__chain_payment {
    icms__chain_status_t status;
    int64_t confirmations;
    char block_hash[65];
    int64_t paid; /* what the decoded transaction pays the script, summed */
    size_t output_count;
    uint32_t vouts[ICMS__CHAIN_MAX_OUTPUTS]; /* the outputs that pay it */
} icms__chain_payment;

/*
 * Look up txid and measure what it pays to script, through the RPC client's
 * payment check: the transaction is decoded here and its txid recomputed,
 * and in SPV mode its inclusion and `depth` headers above it are verified.
 * A node answering with data that fails verification gives ICMS_ECORRUPT;
 * no node, a node that is down, answers garbage or whose chain moved during
 * the check gives ICMS_ETRANSPORT (try again later).
 */
int icms__chain_check(icms_db *db, const char *txid, const uint8_t *script, size_t script_len,
                      int64_t depth, icms__chain_payment *out);

/* A fresh receiving address for project_id: the provider, else the node. */
int icms__chain_new_address(icms_db *db, const char *project_id, char **address_out);

/* The output script an address stands for on the database's network (hex, icms_free). */
int icms__chain_address_script(icms_db *db, const char *address, char **script_hex_out);

/* Whether text looks like a transaction id: 64 hex digits. */
bool icms__chain_txid_valid(const char *text);

#endif
