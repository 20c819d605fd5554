/*
 * libicms: the Gapcoin codec and proof of work.
 *
 * Pure functions, bytes in and values out: hex, base58check, bech32/bech32m,
 * output scripts and addresses, transactions (legacy and BIP144 witness form),
 * headers (variable length, nShift, nAdd), blocks, merkle roots, partial
 * merkle trees (CMerkleBlock, as gettxoutproof returns), the prime-gap proof
 * of work, the per-block retarget and header-chain verification.
 *
 * Byte order: every 32-byte hash in a struct or parameter (txid, block hash,
 * prev_hash, merkle_root) is in internal byte order, exactly as serialized.
 * The usual display form (RPC JSON, explorers) is byte-reversed; convert with
 * icms_gapcoin_hash_to_hex() and icms_gapcoin_hash_from_hex().
 *
 * Threads: every function here is reentrant and may be called from any
 * thread at once; nothing keeps state between calls. Call icms_init() first
 * (it initialises libsodium, whose SHA-256 is the fallback where the CPU has no SHA
 * extensions).
 *
 * Errors: malformed input is ICMS_EINVALID with a message naming what is wrong
 * (bad character, length, checksum, which field); a value that is valid but
 * beyond a documented limit is ICMS_ELIMIT. On failure nothing is allocated
 * and every **out is set to NULL.
 *
 * The proof-of-work check uses GMP, which allocates through its own allocator
 * and aborts if memory runs out; inputs are bounded (shift <= 1024), so it
 * needs a few kilobytes.
 */
#ifndef ICMS_GAPCOIN_H
#define ICMS_GAPCOIN_H

#include <stddef.h>
#include <stdint.h>

#include "icms/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/** @name Networks, node generations and their parameters */
/**@{*/

/** The Gapcoin network. */
typedef enum icms_gapcoin_network_t {
    ICMS_GAPCOIN_MAIN = 0, /**< mainnet */
    ICMS_GAPCOIN_TEST = 1  /**< testnet */
} icms_gapcoin_network_t;

/**
 * Generations of the Gapcoin node. They differ in which output scripts have
 * an address and how segwit addresses are written: 0.9.x knows no segwit;
 * 0.16.3 writes bech32 (BIP173) with HRP "gp"; 2606 writes bech32m (BIP350)
 * for every witness version with HRP "gap" / "tgap".
 */
typedef enum icms_gapcoin_node_t {
    ICMS_GAPCOIN_NODE_0_9 = 0,  /**< 0.9.x */
    ICMS_GAPCOIN_NODE_0_16 = 1, /**< 0.16.3 */
    ICMS_GAPCOIN_NODE_2606 = 2  /**< 2606 */
} icms_gapcoin_node_t;

/** Constants of one network. */
typedef struct icms_gapcoin_params {
    icms_gapcoin_network_t network;
    const char *name;         /**< "main" or "test" */
    uint8_t p2pkh_version;    /**< base58check version of P2PKH addresses */
    uint8_t p2sh_version;     /**< base58check version of P2SH addresses */
    uint8_t wif_version;      /**< base58check version of private keys (WIF) */
    const char *hrp_0_16;     /**< bech32 HRP of node 0.16.3, or NULL when none is known */
    const char *hrp_2606;     /**< bech32m HRP of node 2606 */
    uint64_t min_difficulty;  /**< lowest nDifficulty (difficulty x 2^48) */
    uint16_t p2p_port;        /**< default P2P port */
    uint16_t rpc_port;        /**< default JSON-RPC port */
    uint8_t genesis_hash[32]; /**< genesis block hash, internal byte order */
} icms_gapcoin_params;

/** The parameters of a network, or NULL for an unknown value. Static; never free. */
ICMS_EXTERN const icms_gapcoin_params *icms_gapcoin_params_get(icms_gapcoin_network_t network);

/** 1 GAP in base units. */
#define ICMS_GAPCOIN_COIN INT64_C(100000000)
/**
 * Largest amount accepted in one output and in the sum of a transaction's
 * outputs: 21,000,000 GAP. A sanity bound against corrupt data, far above any
 * real payment; not a consensus rule.
 */
