/*
 * A Gapcoin node's JSON-RPC interface, as far as a payment verifier needs it.
 *
 * The client speaks JSON-RPC 1.0 over the transport port
 * (include/icms/sys/transport.h) and works against the three Gapcoin node
 * generations (0.9.x, 0.16.3, 2606), smoothing over their differences
 * (docs/rpc.md lists them). What the node answers is trusted only as far as
 * docs/rpc.md says: amounts and txids used for payments come from the raw
 * bytes, decoded here, never from the node's JSON fields.
 *
 * Errors of every call, beyond the ones it names:
 *   ICMS_ETRANSPORT       could not reach the node, HTTP 5xx without a JSON-RPC
 *                         answer, a body that is not JSON-RPC, a node-side failure;
 *   ICMS_EUNAUTHENTICATED the node refused the credentials (HTTP 401);
 *   ICMS_ELIMIT           the answer was larger than max_response_len;
 *   ICMS_EVERSION         the node does not know the method (an older generation);
 *   ICMS_EINVALID         a bad argument, or the node refused a parameter.
 * The node's own words and RPC error code are in the icms_error_last() message.
 *
 * Threads: a client may be used from several threads at once when its
 * transport allows it (the curl transport does).
 */
#ifndef ICMS_RPC_H
#define ICMS_RPC_H

#include "icms/common.h"
#include "icms/gapcoin.h"
#include "icms/sys/transport.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A JSON-RPC client bound to one node URL. */
typedef struct icms_rpc_client icms_rpc_client;

/** Gapcoin node generations; they differ in methods and JSON shapes. */
typedef enum icms_rpc_generation_t {
    ICMS_RPC_GEN_AUTO = 0,   /**< try the newer methods, fall back and remember when missing */
    ICMS_RPC_GEN_0_9 = 1,    /**< 0.9.x: no getblockheader, no gettxoutproof */
    ICMS_RPC_GEN_0_16_3 = 2, /**< 0.16.3: bech32 `gp`, scriptPubKey "addresses" array */
    ICMS_RPC_GEN_2606 = 3    /**< 2606: bech32m `gap`, scriptPubKey "address" string */
} icms_rpc_generation_t;

typedef struct icms_rpc_options {
    unsigned int version;             /**< ICMS_RPC_OPTIONS_VERSION */
    size_t max_response_len;          /**< largest answer accepted, bytes; 0 = 32 MiB */
    icms_rpc_generation_t generation; /**< default ICMS_RPC_GEN_AUTO */
} icms_rpc_options;

#define ICMS_RPC_OPTIONS_VERSION 1
#define ICMS_RPC_OPTIONS_INIT {ICMS_RPC_OPTIONS_VERSION, 0, ICMS_RPC_GEN_AUTO}

/**
 * A client that POSTs to url (http:// or https://; credentials belong to the
 * transport, not the URL) through transport. The client takes ownership of
 * transport in every case, even when it fails (it then frees it). options may
 * be NULL for the defaults. Free the client with icms_rpc_client_free().
 * Errors: ICMS_EINVALID (bad URL or options), ICMS_EVERSION.
 */
ICMS_EXTERN int icms_rpc_client_new(icms_rpc_client **out, icms_transport *transport,
                                    const char *url, const icms_rpc_options *options);

/** Free a client and its transport. NULL is allowed. */
ICMS_EXTERN void icms_rpc_client_free(icms_rpc_client *client);

/** The height of the node's best chain. */
ICMS_EXTERN int icms_rpc_getblockcount(icms_rpc_client *client, int64_t *height);

/**
 * The hash (64 hex characters, display order) of the best chain's block at
 * height, in *hash_hex, freed with icms_free(). ICMS_ENOTFOUND when the chain
 * is shorter.
 */
ICMS_EXTERN int icms_rpc_getblockhash(icms_rpc_client *client, int64_t height, char **hash_hex);

/**
 * The raw serialized block (getblock HASH false), in *bytes, freed with
 * icms_free(). ICMS_ENOTFOUND for an unknown block.
 */
ICMS_EXTERN int icms_rpc_getblock_raw(icms_rpc_client *client, const char *block_hash,
                                      uint8_t **bytes, size_t *bytes_len);

/**
 * The raw serialized header of a block, in *bytes (freed with icms_free()):
 * getblockheader HASH false where the node has it; on a 0.9.x node the prefix
 * of getblock HASH false (the header is variable length: 84 bytes, nShift,
 * then the length-prefixed nAdd). ICMS_ENOTFOUND for an unknown block.
 */
ICMS_EXTERN int icms_rpc_getblockheader_raw(icms_rpc_client *client, const char *block_hash,
                                            uint8_t **bytes, size_t *bytes_len);

/** One output as the node describes it (JSON): informative, not verified. */
typedef struct icms_rpc_txout {
    uint32_t n;          /**< output index */
    int64_t value;       /**< base units, parsed exactly from the node's decimal text */
    char *script_hex;    /**< scriptPubKey hex */
    char *address;       /**< the node's address for it, or NULL (P2PK on 2606, OP_RETURN...) */
} icms_rpc_txout;

