/*
 * What other commands use of users, inside their own transaction: finding a
 * user by email (password login) and creating one (first login with an
 * external identity). Both keep every rule of icms_user_create: the same
 * field checks, the unique email, the administrator set, the user.created
 * event. The calling command writes its own audit entry.
 */
#ifndef ICMS_SRC_APP_USER_API_H
#define ICMS_SRC_APP_USER_API_H

#include <cjson/cJSON.h>

#include "app/command.h"

/*
 * The id of the user with this email, compared ignoring ASCII case.
 * ICMS_ENOTFOUND when none (erased users have no email); ICMS_EINVALID when
 * email is not one icms_user_create would accept.
 */
int icms__user_find_by_email(icms__tx *tx, const char *email, uint8_t id_out[16]);

/*
 * Create a user in cmd's transaction from input ({name, email, phone?,
 * photo_url?, roles?}, checked as icms_user_create checks it; roles default
 * to INVESTOR) and append the user.created event. No authorization: the
 * caller decides who may. *id_out gets the new id; *doc_out (may be NULL)
 * the stored record, to be freed with cJSON_Delete.
 * Errors: ICMS_EINVALID (naming the field), ICMS_EEXISTS (email taken).
 */
int icms__user_insert(icms__cmd *cmd, const cJSON *input, uint8_t id_out[16], cJSON **doc_out);

/*
 * Remove, in the erasure's transaction, the personal data that other parts
 * of the library keep about user id (src/app/user_erase_hooks.c). Called by
 * icms_user_erase before the tombstone is written; an error fails the erasure.
 */
int icms__user_erase_elsewhere(icms__cmd *cmd, const uint8_t id[16]);

#endif