#define ICMS_GAPCOIN_MAX_MONEY (INT64_C(21000000) * ICMS_GAPCOIN_COIN)
/**@}*/

/* ------------------------------------------------------------------------ */
/** @name Hashes and hex */
/**@{*/

/** Size of a 32-byte hash in hex including the terminating NUL. */
#define ICMS_GAPCOIN_HASH_HEX_SIZE 65

/**
 * Lowercase hex of bytes, NUL-terminated, in *out (free with icms_free).
 * bytes may be NULL when bytes_len is 0.
 */
ICMS_EXTERN int icms_gapcoin_hex_encode(const uint8_t *bytes, size_t bytes_len, char **out);

/**
 * Decode hex (either case, even length, nothing else) into *out, *out_len
 * bytes (free with icms_free; an empty string gives a 1-byte allocation and
 * *out_len 0). ICMS_EINVALID names the offending character or the odd length.
 */
ICMS_EXTERN int icms_gapcoin_hex_decode(const char *text, uint8_t **out, size_t *out_len);

/** Display form of a hash: the 32 bytes reversed, as 64 lowercase hex digits + NUL. */
ICMS_EXTERN void icms_gapcoin_hash_to_hex(const uint8_t hash[32],
                                          char out[ICMS_GAPCOIN_HASH_HEX_SIZE]);

/** Parse a display-form hash (64 hex digits, byte-reversed) into internal order. */
ICMS_EXTERN int icms_gapcoin_hash_from_hex(const char *text, uint8_t out[32]);

/** SHA-256d (SHA-256 of SHA-256) of bytes. */
ICMS_EXTERN void icms_gapcoin_sha256d(const uint8_t *bytes, size_t bytes_len, uint8_t out[32]);

/** HASH160 (RIPEMD-160 of SHA-256) of bytes. */
ICMS_EXTERN void icms_gapcoin_hash160(const uint8_t *bytes, size_t bytes_len, uint8_t out[20]);
/**@}*/

/* ------------------------------------------------------------------------ */
/** @name Base58check */
/**@{*/

/** Longest base58check text icms_gapcoin_base58check_decode accepts. */
#define ICMS_GAPCOIN_BASE58_MAX_TEXT 256
/** Longest payload icms_gapcoin_base58check_encode accepts. */
#define ICMS_GAPCOIN_BASE58_MAX_PAYLOAD 128

/**
 * Base58check of a version byte followed by bytes (the payload), with the
 * 4-byte SHA-256d checksum, NUL-terminated in *out (free with icms_free).
 * ICMS_ELIMIT when bytes_len > ICMS_GAPCOIN_BASE58_MAX_PAYLOAD.
 */
ICMS_EXTERN int icms_gapcoin_base58check_encode(uint8_t version, const uint8_t *bytes,
                                                size_t bytes_len, char **out);

/**
 * Decode base58check text: *version_out gets the version byte, *out and
 * *out_len the payload after it (free with icms_free). ICMS_EINVALID for a
 * character outside the alphabet (named with its position), text shorter
 * than version + checksum, or a checksum mismatch; ICMS_ELIMIT for text longer
 * than ICMS_GAPCOIN_BASE58_MAX_TEXT.
 */
ICMS_EXTERN int icms_gapcoin_base58check_decode(const char *text, uint8_t *version_out,
                                                uint8_t **out, size_t *out_len);
/**@}*/

/* ------------------------------------------------------------------------ */
/** @name Bech32 and bech32m */
/**@{*/

/** Which checksum constant a bech32 string uses. */
typedef enum icms_gapcoin_bech32_t {
    ICMS_GAPCOIN_BECH32 = 1, /**< BIP173 */
    ICMS_GAPCOIN_BECH32M = 2 /**< BIP350 */
} icms_gapcoin_bech32_t;

/**
 * Encode an HRP and 5-bit values (each 0..31) as bech32 or bech32m in *out,
 * lowercase (free with icms_free). ICMS_EINVALID for a bad HRP (1-83 chars,
 * US-ASCII 33-126, no uppercase) or a value above 31; ICMS_ELIMIT when the
 * result would exceed 90 characters.
 */
