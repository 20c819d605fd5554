/*
 * The user document: its input schemas and field checks, the views handed
 * out, who sees what, and the one function that writes a user (so the set of
 * active administrators can never drift from the records).
 *
 * Layout of the stored record is in app/records.h.
 */
#ifndef ICMS_SRC_APP_USER_DOC_H
#define ICMS_SRC_APP_USER_DOC_H

#include <stdbool.h>

#include <cjson/cJSON.h>

#include "app/command.h"
#include "core/json.h"

#define ICMS__USER_ACTIVE "ACTIVE"
#define ICMS__USER_DEACTIVATED "DEACTIVATED"
#define ICMS__USER_ERASED "ERASED"
#define ICMS__USER_ERASED_NAME "erased user"

/* {name, email, phone?, photo_url?, roles?} */
extern const icms__json_schema icms__user_create_schema;
/* {name, email, phone?, photo_url?} */
extern const icms__json_schema icms__user_bootstrap_schema;
/* any of {name, email, phone, photo_url} */
extern const icms__json_schema icms__user_update_schema;

/* {document, country?, number?, ..., extra?}: docs/users.md, "KYC metadata" */
extern const icms__json_schema icms__user_kyc_metadata_schema;

/* Parse and check a JSON text argument called `what`; NULL text is ICMS_EINVALID. */
int icms__user_parse_input(const char *what, const char *json, size_t max_bytes,
                           const icms__json_schema *schema, cJSON **out);

/* Check an email address as icms_user_create does; ICMS_EINVALID "email: ...". */
int icms__user_check_email(const char *email);

/* Parse a user id argument; ICMS_EINVALID "id: ..." when it is not one. */
int icms__user_parse_id(const char *text, uint8_t id[16]);

/* Read a user record; ICMS_ENOTFOUND "user not found". */
int icms__user_load(icms__tx *tx, const uint8_t id[16], cJSON **out);

/* The record's status ("ACTIVE", ...), never NULL for a record we wrote. */
const char *icms__user_status(const cJSON *doc);
bool icms__user_status_is(const cJSON *doc, const char *status);

/* The role bits of a record's "roles"; ICMS_ECORRUPT for an unknown role. */
int icms__user_roles(const cJSON *doc, unsigned *roles);
/* Replace "roles" with the names of the bits, in the order OWNER, INVESTOR, ADMIN. */
int icms__user_set_roles(cJSON *doc, unsigned roles);
/* A JSON array of the role names of the bits; NULL when out of memory. */
cJSON *icms__user_role_array(unsigned roles);

/* Replace (or, with value NULL, remove) a member. */
int icms__user_set_string(cJSON *doc, const char *name, const char *value);
int icms__user_set_time(cJSON *doc, const char *name, int64_t ms);

/* ---- who sees what ---- */

typedef enum icms__user_sight_t {
    ICMS__USER_SEES_NOTHING = 0, /* anonymous, system, anyone for a hidden user */
    ICMS__USER_SEES_PUBLIC = 1,  /* another signed-in user, of an ACTIVE user */
    ICMS__USER_SEES_ALL = 2      /* the user, an administrator, the host */
} icms__user_sight_t;

bool icms__user_actor_is_admin(const icms__actor *actor);
icms__user_sight_t icms__user_sight(const icms__actor *actor, const uint8_t id[16],
                                    const cJSON *doc);

/*
 * Load the user a command acts on, with the rules every command shares:
 * ICMS_ENOTFOUND when absent or hidden from the actor, ICMS_EFORBIDDEN when
 * the actor sees the user but may not act (only administrators, the host
 * and, with self_allowed, the user themself may). what names the call in
 * the message ("user.history").
 */
int icms__user_load_target(icms__cmd *cmd, const uint8_t id[16], bool self_allowed,
                           const char *what, cJSON **out);

/* Refuse with ICMS_EFORBIDDEN unless the actor is an administrator or the host. */
int icms__user_require_admin(const icms__cmd *cmd, const char *what);

/* Refuse with ICMS_EINVALID_TRANSITION when the user is erased. */
int icms__user_require_not_erased(const cJSON *doc);

/* ---- views ---- */

/* The summary every command answers: no personal data (see icms/users.h). */
int icms__user_summary(const cJSON *doc, cJSON **out);
/* What another signed-in user sees: {id, name, photo_url?, roles}. */
int icms__user_public_view(const cJSON *doc, cJSON **out);

/* ---- writing ---- */

/*
 * Write doc as user id: stamps updated_at, keeps the email index (through the
 * record type) and the set of active administrators. old is the record as
 * it was (NULL for a new user). A taken email is ICMS_EEXISTS naming "email".
 */
int icms__user_save(icms__cmd *cmd, const uint8_t id[16], const cJSON *old, cJSON *doc);

/* True in *out when an active administrator other than id exists. */
int icms__user_other_admin_exists(icms__tx *tx, const uint8_t id[16], bool *out);

/* Refuse (ICMS_EINVALID_TRANSITION) when doc is the last active administrator. */
int icms__user_require_not_last_admin(icms__tx *tx, const uint8_t id[16], const cJSON *doc,
                                      const char *what);

/*
 * The common tail of a command: the audit entry (data may be NULL), the
 * event {user_id, ...event_extra} and the summary as the result. Takes
 * ownership of audit_data and event_extra whatever happens.
 */
int icms__user_finish(icms__cmd *cmd, const char *action, const char *event_type,
                      const char *id_text, const cJSON *doc, cJSON *audit_data, cJSON *event_extra);

/*
 * {"id": id_text, key: copy of value} (key and value may be NULL): the
 * request material an idempotency key is checked against. NULL when out of
 * memory (recorded).
 */
cJSON *icms__user_request_doc(const char *id_text, const char *key, const cJSON *value);

/* The key of the bootstrap marker and of an active administrator's entry. */
void icms__user_bootstrap_key(icms__key *key);
void icms__user_admin_key(icms__key *key, const uint8_t id[16]);
void icms__user_admin_prefix(icms__key *key);

#endif
