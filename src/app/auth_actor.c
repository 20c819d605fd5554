/* The harness's hook: a request's access token to the acting user's id. */
#include <string.h>

#include "app/auth_hook.h"
#include "auth/store.h"

int icms__auth_actor_from_token(icms__tx *tx, int64_t now_ms, const char *token,
                                char user_id[ICMS_UUID_STRING_SIZE])
{
    icms__claims claims;
    int rc = icms__auth_token_check(tx, now_ms, token, &claims);
    if (rc == ICMS_OK)
        memcpy(user_id, claims.sub, ICMS_UUID_STRING_SIZE);
    return rc;
}
