/*
 * The auth commands. Secrets never come from the command line (where every
 * user of the machine can read them): the master key, passwords and refresh
 * tokens are read from files or stdin, and wiped once used.
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

#include "icms/auth.h"
#include "icms/gapcoin.h"
#include "icms/sys/secrets.h"
#include "jread.h"

/* The first line of a file ("-" is stdin), for a secret; wiped and freed by the caller. */
static int read_secret_line(cli *c, const char *path, const char *what, char **out)
{
    if (!path)
        return cli_usage(c, "this command needs %s", what);
    size_t len = 0;
    int err = cli_read_file(path, out, &len);
    if (err)
        return cli_usage(c, "cannot read %s: %s", path, strerror(-err));
    (*out)[strcspn(*out, "\r\n")] = '\0';
    return CLI_EXIT_OK;
}

static void wipe_free(char *s)
{
    if (s) {
        memset(s, 0, strlen(s));
        free(s);
    }
}

/* An auth handle with the master key of --master-key-file or $ICMS_MASTER_KEY_FILE. */
static int open_auth(cli *c, icms_auth **out)
{
    const char *path = c->master_key_file ? c->master_key_file : getenv("ICMS_MASTER_KEY_FILE");
    char *hex = NULL;
    int status =
        read_secret_line(c, path && *path ? path : NULL,
                         "the master key (--master-key-file FILE or ICMS_MASTER_KEY_FILE)", &hex);
    if (status)
        return status;
    uint8_t *key = NULL;
    size_t key_len = 0;
    int rc = icms_gapcoin_hex_decode(hex, &key, &key_len);
    wipe_free(hex);
    if (rc == ICMS_OK && key_len != ICMS_SECRETS_KEY_BYTES)
        rc = ICMS_EINVALID;
    icms_secrets *secrets = NULL;
    if (rc == ICMS_OK)
        rc = icms_secrets_static_new(key, key_len, &secrets);
    if (key) {
        memset(key, 0, key_len);
        icms_free(key);
    }
    if (rc == ICMS_EINVALID)
        return cli_fail(rc, "the master key file must hold 64 hex digits (32 bytes)");
    if (rc)
        return cli_finish(rc, NULL);
    icms_auth_options o = ICMS_AUTH_OPTIONS_INIT;
    o.issuer = c->issuer ? c->issuer : getenv("ICMS_AUTH_ISSUER");
    o.audience = c->audience ? c->audience : getenv("ICMS_AUTH_AUDIENCE");
    if (!o.issuer || !*o.issuer)
        o.issuer = "icms";
    if (!o.audience || !*o.audience)
        o.audience = "icms";
    o.secrets = secrets;
    rc = icms_auth_new(out, c->db, &o);
    return rc == ICMS_OK ? CLI_EXIT_OK : cli_finish(rc, NULL);
}

int cli_auth_password(cli *c)
{
    char *password = NULL;
    int status = read_secret_line(c, c->password_file, "--password-file FILE|-", &password);
    if (status)
        return status;
    icms_auth *auth = NULL;
    status = open_auth(c, &auth);
    if (status) {
        wipe_free(password);
        return status;
    }
    int rc = icms_auth_password_set(auth, &c->req, c->argv[0], password);
    wipe_free(password);
    icms_auth_free(auth);
    if (rc)
        return cli_finish(rc, NULL);
    printf("{\"user_id\":\"%s\",\"password_set\":true}\n", c->argv[0]);
    return CLI_EXIT_OK;
}

int cli_auth_login(cli *c)
{
    jval *doc = jread_parse(c->doc, strlen(c->doc));
    const char *email = jstr(doc, "email");
    if (!email) {
        jread_free(doc);
        return cli_fail(ICMS_EINVALID, "the login document needs {\"email\"}");
    }
    char *password = NULL;
    int status = read_secret_line(c, c->password_file, "--password-file FILE|-", &password);
    icms_auth *auth = NULL;
    if (status == CLI_EXIT_OK)
        status = open_auth(c, &auth);
    int rc = ICMS_OK;
    char *out = NULL;
    if (status == CLI_EXIT_OK) {
        icms_auth_password_login login = ICMS_AUTH_PASSWORD_LOGIN_INIT;
        login.email = email;
        login.password = password;
        login.device = c->device ? c->device : "icms command line";
        rc = icms_auth_login_password(auth, &c->req, &login, &out);
        status = cli_finish(rc, out);
    }
    wipe_free(password);
    icms_auth_free(auth);
    jread_free(doc);
    return status;
}

int cli_auth_refresh(cli *c)
{
    char *token = NULL;
    int status = read_secret_line(c, c->refresh_token_file, "--refresh-token-file FILE|-", &token);
    if (status)
        return status;
    icms_auth *auth = NULL;
    status = open_auth(c, &auth);
    if (status == CLI_EXIT_OK) {
        char *out = NULL;
        int rc = icms_auth_refresh(auth, &c->req, token, &out);
        status = cli_finish(rc, out);
    }
    wipe_free(token);
    icms_auth_free(auth);
    return status;
}

