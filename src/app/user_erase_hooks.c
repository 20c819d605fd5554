/*
 * Erasure reaches beyond the user record: whatever another part of the
 * library keeps about a user that is personal data must go in the same
 * transaction as the tombstone, so an erasure is all or nothing. Each such
 * part adds its call here (and a search for its data to
 * tests/app/test_users_erase.c).
 *
 * - auth: identities (the provider's id of the person), the password hash,
 *   sessions (device labels) and their refresh records.
 *
 * Notifications keep ids only and read addresses when they deliver; the
 * ledger, participations and payments keep ids and amounts: nothing to do.
 */
#include "app/auth_cmd.h"
#include "app/user_api.h"

int icms__user_erase_elsewhere(icms__cmd *cmd, const uint8_t id[16])
{
    return icms__auth_erase_user(cmd, id);
}
