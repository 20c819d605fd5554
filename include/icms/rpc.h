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
