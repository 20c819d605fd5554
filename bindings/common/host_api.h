/*
 * Flat wrappers for the bindings over the parts of the C API that take
 * option structs or answer structs: the Gapcoin RPC client (rpc.h), the
 * NATS publisher (events.h) and the rate limiter (auth.h). Shared by the
 * SWIG interface (Python, Node) and the Go shim, so the three answer the
 * same JSON. Included after gapcoin_json.c (it reuses its JSON writer);
 * never compiled on its own.
 *
 * JSON results come through *malloc_out, allocated with malloc: free them
 * with free(). Integers are exact (int64/uint64 printed in full).
 */
#ifndef ICMS_BINDING_HOST_API_H
#define ICMS_BINDING_HOST_API_H

#include <stddef.h>
#include <stdint.h>

#include "icms.h"
#include "icms/sys/clock.h"

/*
 * One RPC call by name, its answer as a JSON object:
 *   "getblockcount"                  -> {"height": n}
 *   "getblockhash"      (n)          -> {"hash": hex}
 *   "getblock"          (arg)        -> {"hex": raw block}
 *   "getblockheader"    (arg)        -> {"hex": raw header}
 *   "getrawtransaction" (arg, arg2?) -> {"raw","txid","confirmations","in_block","blockhash",
 *                                        "blocktime","outputs":[{"n","value","script","address"?}]}
 *                                       (arg2: the block to look in, or NULL)
 *   "gettxoutproof"     (arg, arg2?) -> {"hex": merkle block}
 *   "getnewaddress"                  -> {"address"}
 *   "validateaddress"   (arg)        -> {"is_valid", "address"?, "script"?}
 * Errors: the call's (rpc.h); ICMS_EINVALID for an unknown method.
 */
int icms_binding_rpc_call(icms_rpc_client *client, const char *method, const char *arg,
                          const char *arg2, int64_t n, char **malloc_out);

/*
 * icms_rpc_check_payment with the query flat (script may be NULL with
 * script_len 0 when address is set; block_hash may be NULL). The answer:
 * {"status": "CONFIRMED"..., "amount", "vouts": [...], "confirmations",
 * "blockhash", "is_coinbase", "spv_verified", "verified_depth",
 * "pow": {"computed","gap","merit","achieved","n_difficulty"}}.
 */
int icms_binding_rpc_check_payment(icms_rpc_client *client, const char *txid,
                                   const uint8_t *script, size_t script_len, const char *address,
                                   int network, int64_t min_amount, int64_t min_confirmations,
                                   int spv, uint64_t min_difficulty, const char *block_hash,
                                   char **malloc_out);

/* icms_nats_publisher_new with the options flat (NULL or 0: the default). */
int icms_binding_nats_new(icms_nats_publisher **out, icms_db *db, const char *url,
                          const char *stream, const char *subject_prefix, const char *consumer,
                          int create_stream, unsigned int batch, int64_t timeout_ms,
                          int64_t duplicate_window_ms);

/* icms_nats_publisher_drain: the number of events published (>= 0), or a negative code. */
int64_t icms_binding_nats_drain(icms_nats_publisher *publisher);

/* icms_ratelimit_new with the options flat (0: the default); clock (may be NULL) passes to it. */
int icms_binding_ratelimit_new(icms_ratelimit **out, uint32_t anonymous_limit,
                               uint32_t authenticated_limit, int64_t window_ms, size_t max_keys,
                               icms_clock *clock);

/*
 * icms_ratelimit_hit: ICMS_OK or ICMS_ELIMIT (or another error) with the
 * decision as {"allowed", "limit", "remaining", "retry_after_ms"} in
 * *malloc_out for both ICMS_OK and ICMS_ELIMIT.
 */
int icms_binding_ratelimit_hit(icms_ratelimit *limiter, int authenticated, const char *key,
                               char **malloc_out);

#endif
