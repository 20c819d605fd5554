/* Internals of the RPC module; nothing here is exported. */
#ifndef ICMS_SRC_RPC_INTERNAL_H
#define ICMS_SRC_RPC_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>

#include <cjson/cJSON.h>

#include "icms/rpc.h"

struct icms_rpc_client {
    icms_transport *transport;
    char *url;
    char url_shown[256]; /* redacted, for messages */
    size_t max_response_len;
    icms_rpc_generation_t generation;
    atomic_int lacks_getblockheader; /* learned in AUTO mode from "method not found" */
    atomic_uint_fast64_t next_id;
};

/*
 * Parse JSON keeping every number's exact text: each number token becomes a
 * string that starts with the byte ICMS__JSON_NUMBER_MARK followed by the
 * token as written. Strings that themselves start with that byte are refused,
 * so the two cannot be confused. *out is freed with cJSON_Delete.
 * Errors: ICMS_ETRANSPORT (not JSON), ICMS_ENOMEM.
 */
#define ICMS__JSON_NUMBER_MARK '\x01'
int icms__json_parse_exact(const char *text, size_t len, cJSON **out);

/* The number token of an item parsed by icms__json_parse_exact, or NULL when it is no number. */
const char *icms__json_number(const cJSON *item);

/* A number item as an exact integer (no fraction, no exponent). False when not. */
bool icms__json_int(const cJSON *item, int64_t *out);

/* Lower-case hex of n bytes, or bytes of hex: helpers for the calls. */
bool icms__rpc_is_hash(const char *hex);
int icms__rpc_unhex(const char *hex, const char *what, uint8_t **out, size_t *out_len);

/*
 * One JSON-RPC call: params_json is the text of the params array ("[...]").
 * On success *result is the "result" member (detached; cJSON_Delete it).
 * Maps HTTP statuses and JSON-RPC errors to ICMS codes (docs/rpc.md).
 */
int icms__rpc_call(icms_rpc_client *client, const char *method, const char *params_json,
                   cJSON **result);

/* Code of the last JSON-RPC error object seen on this thread (0 when none). */
int icms__rpc_last_node_code(void);

#endif