ICMS_EXTERN int icms_gapcoin_bech32_encode(const char *hrp, const uint8_t *bytes, size_t bytes_len,
                                           icms_gapcoin_bech32_t encoding, char **out);

/**
 * Decode a bech32 or bech32m string. *hrp_out gets the lowercase HRP, *out
 * and *out_len the 5-bit data values without the checksum (free both with
 * icms_free), *encoding_out which checksum matched. ICMS_EINVALID for mixed
 * case, a character outside the charset (named with its position), a missing
 * separator, a short data part, a length over 90, or a checksum that matches
 * neither constant.
 */
ICMS_EXTERN int icms_gapcoin_bech32_decode(const char *text, char **hrp_out, uint8_t **out,
                                           size_t *out_len, icms_gapcoin_bech32_t *encoding_out);
/**@}*/

/* ------------------------------------------------------------------------ */
/** @name Output scripts and addresses */
/**@{*/

/** Kinds of output script. */
typedef enum icms_gapcoin_script_type_t {
    ICMS_GAPCOIN_SCRIPT_NONSTANDARD = 0, /**< none of the below */
    ICMS_GAPCOIN_SCRIPT_P2PK = 1,        /**< <33 or 65-byte pubkey> OP_CHECKSIG */
    ICMS_GAPCOIN_SCRIPT_P2PKH = 2,       /**< OP_DUP OP_HASH160 <20> OP_EQUALVERIFY OP_CHECKSIG */
    ICMS_GAPCOIN_SCRIPT_P2SH = 3,        /**< OP_HASH160 <20> OP_EQUAL */
    ICMS_GAPCOIN_SCRIPT_P2WPKH = 4,      /**< OP_0 <20> */
    ICMS_GAPCOIN_SCRIPT_P2WSH = 5,       /**< OP_0 <32> */
    ICMS_GAPCOIN_SCRIPT_P2TR = 6,        /**< OP_1 <32> */
    ICMS_GAPCOIN_SCRIPT_WITNESS_UNKNOWN = 7, /**< any other witness program (v1-16, 2-40 bytes) */
    ICMS_GAPCOIN_SCRIPT_OP_RETURN = 8        /**< starts with OP_RETURN: provably unspendable */
} icms_gapcoin_script_type_t;

/** Classify an output script. Never fails; anything unrecognised is NONSTANDARD. */
ICMS_EXTERN icms_gapcoin_script_type_t icms_gapcoin_script_classify(const uint8_t *bytes,
                                                                    size_t bytes_len);

/**
 * Short lowercase name of a script type ("p2pk", "p2pkh", "p2sh", "p2wpkh", "p2wsh", "p2tr",
 * "witness_unknown", "op_return", "nonstandard" for anything else). Static; never NULL.
 */
ICMS_EXTERN const char *icms_gapcoin_script_type_name(icms_gapcoin_script_type_t type);

/**
 * The address a node of the given generation shows for an output script, in
 * *out (free with icms_free). P2PK is shown as the P2PKH address of its key,
 * as nodes do. ICMS_ENOTFOUND when the script has no address on that
 * generation (OP_RETURN, non-standard; witness scripts on 0.9.x; witness
 * scripts on testnet 0.16.3, whose HRP is not known); ICMS_EINVALID for an
 * unknown network or generation.
 */
ICMS_EXTERN int icms_gapcoin_script_to_address(const uint8_t *bytes, size_t bytes_len,
                                               icms_gapcoin_network_t network,
                                               icms_gapcoin_node_t node, char **out);

/** Longest output script an address stands for (OP_16 <40-byte program>). */
#define ICMS_GAPCOIN_ADDRESS_SCRIPT_MAX 42

