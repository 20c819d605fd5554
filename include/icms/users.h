/*
 * libicms: users (the seed's User Service).
 *
 * Profiles, roles, KYC status, deactivation, erasure on request and the
 * investor's history. docs/users.md has the record, the table of who may do
 * what, the KYC flow and what erasure guarantees.
 *
 * Every function takes the database and the request context (icms/request.h)
 * saying who acts, and answers JSON text through *out (may be NULL when the
 * answer is not wanted). *out belongs to the caller and is freed with
 * icms_free(); it is NULL after a failure. Input strings are borrowed for the
 * call only. Every function is safe to call from several threads on one
 * handle, and from several processes on one SQLite file.
 *
 * What the commands (everything but icms_user_get and icms_user_history)
 * answer is the user's summary, which holds no personal data:
 *
 *     {"id":"0190...","status":"ACTIVE","roles":["INVESTOR"],"kyc_status":"NONE",
 *      "created_at":"2026-01-01T00:00:00.000Z","updated_at":"2026-01-01T00:00:00.000Z"}
 *
 * so that what an idempotency key remembers (for 24 hours) never keeps a
 * name, an email or a phone number alive after the user is erased. Read the
 * profile itself with icms_user_get().
 *
 * Errors every function may return: ICMS_EINVALID (bad input; the message
 * starts with the field: "email: must look like name@example.com"),
 * ICMS_EFORBIDDEN (the actor may not do this), ICMS_ENOTFOUND (no such user,
 * or one the actor may not see: a hidden user reads exactly like a missing
 * one), ICMS_EUNAUTHENTICATED (the acting user does not exist or is not
 * active), ICMS_EIDEMPOTENCY (an idempotency key reused for another request),
 * and the store's ICMS_ESTORAGE, ICMS_EBUSY, ICMS_ECONFLICT, ICMS_ENOMEM.
 * A failed call changes nothing.
 */
#ifndef ICMS_USERS_H
#define ICMS_USERS_H

#include "icms/db.h"
#include "icms/request.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Longest accepted name, in bytes of UTF-8. */
#define ICMS_USER_NAME_MAX 200
/** Longest accepted email address, in bytes. */
#define ICMS_USER_EMAIL_MAX 254
/** Longest accepted photo URL, in bytes. */
#define ICMS_USER_PHOTO_URL_MAX 2048
/** Largest accepted KYC metadata document, in bytes of JSON text. */
#define ICMS_USER_KYC_METADATA_MAX (16 * 1024)
/** Longest accepted note on a KYC decision, in bytes. */
#define ICMS_USER_KYC_NOTE_MAX 1000
/** How many KYC history entries a user keeps; older ones are dropped. */
#define ICMS_USER_KYC_HISTORY_MAX 50

/**
 * Create the first administrator. Only the host (ICMS_ACTOR_HOST) may, and
 * only once: while no administrator exists and no bootstrap has happened.
 * Two processes racing on one database cannot both succeed (the bootstrap
 * writes one well-known key, so the store serializes them).
 *
 * json: {"name": "...", "email": "...", "phone"?: "...", "photo_url"?: "..."}
 * (the fields as in icms_user_create; roles are always ["ADMIN"]).
 * *out: the new user's summary.
 * Errors: ICMS_EFORBIDDEN (not the host), ICMS_EEXISTS (an administrator
 * exists or the bootstrap already ran; or the email is taken), ICMS_EINVALID.
 */
ICMS_EXTERN int icms_user_bootstrap_admin(icms_db *db, const icms_request *req, const char *json,
                                          char **out);

/**
 * Create a user. The host or an administrator may.
 *
 * json: {"name": "...", "email": "...", "phone"?: "...", "photo_url"?: "...",
 * "roles"?: ["OWNER", "INVESTOR", "ADMIN"]}. name: 1..200 bytes, no control
 * characters, not blank. email: local@domain with a dot in the domain, at
 * most 254 bytes, printable ASCII without spaces; unique regardless of ASCII
 * case. phone: E.164, "+" then 8..15 digits, the first not 0. photo_url:
 * "https://" and a host, at most 2048 bytes, printable ASCII without spaces.
 * phone and photo_url may be null (absent). roles default to ["INVESTOR"];
 * no role twice. Unknown fields are refused.
 *
 * The user starts ACTIVE with KYC status NONE. *out: the summary.
 * Errors: ICMS_EFORBIDDEN, ICMS_EINVALID, ICMS_EEXISTS (the email is taken).
 */
ICMS_EXTERN int icms_user_create(icms_db *db, const icms_request *req, const char *json,
                                 char **out);

/**
 * Read a user by id.
 *
 * The user themself, an administrator and the host see the whole profile:
 * {"id","name","email","phone"?,"photo_url"?,"roles","status",
 *  "kyc":{"status","metadata"?,"history":[{"status","at","by","note"?}]},
 *  "created_at","updated_at","deactivated_at"?,"erased_at"?}.
 * Another signed-in user sees the public view {"id","name","photo_url"?,
 * "roles"} of an ACTIVE user, and nothing (ICMS_ENOTFOUND) of a deactivated
 * or erased one. Anonymous callers and the system actor see nothing.
 *
 * Errors: ICMS_ENOTFOUND, ICMS_EINVALID (id is not a libicms id).
 */