/** What getrawtransaction TXID 1 answered. */
typedef struct icms_rpc_tx {
    uint8_t *raw;              /**< the raw transaction bytes */
    size_t raw_len;
    char txid[65];             /**< the txid the node claims (not verified here) */
    /**
     * Depth in the best chain: >= 1 in a block of the best chain; 0 in the
     * mempool or in a block that left the best chain (in_block then says
     * which); negative when the node reports a conflict.
     */
    int64_t confirmations;
    int in_block;              /**< 1 when the node named a block (blockhash is set) */
    char blockhash[65];        /**< the block's hash, or "" */
    int64_t blocktime;         /**< the block's time, or 0 */
    icms_rpc_txout *outputs;   /**< the node's view of the outputs */
    size_t output_count;
} icms_rpc_tx;

/**
 * getrawtransaction TXID 1 (an integer 1, which every generation accepts).
 * *out is freed with icms_rpc_tx_free(). ICMS_ENOTFOUND when the node does not
 * know the transaction (nodes without -txindex know only the mempool and
 * their wallet's transactions).
 */
ICMS_EXTERN int icms_rpc_getrawtransaction(icms_rpc_client *client, const char *txid,
                                           icms_rpc_tx **out);

/**
 * getrawtransaction TXID 1 BLOCKHASH: the same, looked up in that block, which
 * 0.16.3 and 2606 nodes can do without -txindex. The answer then says whether
 * the block is in the best chain (in_active_chain). On a 0.9.x node (pinned,
 * or learned in AUTO mode) the hint is dropped and the plain call is made.
 * ICMS_ENOTFOUND when the block does not hold the transaction.
 */
ICMS_EXTERN int icms_rpc_getrawtransaction_in_block(icms_rpc_client *client, const char *txid,
                                                    const char *block_hash, icms_rpc_tx **out);

/** Free a transaction answer. NULL is allowed. */
ICMS_EXTERN void icms_rpc_tx_free(icms_rpc_tx *tx);

/**
 * gettxoutproof ["TXID"] (block_hash may be NULL): the serialized merkle
 * block (header, transaction count, hashes, flag bits) in *bytes, freed with
 * icms_free(). ICMS_ENOTFOUND when the transaction is not in a block;
 * ICMS_EVERSION on a 0.9.x node, which has no such call.
 */
ICMS_EXTERN int icms_rpc_gettxoutproof(icms_rpc_client *client, const char *txid,
                                       const char *block_hash, uint8_t **bytes, size_t *bytes_len);

/** A fresh receiving address from the node's wallet, in *address (icms_free()). */
ICMS_EXTERN int icms_rpc_getnewaddress(icms_rpc_client *client, char **address);

/** What validateaddress answered. */
typedef struct icms_rpc_address_info {
    int is_valid;      /**< 1 when the node accepts the address */
    char *address;     /**< the address as the node normalises it, or NULL */
    char *script_hex;  /**< its output script, or NULL (0.9.x does not say) */
} icms_rpc_address_info;

/** validateaddress ADDRESS. *out is freed with icms_rpc_address_info_free(). */
ICMS_EXTERN int icms_rpc_validateaddress(icms_rpc_client *client, const char *address,
                                         icms_rpc_address_info **out);

/** Free an address answer. NULL is allowed. */
ICMS_EXTERN void icms_rpc_address_info_free(icms_rpc_address_info *info);

/** What a payment check found. */
typedef enum icms_rpc_payment_status_t {
    ICMS_RPC_PAYMENT_NOT_FOUND = 0,    /**< the node does not know the transaction */
    ICMS_RPC_PAYMENT_UNCONFIRMED = 1,  /**< enough was paid, but not yet buried deep enough */
    ICMS_RPC_PAYMENT_CONFIRMED = 2,    /**< enough was paid, at least min_confirmations deep */
    ICMS_RPC_PAYMENT_INSUFFICIENT = 3, /**< the transaction pays the script less than asked (or nothing) */
    ICMS_RPC_PAYMENT_CONFLICTED = 4    /**< its block left the best chain, or the node reports a conflict */
} icms_rpc_payment_status_t;

/** How much of the node's answer a payment check verifies (docs/rpc.md). */
typedef enum icms_rpc_verify_t {
    /** Verify the transaction bytes (txid, outputs); trust the node for inclusion and depth. */
    ICMS_RPC_VERIFY_RPC = 0,
    /**
     * Also verify inclusion and depth: a merkle proof (gettxoutproof, or the
     * whole block from getblock on 0.9.x) against a header whose hash is the
     * block the node named, and the headers from that block on (as many as
     * the confirmations needed) verified as a chain: links, retarget, median
     * time, and each one's proof of work at no less than min_difficulty.
     */
    ICMS_RPC_VERIFY_SPV = 1
} icms_rpc_verify_t;

