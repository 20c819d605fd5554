/*
 * The two places the rest of the application calls auth: the harness, to
 * turn a request's access token into the acting user, and icms_tick, to
 * sweep expired sessions.
 */
#ifndef ICMS_SRC_APP_AUTH_HOOK_H
#define ICMS_SRC_APP_AUTH_HOOK_H

#include "app/db.h"
#include "icms/util.h"
#include "kv/tx.h"

/*
 * Verify token in tx at now_ms (src/auth/verify.c: stored settings, JWS,
 * claims, live session) and write its user's id into user_id.
 * ICMS_EUNAUTHENTICATED saying which check failed; the token never appears
 * in a message.
 */
int icms__auth_actor_from_token(icms__tx *tx, int64_t now_ms, const char *token,
                                char user_id[ICMS_UUID_STRING_SIZE]);

/*
 * Delete sessions whose expiry is at or before now_ms, with their refresh
 * records, in batches of write commands run by the system actor (one audit
 * entry per batch). *swept (may be NULL) gets how many.
 */
int icms__auth_sweep(icms_db *db, int64_t now_ms, int64_t *swept);

#endif
