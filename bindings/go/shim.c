#include "shim.h"

#include <string.h>

#include "_cgo_export.h"

static _Thread_local uintptr_t current_ctx;
static _Thread_local uintptr_t pending;

void icms_go_set_ctx(uintptr_t handle) { current_ctx = handle; }
uintptr_t icms_go_ctx(void) { return current_ctx; }

void icms_go_set_pending(uintptr_t handle)
{
    if (pending)
        icmsGoDeleteHandle(pending); /* an earlier error nobody took */
    pending = handle;
}

uintptr_t icms_go_take_pending(void)
{
    uintptr_t h = pending;
    pending = 0;
    return h;
}

typedef struct go_transport {
    icms_transport base;
    uintptr_t handle;
} go_transport;

static int go_post(icms_transport *t, const icms_transport_request *r, int *status, uint8_t **body,
                   size_t *body_len)
{
    go_transport *self = (go_transport *)t;
    /* The Go side copies everything it needs; nothing of r outlives the call. */
    return icmsGoPost(self->handle, (char *)r->url, (char **)r->headers, (int)r->header_count,
                      (void *)r->body, (int)r->body_len, (long long)r->max_response_len, status,
                      body, body_len);
}

static void go_free(icms_transport *t)
{
    go_transport *self = (go_transport *)t;
    icmsGoDeleteHandle(self->handle);
    free(self);
}

icms_transport *icms_go_transport_new(uintptr_t handle)
{
    go_transport *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    icms_transport init = ICMS_TRANSPORT_INIT;
    t->base = init;
    t->base.post = go_post;
    t->base.free = go_free;
    t->handle = handle;
    return &t->base;
}

typedef struct go_notifier {
    icms_notifier base;
    uintptr_t handle;
} go_notifier;

static int go_send(icms_notifier *n, const icms_notification *x)
{
    return icmsGoNotify(((go_notifier *)n)->handle, (icms_notification *)x);
}

static void go_notifier_free(icms_notifier *n)
{
    icmsGoDeleteHandle(((go_notifier *)n)->handle);
    free(n);
}

icms_notifier *icms_go_notifier_new(uintptr_t handle)
{
    go_notifier *n = calloc(1, sizeof *n);
    if (!n)
        return NULL;
    icms_notifier init = ICMS_NOTIFIER_INIT;
    n->base = init;
    n->base.send = go_send;
    n->base.free = go_notifier_free;
    n->handle = handle;
    return &n->base;
}

int icms_go_open(icms_db **out, const char *path, icms_clock *clock, icms_rpc_client *gapcoin,
                 int kyc_optional, unsigned int sqlite_sync, unsigned int gapcoin_network,
                 unsigned int retry_attempts)
{
    icms_options options = ICMS_OPTIONS_INIT;
    options.path = path;
    options.clock = clock;
    options.gapcoin = gapcoin;
    options.kyc_optional = kyc_optional;
    options.sqlite_sync = sqlite_sync;
    options.gapcoin_network = gapcoin_network;
    options.retry_attempts = retry_attempts;
    return icms_open(out, &options);
}

int icms_go_rpc_curl(icms_rpc_client **out, const char *url, const char *username,
                     const char *password, unsigned int timeout_ms)
{
    icms_transport_curl_options options = ICMS_TRANSPORT_CURL_OPTIONS_INIT;
    options.username = username;
    options.password = password;
    options.timeout_ms = timeout_ms;
    icms_transport *t = NULL;
    int rc = icms_transport_curl_new(&t, &options);
    if (rc != ICMS_OK)
        return rc;
    return icms_rpc_client_new(out, t, url, NULL);
}

int icms_go_auth_new(icms_auth **out, icms_db *db, const uint8_t *key, size_t key_len,
                     const char *issuer, const char *audience, int64_t access_ttl_ms,
                     int64_t refresh_ttl_ms, int64_t leeway_ms, unsigned int password_opslimit,
                     unsigned int password_memlimit)
{
    icms_secrets *secrets = NULL;
    int rc = icms_secrets_static_new(key, key_len, &secrets);
    if (rc != ICMS_OK)
        return rc;
    icms_auth_options options = ICMS_AUTH_OPTIONS_INIT;
    options.issuer = issuer;
    options.audience = audience;
    options.secrets = secrets;
    if (access_ttl_ms)
        options.access_ttl_ms = access_ttl_ms;
    if (refresh_ttl_ms)
        options.refresh_ttl_ms = refresh_ttl_ms;
    if (leeway_ms)
        options.leeway_ms = leeway_ms;
    if (password_opslimit)
        options.password_opslimit = password_opslimit;
    if (password_memlimit)
        options.password_memlimit = password_memlimit;
    return icms_auth_new(out, db, &options);
}

int icms_go_auth_login_external(icms_auth *auth, const icms_request *req, const char *provider,
                                const char *subject, const char *email, int email_verified,
                                const char *name, const char *device, char **out)
{
    icms_auth_identity id = ICMS_AUTH_IDENTITY_INIT;
    id.provider = provider;
    id.subject = subject;
    id.email = email;
    id.email_verified = email_verified;
    id.name = name;
    id.device = device;
    return icms_auth_login_external(auth, req, &id, out);
}

int icms_go_auth_link_identity(icms_auth *auth, const icms_request *req, const char *provider,
                               const char *subject, char **out)
{
    icms_auth_identity id = ICMS_AUTH_IDENTITY_INIT;
    id.provider = provider;
    id.subject = subject;
    return icms_auth_link_identity(auth, req, &id, out);
}

int icms_go_auth_login_password(icms_auth *auth, const icms_request *req, const char *email,
                                const char *password, const char *device, const char *source,
                                char **out)
{
    icms_auth_password_login login = ICMS_AUTH_PASSWORD_LOGIN_INIT;
    login.email = email;
    login.password = password;
    login.device = device;
    login.source = source;
    return icms_auth_login_password(auth, req, &login, out);
}

static void *(*volatile go_memset)(void *, int, size_t) = memset;

void icms_go_wipe(char *s)
{
    if (s)
        go_memset(s, 0, strlen(s));
}

/* Gapcoin decoding as JSON, shared with the SWIG bindings. */
#include "../common/gapcoin_json.c"

/* The rpc client, NATS publisher and rate limiter flattened, shared with the SWIG bindings. */
#include "../common/host_api.c"

/* Push subscriptions (bindings/common/subscription.c): close waits for calls in flight. */
#include "../common/subscription.c"

static int go_deliver(void *target, int64_t seq, const char *type, const char *json,
                      size_t json_len)
{
    return icmsGoDeliverEvent((uintptr_t)target, (long long)seq, (char *)type, (char *)json,
                              (long long)json_len);
}

int icms_go_subscribe(icms_db *db, const char *pattern, uintptr_t handle, icms_binding_sub **out)
{
    return icms_binding_sub_new(db, pattern, go_deliver, (void *)handle, out);
}
