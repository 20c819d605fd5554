/*
 * The request context every call carries: who is acting, and the metadata
 * that ties the call to the host's request (the seed's RequestMetadata).
 */
#ifndef ICMS_REQUEST_H
#define ICMS_REQUEST_H

#include "icms/common.h"
#include "icms/types.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Longest accepted idempotency key, correlation id or trace field, in bytes. */
#define ICMS_REQUEST_FIELD_MAX 128

/**
 * Who is acting and why. Fill with ICMS_REQUEST_INIT; every string is
 * borrowed for the duration of the call and may be NULL.
 *
 * - actor_kind ICMS_ACTOR_USER with actor_id: a user, whose roles and status
 *   are read from the store in the same transaction as the command (so a
 *   revoked role or a deactivation takes effect at once). The host vouches
 *   that it authenticated this user.
 * - actor_kind ICMS_ACTOR_USER without actor_id: anonymous; may read what is
 *   public and nothing else.
 * - ICMS_ACTOR_HOST: the embedding application itself, trusted with an
 *   admin's rights (bootstrap, operations).
 * - ICMS_ACTOR_SYSTEM: the library's own periodic work (icms_tick).
 */
typedef struct icms_request {
    unsigned int version;          /**< ICMS_REQUEST_VERSION */
    icms_actor_kind_t actor_kind;  /**< default ICMS_ACTOR_USER */
    const char *actor_id;          /**< a user id (UUID text) for ICMS_ACTOR_USER */
    /**
     * Makes a mutating call safe to retry: the same key with the same request
     * returns the first call's result for 24 hours; with a different request
     * it is refused with ICMS_EIDEMPOTENCY. Keys are per actor.
     */
    const char *idempotency_key;
    const char *correlation_id; /**< ties events and audit entries to the host's request */
    const char *trace_id;
    const char *span_id;
    const char *request_id;
    const char *source; /**< the calling service or client */
    /**
     * An access token (icms/auth.h) naming the acting user instead of
     * actor_id: with actor_kind ICMS_ACTOR_USER and no actor_id, the command
     * verifies it (signature, issuer, audience, times, live session) in its
     * own transaction and acts as the token's user. An invalid token fails
     * the call with ICMS_EUNAUTHENTICATED.
     */
    const char *access_token;
} icms_request;

#define ICMS_REQUEST_VERSION 1
#define ICMS_REQUEST_INIT                                                                          \
    {ICMS_REQUEST_VERSION, ICMS_ACTOR_USER, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL}

/** How long an idempotency key remembers its result. */
#define ICMS_IDEMPOTENCY_WINDOW_MS (24LL * 60 * 60 * 1000)

#ifdef __cplusplus
}
#endif

#endif /* ICMS_REQUEST_H */