/** What an address says. */
typedef struct icms_gapcoin_address {
    icms_gapcoin_network_t network;
    icms_gapcoin_script_type_t type; /**< P2PKH, P2SH, P2WPKH, P2WSH, P2TR or WITNESS_UNKNOWN */
    icms_gapcoin_node_t node;        /**< the oldest node generation that writes this form */
    int witness_version;             /**< 0-16 for segwit addresses, -1 for base58 */
    size_t program_len;              /**< 20 for base58 (the hash160), 2-40 for segwit */
    uint8_t program[40];             /**< hash160 or witness program */
    size_t script_len;
    uint8_t script[ICMS_GAPCOIN_ADDRESS_SCRIPT_MAX]; /**< the output script paying it */
} icms_gapcoin_address;

/**
 * Decode any Gapcoin address (base58check P2PKH/P2SH of either network,
 * bech32 "gp", bech32m "gap"/"tgap") into *out, checking every checksum, the
 * version byte, the witness version and program length, that "gp" uses
 * bech32 and "gap"/"tgap" use bech32m. ICMS_EINVALID with the reason.
 */
ICMS_EXTERN int icms_gapcoin_address_decode(const char *text, icms_gapcoin_address *out);

/**
 * The output script an address expects, in *out / *out_len (free with
 * icms_free). As icms_gapcoin_address_decode, plus ICMS_EINVALID when the
 * address belongs to the other network.
 */
ICMS_EXTERN int icms_gapcoin_address_to_script(const char *text, icms_gapcoin_network_t network,
                                               uint8_t **out, size_t *out_len);
/**@}*/

/* ------------------------------------------------------------------------ */
/** @name Transactions */
/**@{*/

/** Largest serialized transaction the decoder accepts (bytes). */
#define ICMS_GAPCOIN_TX_MAX_SIZE 4000000
/** Largest compact-size count or length accepted anywhere (as Bitcoin's MAX_SIZE). */
#define ICMS_GAPCOIN_MAX_COMPACT_SIZE 0x02000000u

/** A run of bytes borrowed from the structure that holds it. */
typedef struct icms_gapcoin_slice {
    const uint8_t *bytes;
    size_t bytes_len;
} icms_gapcoin_slice;

/** One transaction input; every pointer borrows from the enclosing transaction. */
typedef struct icms_gapcoin_txin {
    uint8_t prev_txid[32]; /**< internal byte order */
    uint32_t vout;
    const uint8_t *script_sig;
    size_t script_sig_len;
    uint32_t sequence;
    size_t witness_count;
    const icms_gapcoin_slice *witness; /**< witness_count items (NULL when 0) */
} icms_gapcoin_txin;

/** One transaction output; the script borrows from the enclosing transaction. */
typedef struct icms_gapcoin_txout {
    int64_t value; /**< base units, 0..ICMS_GAPCOIN_MAX_MONEY */
    const uint8_t *script;
    size_t script_len;
} icms_gapcoin_txout;

/** A decoded transaction: one allocation, freed with icms_gapcoin_tx_free(). */
typedef struct icms_gapcoin_tx {
    int32_t version;
    uint32_t locktime;
    uint8_t txid[32];  /**< SHA-256d of the non-witness serialization, internal order */
    uint8_t wtxid[32]; /**< SHA-256d of the full serialization (== txid without witness) */
    size_t size;       /**< serialized size in bytes */
    size_t base_size;  /**< size of the non-witness serialization */
    int has_witness;   /**< 1 when serialized in the BIP144 form */
    size_t input_count;
    const icms_gapcoin_txin *inputs;
    size_t output_count;
    const icms_gapcoin_txout *outputs;
    int64_t total_out; /**< sum of output values, overflow-checked */
} icms_gapcoin_tx;

/**
 * Decode one serialized transaction, legacy or BIP144 (marker 0, flag 1),
 * into *out (free with icms_gapcoin_tx_free). Every length is checked against
 * the bytes that remain; compact sizes must be canonical; at least one input
 * and one output; a witness form must carry a non-empty witness; values and
 * their sum within 0..ICMS_GAPCOIN_MAX_MONEY; trailing bytes are rejected.
 * ICMS_EINVALID names the field and offset; ICMS_ELIMIT when bytes_len >
 * ICMS_GAPCOIN_TX_MAX_SIZE.
 */
