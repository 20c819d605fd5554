/*
 * Erasure reaches beyond the user record: whatever another part of the
 * library keeps about a user that is personal data must go in the same
 * transaction as the tombstone, so an erasure is all or nothing. Each such
 * part adds its call here (and a search for its data to
 * tests/app/test_users_erase.c).
 *
 * Known, not yet wired: auth's identity records (their "subject" is the
 * provider's id of the person) and session device labels. They belong to
 * src/auth, which the app module does not link yet; docs/users.md lists them
 * under what erasure does not reach until they are called from here.
 */
#include "app/user_api.h"

int icms__user_erase_elsewhere(icms__cmd *cmd, const uint8_t id[16])
{
    (void)cmd;
    (void)id;
    return ICMS_OK;
}