ICMS_EXTERN int icms_user_get(icms_db *db, const icms_request *req, const char *id, char **out);

/**
 * Change a user's profile. The user themself or an administrator (or the
 * host) may.
 *
 * json: any of {"name","email","phone","photo_url"} (at least one), checked
 * as in icms_user_create; phone and photo_url set to null remove them.
 * Roles, status and KYC have their own calls. An erased user cannot be
 * changed. *out: the summary.
 * Errors: ICMS_EFORBIDDEN, ICMS_ENOTFOUND, ICMS_EINVALID, ICMS_EEXISTS (the
 * new email is taken), ICMS_EINVALID_TRANSITION (the user is erased).
 */
ICMS_EXTERN int icms_user_update(icms_db *db, const icms_request *req, const char *id,
                                 const char *json, char **out);

/**
 * Give a user a role ("OWNER", "INVESTOR" or "ADMIN"). Administrators and
 * the host only. *out: the summary.
 * Errors: ICMS_EFORBIDDEN, ICMS_ENOTFOUND, ICMS_EINVALID (unknown role),
 * ICMS_EINVALID_TRANSITION (the user already holds it, or is erased).
 */
ICMS_EXTERN int icms_user_grant_role(icms_db *db, const icms_request *req, const char *id,
                                     const char *role, char **out);

/**
 * Take a role from a user. Administrators and the host only. The last
 * active administrator keeps ADMIN: taking it is refused.
 * Errors: ICMS_EFORBIDDEN, ICMS_ENOTFOUND, ICMS_EINVALID,
 * ICMS_EINVALID_TRANSITION (the user does not hold it, is erased, or is the
 * last administrator).
 */
ICMS_EXTERN int icms_user_revoke_role(icms_db *db, const icms_request *req, const char *id,
                                      const char *role, char **out);

/**
 * Move a user's KYC status ("PENDING", "VERIFIED", "REJECTED").
 *
 * - NONE or REJECTED -> PENDING: the user (or an administrator for them)
 *   submits; document is the KYC metadata, required, replacing what was
 *   there: a JSON object of at most ICMS_USER_KYC_METADATA_MAX bytes,
 *   {"document": "passport" | "national_id" | ..., "country"?, "number"?,
 *   "date_of_birth"?, "nationality"?, "address"?, "provider"?,
 *   "provider_reference"?, "files"?, "extra"?} (docs/users.md, "KYC
 *   metadata"; unknown fields are refused).
 * - PENDING -> VERIFIED, PENDING -> REJECTED, VERIFIED -> REJECTED: an
 *   administrator or the host decides; document is NULL or {"note": "..."}
 *   (1..ICMS_USER_KYC_NOTE_MAX bytes). An administrator may not decide their
 *   own KYC; the host may decide anyone's.
 *
 * Every move appends {"status","at","by","note"?} to the user's KYC history,
 * which keeps the last ICMS_USER_KYC_HISTORY_MAX entries. *out: the summary.
 * Errors: ICMS_EFORBIDDEN, ICMS_ENOTFOUND, ICMS_EINVALID,
 * ICMS_EINVALID_TRANSITION (a move the table above does not have; an erased user).
 */
ICMS_EXTERN int icms_user_set_kyc(icms_db *db, const icms_request *req, const char *id,
                                  const char *status, const char *document, char **out);

/**
 * Deactivate a user: they can no longer act (every call they make answers
 * ICMS_EUNAUTHENTICATED) and other users no longer see them. Their data
 * stays. Administrators and the host only; the last active administrator
 * cannot be deactivated. *out: the summary.
 * Errors: ICMS_EFORBIDDEN, ICMS_ENOTFOUND, ICMS_EINVALID_TRANSITION (not
 * ACTIVE, or the last administrator).
 */
ICMS_EXTERN int icms_user_deactivate(icms_db *db, const icms_request *req, const char *id,
                                     char **out);

/**
 * Erase a user's personal data on request: name becomes "erased user";
 * email, phone, photo URL, KYC metadata and KYC notes are removed (the email
 * is free for a new user at once); roles are dropped; status becomes ERASED.
 * The id stays, so ledger entries, participations and the audit log keep
 * their references; the KYC status history keeps statuses, times and
 * deciders. The user themself, an administrator or the host may; the last
 * active administrator cannot be erased. Nothing the library writes for the
 * erasure (audit entry, event) holds personal data. *out: the summary.
 * Errors: ICMS_EFORBIDDEN, ICMS_ENOTFOUND, ICMS_EINVALID_TRANSITION (already
 * erased, or the last administrator).
 */
ICMS_EXTERN int icms_user_erase(icms_db *db, const icms_request *req, const char *id, char **out);

/**
 * The investor's history: {"user_id","invested","refunded","projects_joined"}
 * with amounts in base units (int64, exact). Kept up to date by the payments
 * and participations commands; zeros until then. The user themself, an
 * administrator or the host may read it.
 * Errors: ICMS_EFORBIDDEN (another user, who may see the user exists),
 * ICMS_ENOTFOUND, ICMS_EINVALID.
 */
ICMS_EXTERN int icms_user_history(icms_db *db, const icms_request *req, const char *id, char **out);

#ifdef __cplusplus
}
#endif

#endif /* ICMS_USERS_H */