ICMS_EXTERN int icms_gapcoin_tx_decode(const uint8_t *bytes, size_t bytes_len,
                                       icms_gapcoin_tx **out);

/**
 * 1 when tx is a coinbase (one input spending the null outpoint: prev txid
 * all zero, vout 0xffffffff), else 0 (also for NULL). A coinbase output can
 * be spent only after ICMS_GAPCOIN_COINBASE_MATURITY confirmations.
 */
ICMS_EXTERN int icms_gapcoin_tx_is_coinbase(const icms_gapcoin_tx *tx);

/** Confirmations a coinbase output needs before it can be spent. */
#define ICMS_GAPCOIN_COINBASE_MATURITY 100

/** Free a decoded transaction. NULL is allowed. */
ICMS_EXTERN void icms_gapcoin_tx_free(icms_gapcoin_tx *tx);
/**@}*/

/* ------------------------------------------------------------------------ */
/** @name Headers and blocks */
/**@{*/

/** Size of the hashed part of a header (version..nonce). */
#define ICMS_GAPCOIN_HEADER_HASHED_SIZE 84
/** Longest nAdd accepted: 1024 bits, the largest shift allows no more. */
#define ICMS_GAPCOIN_ADDER_MAX 128
/** Longest serialized header: 84 + 2 + 3 (compact size) + 128. */
#define ICMS_GAPCOIN_HEADER_MAX_SIZE                                                               \
    (ICMS_GAPCOIN_HEADER_HASHED_SIZE + 2 + 3 + ICMS_GAPCOIN_ADDER_MAX)

/** A decoded block header; plain value, no allocation. */
typedef struct icms_gapcoin_header {
    int32_t version;
    uint8_t prev_hash[32];   /**< internal byte order */
    uint8_t merkle_root[32]; /**< internal byte order */
    uint32_t time;
    uint64_t n_difficulty; /**< difficulty x 2^48 */
    uint32_t nonce;
    uint16_t shift;
    size_t adder_len;
    uint8_t adder[ICMS_GAPCOIN_ADDER_MAX]; /**< nAdd, little-endian */
    uint8_t hash[32];                      /**< SHA-256d of the first 84 bytes, internal order */
    size_t size;                           /**< serialized size */
} icms_gapcoin_header;

/**
 * Decode exactly one serialized header into *out (no allocation). The nAdd
 * length is a canonical compact size of at most ICMS_GAPCOIN_ADDER_MAX;
 * trailing bytes are rejected. Decoding does not check the proof of work.
 * ICMS_EINVALID with the field that is short or malformed.
 */
ICMS_EXTERN int icms_gapcoin_header_decode(const uint8_t *bytes, size_t bytes_len,
                                           icms_gapcoin_header *out);

/** Serialize a header into *out / *out_len (free with icms_free). */
ICMS_EXTERN int icms_gapcoin_header_encode(const icms_gapcoin_header *header, uint8_t **out,
                                           size_t *out_len);

/**
 * Merkle root of a list of txids (bytes: bytes_len / 32 hashes in internal
 * order, at least one) into out. *mutated_out (may be NULL) is set to 1 when
 * two equal hashes are paired at some level: the CVE-2012-2459 form in which
 * a different list has the same root, which a block must not have.
 */
ICMS_EXTERN int icms_gapcoin_merkle_root(const uint8_t *bytes, size_t bytes_len, uint8_t out[32],
                                         int *mutated_out);

/** A decoded block: one header and its transactions. */
typedef struct icms_gapcoin_block {
    icms_gapcoin_header header;
    size_t tx_count;
    icms_gapcoin_tx **txs; /**< tx_count transactions, owned by the block */
    size_t size;
} icms_gapcoin_block;

/** Largest serialized block accepted (bytes). */
#define ICMS_GAPCOIN_BLOCK_MAX_SIZE 8000000