/** A payment check: did txid pay at least min_amount to a script? */
typedef struct icms_rpc_payment_query {
    unsigned int version;           /**< ICMS_RPC_PAYMENT_QUERY_VERSION */
    const char *txid;               /**< 64 hex characters, display order */
    /** The expected output script; or NULL with script_len 0 and address set. */
    const uint8_t *script;
    size_t script_len;
    const char *address;            /**< used when script is NULL */
    icms_gapcoin_network_t network; /**< the network the address must belong to */
    int64_t min_amount;             /**< base units, >= 0 */
    /**
     * Confirmations needed for CONFIRMED, >= 0 (0 accepts the mempool). A
     * coinbase transaction always needs ICMS_RPC_COINBASE_MATURITY.
     */
    int64_t min_confirmations;
    icms_rpc_verify_t verify;       /**< default ICMS_RPC_VERIFY_RPC */
    /** SPV: the lowest n_difficulty accepted in any header; 0 = the network's minimum. */
    uint64_t min_difficulty;
    /**
     * The block the transaction is believed to be in, or NULL. Nodes without
     * -txindex find a confirmed transaction only with it (0.16.3, 2606).
     */
    const char *block_hash;
} icms_rpc_payment_query;

/** Most headers an SPV payment check verifies (its min_confirmations may not exceed it). */
#define ICMS_RPC_SPV_MAX_DEPTH 2016

#define ICMS_RPC_PAYMENT_QUERY_VERSION 1
#define ICMS_RPC_PAYMENT_QUERY_INIT                                                                \
    {ICMS_RPC_PAYMENT_QUERY_VERSION, NULL, NULL, 0, NULL, ICMS_GAPCOIN_MAIN, 0, 1,                 \
     ICMS_RPC_VERIFY_RPC, 0, NULL}

/** Confirmations a coinbase output needs before it can be spent. */
#define ICMS_RPC_COINBASE_MATURITY 100

/** The answer of a payment check. */
typedef struct icms_rpc_payment {
    icms_rpc_payment_status_t status;
    int64_t amount;          /**< sum paid to the script, from the decoded outputs */
    size_t vout_count;       /**< how many outputs paid the script */
    uint32_t *vouts;         /**< their indexes (each funds at most one payment) */
    int64_t confirmations;   /**< as the node reports it (see icms_rpc_tx) */
    char blockhash[65];      /**< the block holding it, or "" */
    int is_coinbase;         /**< 1 for a coinbase transaction */
    int spv_verified;        /**< 1 when the SPV checks ran and held */
    /**
     * SPV: how many headers, from the transaction's block on, were verified
     * as a chain (at most the confirmations needed); the depth that is
     * proved rather than trusted. 0 otherwise.
     */
    int64_t verified_depth;
    icms_gapcoin_pow pow;    /**< SPV: the block header's proof-of-work figures */
} icms_rpc_payment;

/**
 * Check a payment by txid. The raw transaction is fetched
 * (getrawtransaction) and decoded here; its computed txid must equal the one
 * asked for, and the amount is the sum of the decoded outputs whose script
 * equals the expected one: the node's JSON amounts and addresses are never
 * used. Status, in order: NOT_FOUND; CONFLICTED (the node names a block that
 * is no longer in its best chain, or negative confirmations);
 * INSUFFICIENT (amount < min_amount, or nothing paid to the script);
 * UNCONFIRMED (fewer confirmations than needed); CONFIRMED. In SPV mode every
 * transaction in a best-chain block also has its inclusion, the block's
 * proof of work and the chain of headers above it (up to the depth needed)
 * verified.
 *
 * *out is freed with icms_rpc_payment_free(). A status is an answer, not an
 * error: the call returns 0 for each of them.
 * Errors: ICMS_EINVALID (bad query: txid, script or address, negative
 * amounts, SPV depth over ICMS_RPC_SPV_MAX_DEPTH), ICMS_ECORRUPT (the node's
 * data failed verification: raw bytes do not decode or hash to another txid,
 * the merkle proof, a proof of work or the header chain fails, the proof is
 * for another block), ICMS_ECONFLICT (the chain changed during the check;
 * run it again), plus the client's errors.
 */
ICMS_EXTERN int icms_rpc_check_payment(icms_rpc_client *client, const icms_rpc_payment_query *query,
                                       icms_rpc_payment **out);

/** Free a payment answer. NULL is allowed. */
ICMS_EXTERN void icms_rpc_payment_free(icms_rpc_payment *payment);

/** A static name for a status ("CONFIRMED"); "UNKNOWN" for other values. */
ICMS_EXTERN const char *icms_rpc_payment_status_name(icms_rpc_payment_status_t status);

/**
 * Parse a JSON amount in GAP as decimal text ("12.34500000", "0", "-1.5",
 * "1e-8") into base units (1 GAP = 100,000,000) exactly, with no double in
 * between. At most 8 digits after the point; the result must fit int64.
 * Errors: ICMS_EINVALID (not a JSON number, more than 8 decimals, not a whole
 * number of base units, out of range).
 */
ICMS_EXTERN int icms_rpc_amount_parse(const char *text, size_t text_len, int64_t *units);

#ifdef __cplusplus
}
#endif

#endif /* ICMS_RPC_H */