int cli_auth_verify(cli *c)
{
    if (!c->token)
        return cli_usage(c, "auth verify checks the token given with --token");
    icms_auth *auth = NULL;
    int status = open_auth(c, &auth);
    if (status)
        return status;
    char *out = NULL;
    int rc = icms_auth_verify(auth, c->token, &out);
    icms_auth_free(auth);
    return cli_finish(rc, out);
}

int cli_auth_jwks(cli *c)
{
    icms_auth *auth = NULL;
    int status = open_auth(c, &auth);
    if (status)
        return status;
    char *out = NULL;
    int rc = icms_auth_jwks(auth, &out);
    icms_auth_free(auth);
    return cli_finish(rc, out);
}

int cli_auth_rotate_keys(cli *c)
{
    icms_auth *auth = NULL;
    int status = open_auth(c, &auth);
    if (status)
        return status;
    char *out = NULL;
    int rc = icms_auth_rotate_keys(auth, &c->req, &out);
    icms_auth_free(auth);
    return cli_finish(rc, out);
}

/* ---- external (OAuth 2.0 / OIDC) login: the host's side of the flow ---- */

int cli_auth_external_start(cli *c)
{
    char *state = NULL, *verifier = NULL, *challenge = NULL;
    int rc = icms_auth_state_new(&state);
    if (rc == ICMS_OK)
        rc = icms_auth_pkce_verifier_new(&verifier);
    if (rc == ICMS_OK)
        rc = icms_auth_pkce_challenge(verifier, &challenge);
    int status;
    if (rc == ICMS_OK) {
        /* the point of the command: the host keeps state and verifier for the finish */
        printf("{\"state\":\"%s\",\"code_verifier\":\"%s\",\"code_challenge\":\"%s\","
               "\"code_challenge_method\":\"S256\"}\n",
               state, verifier, challenge);
        status = fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAILURE;
    } else {
        status = cli_finish(rc, NULL);
    }
    (void)c;
    icms_free(state);
    if (verifier) {
        memset(verifier, 0, strlen(verifier));
        icms_free(verifier);
    }
    icms_free(challenge);
    return status;
}

/* The identity of an external-finish or link-identity document; false when malformed. */
static bool read_identity(const jval *doc, icms_auth_identity *id)
{
    if (!doc || doc->type != J_OBJECT)
        return false;
    const jval *verified = jget(doc, "email_verified");
    if (verified && verified->type != J_BOOL)
        return false;
    id->provider = jstr(doc, "provider");
    id->subject = jstr(doc, "subject");
    id->email = jstr(doc, "email");
    id->name = jstr(doc, "name");
    id->email_verified = verified && verified->boolean;
    return id->provider && id->subject;
}

int cli_auth_external_finish(cli *c)
{
    jval *doc = jread_parse(c->doc, strlen(c->doc));
    icms_auth_identity id = ICMS_AUTH_IDENTITY_INIT;
    if (!read_identity(doc, &id)) {
        jread_free(doc);
        return cli_fail(ICMS_EINVALID, "the identity document needs {\"provider\",\"subject\"} "
                                       "(and \"email\",\"email_verified\":true for a new user)");
    }
    int status = CLI_EXIT_OK;
    if (c->state_file) {
        /* the state this login started with (kept by the host) against the one returned */
        char *expected = NULL;
        status = read_secret_line(c, c->state_file, "--state-file FILE|-", &expected);
        if (status == CLI_EXIT_OK) {
            int rc = icms_auth_state_check(expected, jstr(doc, "state"));
            if (rc)
                status = cli_fail(rc, "the state returned by the provider does not match the "
                                      "one this login started with");
        }
        wipe_free(expected);
    }
    icms_auth *auth = NULL;
    if (status == CLI_EXIT_OK)
        status = open_auth(c, &auth);
    if (status == CLI_EXIT_OK) {
        id.device = c->device ? c->device : "icms command line";
        char *out = NULL;
        int rc = icms_auth_login_external(auth, &c->req, &id, &out);
        status = cli_finish(rc, out);
    }
    icms_auth_free(auth);
    jread_free(doc);
    return status;
}

int cli_auth_link_identity(cli *c)
{
    jval *doc = jread_parse(c->doc, strlen(c->doc));
    icms_auth_identity id = ICMS_AUTH_IDENTITY_INIT;
    if (!read_identity(doc, &id)) {
        jread_free(doc);
        return cli_fail(ICMS_EINVALID, "the identity document needs {\"provider\",\"subject\"}");
    }
    icms_auth *auth = NULL;
    int status = open_auth(c, &auth);
    if (status == CLI_EXIT_OK) {
        char *out = NULL;
        int rc = icms_auth_link_identity(auth, &c->req, &id, &out);
        status = cli_finish(rc, out);
    }
    icms_auth_free(auth);
    jread_free(doc);
    return status;
}

int cli_auth_pkce_check(cli *c)
{
    char *verifier = NULL;
    int status = read_secret_line(c, c->verifier_file, "--verifier-file FILE|-", &verifier);
    if (status)
        return status;
    int rc = icms_auth_pkce_check(verifier, c->argv[0]);
    wipe_free(verifier);
    if (rc)
        return cli_finish(rc, NULL);
    printf("{\"valid\":true}\n");
    return CLI_EXIT_OK;
}