/**
 * Decode a serialized block (header, compact-size count, transactions), as
 * `getblock HASH false` returns it, into *out (free with
 * icms_gapcoin_block_free). Checks that the transactions' merkle root equals
 * the header's and is not mutated (CVE-2012-2459); does not check the proof
 * of work. ICMS_EINVALID names the transaction and field; ICMS_ELIMIT when
 * bytes_len > ICMS_GAPCOIN_BLOCK_MAX_SIZE.
 */
ICMS_EXTERN int icms_gapcoin_block_decode(const uint8_t *bytes, size_t bytes_len,
                                          icms_gapcoin_block **out);

/** Free a decoded block. NULL is allowed. */
ICMS_EXTERN void icms_gapcoin_block_free(icms_gapcoin_block *block);
/**@}*/

/* ------------------------------------------------------------------------ */
/** @name Merkle proofs (CMerkleBlock) */
/**@{*/

/** Most transactions a proof may claim for its block. */
#define ICMS_GAPCOIN_PROOF_MAX_TX 100000u

/** A verified partial merkle tree. */
typedef struct icms_gapcoin_merkle_proof {
    icms_gapcoin_header header;
    uint32_t tx_count; /**< transactions in the block */
    size_t match_count;
    const uint8_t *matches;          /**< match_count txids of 32 bytes, internal order */
    const uint32_t *match_positions; /**< each match's index in the block */
} icms_gapcoin_merkle_proof;

/**
 * Parse a CMerkleBlock (header || u32 tx count || compact-size hash count ||
 * hashes || compact-size flag byte count || flag bytes, bits LSB first) and
 * check it: the tree rebuilt from the hashes and flags must reach the
 * header's merkle root, every hash and every flag bit must be used (padding
 * bits zero), no more hashes than transactions, and no node may have equal
 * children (the CVE-2012-2459 duplicate), and at least one transaction must
 * be matched. tx_count is not covered by the root (as in Bitcoin, a proof
 * for n transactions can also read as one for a few more when the last leaf
 * repeats), so positions are advisory; the matched txids are not. The
 * header's proof of work is NOT
 * checked here: call icms_gapcoin_pow_check() on out->header. Result in *out
 * (free with icms_gapcoin_merkle_proof_free). ICMS_EINVALID with the reason.
 */
ICMS_EXTERN int icms_gapcoin_merkle_proof_verify(const uint8_t *bytes, size_t bytes_len,
                                                 icms_gapcoin_merkle_proof **out);

/** 1 when txid (internal order) is among a proof's matches, else 0. */
ICMS_EXTERN int icms_gapcoin_merkle_proof_contains(const icms_gapcoin_merkle_proof *proof,
                                                   const uint8_t txid[32]);

/** Free a merkle proof. NULL is allowed. */
ICMS_EXTERN void icms_gapcoin_merkle_proof_free(icms_gapcoin_merkle_proof *proof);
/**@}*/

/* ------------------------------------------------------------------------ */
/** @name Proof of work */
/**@{*/

/** Figures of a prime-gap proof of work; merit and achieved are value x 2^48. */
typedef struct icms_gapcoin_pow {
    int computed;          /**< 1 when gap, merit and achieved were computed */
    uint64_t gap;          /**< end - start */
    uint64_t merit;        /**< gap / ln(start), x 2^48; 0 when it does not fit */
    uint64_t achieved;     /**< merit + (r mod mgd), the value compared with n_difficulty */
    uint64_t n_difficulty; /**< the header's target */
} icms_gapcoin_pow;

/**
 * Check a header's prime-gap proof of work: the hash as a little-endian
 * integer H >= 2^255, 14 <= shift <= 1024, adder < 2^shift, start = H*2^shift
 * + adder a probable prime, end the next prime, and achieved >= n_difficulty.
 * Returns 0 when valid, ICMS_EINVALID with the failing rule otherwise. *out
 * (may be NULL) is always written; out->computed says whether the figures were
 * reached (they are, for a header whose only fault is achieved < difficulty).
 */
ICMS_EXTERN int icms_gapcoin_pow_check(const icms_gapcoin_header *header, icms_gapcoin_pow *out);

/**
 * Decode a serialized header and check its proof of work: the two calls above
 * in one. header_out and pow_out may be NULL. Same errors as both.
 */
