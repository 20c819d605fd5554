/* Verifying an access token inside a transaction: key, signature, claims, session. */
#include <string.h>

#include "auth/store.h"
#include "core/core.h"
#include "core/json.h"
#include "core/uuid.h"

int icms__auth_token_check(icms__tx *tx, int64_t now_ms, const char *token, icms__claims *out)
{
    icms__auth_config cfg;
    int rc = icms__auth_config_get(tx, &cfg);
    if (rc == ICMS_ENOTFOUND)
        return icms__error(ICMS_EUNAUTHENTICATED, "access token refused: token authentication "
                                                  "is not set up on this database");
    if (rc)
        return rc;
    icms__jws jws;
    if ((rc = icms__jws_parse(token, &jws)))
        return rc;
    uint8_t pk[32];
    rc = icms__auth_key_public(tx, jws.kid, now_ms, pk);
    if (rc == ICMS_OK)
        rc = icms__jws_verify(&jws, pk);
    if (rc == ICMS_OK)
        rc = icms__claims_check(jws.payload, cfg.issuer, cfg.audience, now_ms, cfg.leeway_ms, out);
    icms__jws_clear(&jws);
    if (rc)
        return rc;
    /* Revocation is this one read: a logged-out or expired session ends its tokens at once. */
    uint8_t sid[16];
    cJSON *session = NULL;
    if (icms__uuid_parse(out->sid, strlen(out->sid), sid) != ICMS_OK)
        return icms__error(ICMS_EUNAUTHENTICATED, "access token refused: bad session id");
    rc = icms__record_get(tx, &icms__auth_session_record, sid, &session);
    if (rc == ICMS_ENOTFOUND)
        return icms__error(ICMS_EUNAUTHENTICATED, "access token refused: session ended");
    if (rc)
        return rc;
    const char *user = icms__json_get_string(session, "user_id");
    if (!user || strcmp(user, out->sub) != 0)
        rc = icms__error(ICMS_EUNAUTHENTICATED, "access token refused: session of another user");
    else if (!icms__auth_session_live(session, now_ms))
        rc = icms__error(ICMS_EUNAUTHENTICATED, "access token refused: session ended");
    cJSON_Delete(session);
    return rc;
}