ICMS_EXTERN int icms_gapcoin_header_verify(const uint8_t *bytes, size_t bytes_len,
                                           icms_gapcoin_header *header_out,
                                           icms_gapcoin_pow *pow_out);

/**
 * The difficulty the block after prev must carry, from prev's difficulty and
 * actual_timespan = time(prev) - time(block before prev) in seconds (values
 * below 1 count as 1). Result in *out. ICMS_EINVALID for an unknown network.
 */
ICMS_EXTERN int icms_gapcoin_next_difficulty(icms_gapcoin_network_t network,
                                             uint64_t prev_difficulty, int64_t actual_timespan,
                                             uint64_t *out);

/** Target block spacing in seconds, also the timespan assumed near genesis. */
#define ICMS_GAPCOIN_TARGET_SPACING 150
/** Number of previous headers whose median time a header must exceed. */
#define ICMS_GAPCOIN_MTP_WINDOW 11

/** Options for header-chain verification. */
typedef struct icms_gapcoin_chain_options {
    unsigned int version;           /**< ICMS_GAPCOIN_CHAIN_OPTIONS_VERSION */
    icms_gapcoin_network_t network; /**< minimum difficulty and genesis hash */
    /**
     * Height of the first header, or -1 when unknown. A first header whose
     * prev_hash is all zero is taken as height 0 and must be the network's
     * genesis.
     */
    int64_t first_height;
} icms_gapcoin_chain_options;

#define ICMS_GAPCOIN_CHAIN_OPTIONS_VERSION 1
#define ICMS_GAPCOIN_CHAIN_OPTIONS_INIT                                                            \
    {                                                                                              \
        ICMS_GAPCOIN_CHAIN_OPTIONS_VERSION, ICMS_GAPCOIN_MAIN, -1                                  \
    }

/** Outcome of a chain verification. */
typedef struct icms_gapcoin_chain_result {
    size_t count;        /**< headers verified (all of them on success) */
    uint8_t tip[32];     /**< hash of the last header checked successfully */
    size_t failed_index; /**< on failure: index (0 = first) of the failing header */
    /**
     * Sum of the verified headers' achieved values (saturating): a rough
     * measure for comparing chains of the same start, not the node's chainwork.
     */
    uint64_t total_work;
} icms_gapcoin_chain_result;

/**
 * Verify a chain of headers, oldest first: each header's proof of work; each
 * header's prev_hash is the previous header's hash; each n_difficulty equals
 * the retarget from its predecessors (for the second header only when the
 * first is at a known height of 0 or 1, since the rule needs two
 * predecessors; near genesis the timespan is ICMS_GAPCOIN_TARGET_SPACING
 * until the previous header is at height 2 or more); each time exceeds the
 * median of the up to 11 preceding headers in the list. The first header is
 * the trust anchor: only its proof of work (and, at height 0, its identity as
 * genesis) is checked. Returns 0 when all hold; ICMS_EINVALID with the
 * header index and the rule otherwise, and out->failed_index set. *out may be
 * NULL.
 */
ICMS_EXTERN int icms_gapcoin_chain_verify_headers(const icms_gapcoin_header *headers, size_t count,
                                                  const icms_gapcoin_chain_options *options,
                                                  icms_gapcoin_chain_result *out);

/**
 * As icms_gapcoin_chain_verify_headers, from serialized headers laid end to
 * end in bytes (each is self-delimiting). At most ICMS_GAPCOIN_CHAIN_MAX
 * headers (ICMS_ELIMIT beyond).
 */
ICMS_EXTERN int icms_gapcoin_chain_verify(const uint8_t *bytes, size_t bytes_len,
                                          const icms_gapcoin_chain_options *options,
                                          icms_gapcoin_chain_result *out);

/** Most headers icms_gapcoin_chain_verify accepts in one call. */
#define ICMS_GAPCOIN_CHAIN_MAX 100000u
/**@}*/

#ifdef __cplusplus
}
#endif

#endif /* ICMS_GAPCOIN_H */
