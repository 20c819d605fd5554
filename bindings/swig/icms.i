/*
 * The SWIG interface of libicms, shared by the Python and Node bindings.
 *
 * It wraps the public C API and nothing else: no business logic lives here.
 * The shapes every language sees are the same:
 *
 *   - a command int icms_X(db, req, ..., char **out) returns [rc, text]:
 *     rc is 0 or a negative ICMS_E* code, text the JSON result (or null);
 *     the C string is freed with icms_free() inside the wrapper. The
 *     language layer (icms/__init__.py, lib/icms.js) turns rc into an
 *     exception in one place and parses the text.
 *   - out-pointers (icms_db **out, icms_clock **out, ...) come back as
 *     non-owning pointer objects appended to the result; the language layer
 *     owns their lifetime (close/free calls), since the library's ownership
 *     transfers (a clock handed to icms_open) cannot be told to a GC.
 *   - icms_request is built by one constructor that copies its strings and a
 *     destructor that frees them; its fields are read-only.
 *
 * Language-specific pieces live in python.i (bytes, host callbacks) and
 * node.i (null strings).
 */
%module(package="icms") native

%{
#include <stdlib.h>
#include <string.h>
#include "icms.h"
#include "icms/sys/clock.h"
#include "icms/sys/notifier.h"
#include "icms/sys/secrets.h"
#include "icms/sys/transport.h"

/* A malloc'ed copy for the request's fields (freed by its destructor). */
static char *binding_dup(const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s) + 1;
    char *d = (char *)malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

/* memset through a volatile pointer, so that the compiler keeps a wipe of a buffer about to be freed. */
static void *(*volatile binding_memset)(void *, int, size_t) = memset;

/* Wipe and free a NUL-terminated secret copy (NULL allowed). */
static void binding_secret_free(char *s)
{
    if (s) {
        binding_memset(s, 0, strlen(s));
        free(s);
    }
}
%}

%include <stdint.i>
#ifdef SWIGJAVASCRIPT
%include "node.i"
#endif

/* ---- result strings: char **out -> appended string, freed here ---------- */
#ifdef SWIGJAVASCRIPT
/* SWIG 4.1's JavaScript target misnumbers arguments after a numinputs=0
 * typemap, so there every out-parameter takes a placeholder (null) that is
 * ignored; lib/icms.js passes it. */
%typemap(in) char **out (char *tmp = NULL) "(void)$input; $1 = &tmp;"
#else
%typemap(in, numinputs=0) char **out (char *tmp = NULL) "$1 = &tmp;"
#endif
%typemap(argout, fragment="SWIG_FromCharPtr") char **out {
    %append_output(SWIG_FromCharPtr(tmp$argnum));
}
%typemap(freearg) char **out "icms_free(tmp$argnum);"
%apply char **out { char **report_out, char **checkpoint_out, char **hash_hex, char **address };

/* char **secret_out: a result that holds secrets (a token pair). As char **out,
 * but the C copy is wiped before it is freed: the only copy left is the
 * language's own string. */
%apply char **out { char **secret_out };
%typemap(freearg) char **secret_out "binding_secret_free(tmp$argnum);"

/* ---- out-pointers: appended as non-owning pointer objects --------------- */
#ifdef SWIGJAVASCRIPT
%define ICMS_OUT_PTR_IN(TYPE)
%typemap(in) TYPE **out (TYPE *tmp = NULL) "(void)$input; $1 = &tmp;"
%enddef
#else
%define ICMS_OUT_PTR_IN(TYPE)
%typemap(in, numinputs=0) TYPE **out (TYPE *tmp = NULL) "$1 = &tmp;"
%enddef
#endif
%define ICMS_OUT_PTR(TYPE)
ICMS_OUT_PTR_IN(TYPE)
%typemap(argout) TYPE **out {
    %append_output(SWIG_NewPointerObj(SWIG_as_voidptr(tmp$argnum), $descriptor(TYPE *), 0));
}
%enddef
ICMS_OUT_PTR(icms_db)
ICMS_OUT_PTR(icms_clock)
ICMS_OUT_PTR(icms_transport)
ICMS_OUT_PTR(icms_rpc_client)
ICMS_OUT_PTR(icms_auth)

/* ---- errors, versions, memory (icms/common.h) ---------------------------- */
%nodefaultctor icms_error;
%nodefaultdtor icms_error;
%immutable;
typedef struct icms_error {
    int code;
    const char *message;
} icms_error;
%mutable;

const icms_error *icms_error_last(void);
void icms_error_clear(void);
const char *icms_strerror(int code);
const char *icms_error_name(int code);
int icms_init(void);
int icms_shutdown(void);
const char *icms_version(void);
int icms_version_number(void);

/* ---- the request context (icms/request.h) -------------------------------- */
%immutable;
typedef struct icms_request {
    unsigned int version;
    int actor_kind;
    const char *actor_id;
    const char *idempotency_key;
    const char *correlation_id;
    const char *trace_id;
    const char *span_id;
    const char *request_id;
    const char *source;
    const char *access_token;
} icms_request;
%mutable;


%extend icms_request {
    /* Every string is copied; NULL/None/undefined leaves a field unset. */
    icms_request(int actor_kind, const char *actor_id, const char *idempotency_key,
                 const char *correlation_id, const char *trace_id, const char *span_id,
                 const char *request_id, const char *source, const char *access_token)
    {
        icms_request init = ICMS_REQUEST_INIT;
        icms_request *r = (icms_request *)malloc(sizeof *r);
        if (!r)
            return NULL;
        *r = init;
        r->actor_kind = (icms_actor_kind_t)actor_kind;
        r->actor_id = binding_dup(actor_id);
        r->idempotency_key = binding_dup(idempotency_key);
        r->correlation_id = binding_dup(correlation_id);
        r->trace_id = binding_dup(trace_id);
        r->span_id = binding_dup(span_id);
        r->request_id = binding_dup(request_id);
        r->source = binding_dup(source);
        r->access_token = binding_dup(access_token);
        return r;
    }
    ~icms_request()
    {
        free((char *)$self->actor_id);
        free((char *)$self->idempotency_key);
        free((char *)$self->correlation_id);
        free((char *)$self->trace_id);
        free((char *)$self->span_id);
        free((char *)$self->request_id);
        free((char *)$self->source);
        free((char *)$self->access_token);
        free($self);
    }
}

/* ---- opening (icms/db.h): one flat call instead of the options struct ---- */
typedef struct icms_db icms_db;
typedef struct icms_clock icms_clock;
typedef struct icms_transport icms_transport;
typedef struct icms_rpc_client icms_rpc_client;

%inline %{
/*
 * icms_open with the options a binding exposes. clock and gapcoin (either
 * may be NULL) pass to the handle whatever the result, as icms_open says.
 */
int icms_binding_open(icms_db **out, const char *path, icms_clock *clock,
                      icms_rpc_client *gapcoin, int kyc_optional, unsigned int sqlite_sync,
                      unsigned int gapcoin_network, unsigned int retry_attempts)
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

/*
 * A JSON-RPC client over the built-in libcurl transport (HTTP Basic when
 * username is not NULL). The handle that receives it (icms_binding_open)
 * owns it; otherwise free it with icms_rpc_client_free.
 */
int icms_binding_rpc_curl(icms_rpc_client **out, const char *url, const char *username,
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

/* A JSON-RPC client over a transport (which it owns from then on, even on failure). */
int icms_binding_rpc_new(icms_rpc_client **out, icms_transport *transport, const char *url)
{
    return icms_rpc_client_new(out, transport, url, NULL);
}
%}

void icms_close(icms_db *db);
void icms_rpc_client_free(icms_rpc_client *client);
void icms_transport_free(icms_transport *transport);

/* ---- clocks (icms/sys/clock.h) ------------------------------------------- */
int icms_clock_realtime_new(icms_clock **out);
int icms_clock_fake_new(int64_t start_ms, icms_clock **out);
int icms_clock_fake_set(icms_clock *clock, int64_t ms);
int icms_clock_fake_advance(icms_clock *clock, int64_t delta_ms);
int64_t icms_clock_now(icms_clock *clock);
void icms_clock_free(icms_clock *clock);

/* ---- commands: (db, req, ..., char **out) -------------------------------- */
/* users.h */
int icms_user_bootstrap_admin(icms_db *db, const icms_request *req, const char *json, char **out);
int icms_user_create(icms_db *db, const icms_request *req, const char *json, char **out);
int icms_user_get(icms_db *db, const icms_request *req, const char *id, char **out);
int icms_user_update(icms_db *db, const icms_request *req, const char *id, const char *json,
                     char **out);
int icms_user_grant_role(icms_db *db, const icms_request *req, const char *id, const char *role,
                         char **out);
int icms_user_revoke_role(icms_db *db, const icms_request *req, const char *id, const char *role,
                          char **out);
int icms_user_set_kyc(icms_db *db, const icms_request *req, const char *id, const char *status,
                      const char *document, char **out);
int icms_user_deactivate(icms_db *db, const icms_request *req, const char *id, char **out);
int icms_user_erase(icms_db *db, const icms_request *req, const char *id, char **out);
int icms_user_history(icms_db *db, const icms_request *req, const char *id, char **out);
/* projects.h */
int icms_project_create(icms_db *db, const icms_request *req, const char *json, char **out);
int icms_project_update(icms_db *db, const icms_request *req, const char *project_id,
                        const char *json, char **out);
int icms_project_get(icms_db *db, const icms_request *req, const char *project_id, char **out);
int icms_project_list(icms_db *db, const icms_request *req, const char *filter, char **out);
int icms_project_publish(icms_db *db, const icms_request *req, const char *project_id, char **out);
int icms_project_set_payout_address(icms_db *db, const icms_request *req,
                                    const char *project_id, const char *address, char **out);
int icms_project_approve(icms_db *db, const icms_request *req, const char *project_id, char **out);
int icms_project_ship(icms_db *db, const icms_request *req, const char *project_id,
                      const char *logistics_json, char **out);
int icms_project_complete(icms_db *db, const icms_request *req, const char *project_id,
                          char **out);
int icms_project_cancel(icms_db *db, const icms_request *req, const char *project_id,
                        const char *reason, char **out);
int icms_product_add(icms_db *db, const icms_request *req, const char *project_id,
                     const char *json, char **out);
int icms_product_update(icms_db *db, const icms_request *req, const char *project_id,
                        const char *product_id, const char *json, char **out);
int icms_product_remove(icms_db *db, const icms_request *req, const char *project_id,
                        const char *product_id, char **out);
int icms_tick(icms_db *db, char **report_out);
/* participations.h */
int icms_participation_request(icms_db *db, const icms_request *req, const char *project_id,
                               const char *json, char **out);
int icms_participation_approve(icms_db *db, const icms_request *req, const char *participation_id,
                               char **out);
int icms_participation_reject(icms_db *db, const icms_request *req, const char *participation_id,
                              const char *reason, char **out);
int icms_participation_withdraw(icms_db *db, const icms_request *req,
                                const char *participation_id, char **out);
int icms_participation_get(icms_db *db, const icms_request *req, const char *participation_id,
                           char **out);
int icms_participation_list(icms_db *db, const icms_request *req, const char *filter, char **out);
/* payments.h */
int icms_payment_initiate(icms_db *db, const icms_request *req, const char *participation_id,
                          const char *json, char **out);
int icms_payment_submit(icms_db *db, const icms_request *req, const char *payment_id,
                        const char *txid, char **out);
int icms_payment_verify(icms_db *db, const icms_request *req, const char *payment_id, char **out);
int icms_payment_get(icms_db *db, const icms_request *req, const char *payment_id, char **out);
int icms_payment_list(icms_db *db, const icms_request *req, const char *filter, char **out);
int icms_refund_list(icms_db *db, const icms_request *req, const char *filter, char **out);
int icms_refund_record(icms_db *db, const icms_request *req, const char *refund_id,
                       const char *txid, char **out);
int icms_project_distribute(icms_db *db, const icms_request *req, const char *project_id,
                            const char *json, char **out);
int icms_payout_list(icms_db *db, const icms_request *req, const char *filter, char **out);
int icms_payout_record(icms_db *db, const icms_request *req, const char *payout_id,
                       const char *txid, char **out);
int icms_release_get(icms_db *db, const icms_request *req, const char *release_id, char **out);
int icms_release_list(icms_db *db, const icms_request *req, const char *filter, char **out);
int icms_release_record(icms_db *db, const icms_request *req, const char *release_id,
                        const char *txid, char **out);
int icms_check(icms_db *db, const icms_request *req, char **report_out);
/* events.h: pull consumers and notifications */
int icms_events_read(icms_db *db, const icms_request *req, const char *consumer, int64_t after,
                     unsigned int max, char **out);
int icms_events_ack(icms_db *db, const icms_request *req, const char *consumer, int64_t seq);
int icms_events_seek(icms_db *db, const icms_request *req, const char *consumer, int64_t seq);
int icms_events_consumer_delete(icms_db *db, const icms_request *req, const char *consumer);
int icms_events_consumers(icms_db *db, const icms_request *req, char **out);
int icms_notify_run(icms_db *db, char **report_out);
int icms_notify_prefs_get(icms_db *db, const icms_request *req, const char *user_id, char **out);
int icms_notify_prefs_set(icms_db *db, const icms_request *req, const char *user_id,
                          const char *json, char **out);
int icms_notify_list(icms_db *db, const icms_request *req, const char *status, const char *after,
                     char **out);
int icms_notify_retry(icms_db *db, const icms_request *req, const char *notification_id,
                      char **out);
/* auth.h: sessions and the OAuth helpers */
int icms_auth_sessions(icms_db *db, const icms_request *req, const char *user_id, char **out);
int icms_auth_logout(icms_db *db, const icms_request *req, const char *session_id, char **out);
int icms_auth_logout_all(icms_db *db, const icms_request *req, const char *user_id, char **out);
int icms_auth_state_new(char **out);
int icms_auth_state_check(const char *expected, const char *received);
int icms_auth_pkce_verifier_new(char **out);
int icms_auth_pkce_challenge(const char *verifier, char **out);
int icms_auth_pkce_check(const char *verifier, const char *challenge);

/* ---- auth.h: the auth handle (token issuance and verification) ---------- */
%include "secrets.i"
/*
 * Secrets cross as bytes where the language has a mutable byte buffer
 * (python.i, node.i: the master key, audit keys) and as `const char *secret`
 * (a password, a refresh token): the language layer's value is copied into a
 * malloc'ed C string that is wiped and freed right after the call. What a
 * language keeps in its own immutable strings is beyond the wrapper's reach
 * (docs/bindings.md, "Secrets").
 */
typedef struct icms_auth icms_auth;

%inline %{
/*
 * icms_auth_new with a static secrets source holding a copy of the master
 * key (wiped when the handle is freed) and the options a binding exposes;
 * 0 leaves an option at its default. db must outlive the handle.
 */
int icms_binding_auth_new(icms_auth **out, icms_db *db, const uint8_t *key, size_t key_len,
                          const char *issuer, const char *audience, int64_t access_ttl_ms,
                          int64_t refresh_ttl_ms, int64_t leeway_ms,
                          unsigned int password_opslimit, unsigned int password_memlimit)
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

/* icms_auth_login_external with the identity's fields flat (NULL: unset). */
int icms_binding_auth_login_external(icms_auth *auth, const icms_request *req,
                                     const char *provider, const char *subject,
                                     const char *email, int email_verified, const char *name,
                                     const char *device, char **secret_out)
{
    icms_auth_identity id = ICMS_AUTH_IDENTITY_INIT;
    id.provider = provider;
    id.subject = subject;
    id.email = email;
    id.email_verified = email_verified;
    id.name = name;
    id.device = device;
    return icms_auth_login_external(auth, req, &id, secret_out);
}

/* icms_auth_link_identity: only provider and subject are used. */
int icms_binding_auth_link_identity(icms_auth *auth, const icms_request *req,
                                    const char *provider, const char *subject, char **out)
{
    icms_auth_identity id = ICMS_AUTH_IDENTITY_INIT;
    id.provider = provider;
    id.subject = subject;
    return icms_auth_link_identity(auth, req, &id, out);
}

/* icms_auth_login_password with the attempt's fields flat. */
int icms_binding_auth_login_password(icms_auth *auth, const icms_request *req,
                                     const char *email, const char *secret, const char *device,
                                     const char *source, char **secret_out)
{
    icms_auth_password_login login = ICMS_AUTH_PASSWORD_LOGIN_INIT;
    login.email = email;
    login.password = secret;
    login.device = device;
    login.source = source;
    return icms_auth_login_password(auth, req, &login, secret_out);
}

int icms_binding_auth_password_set(icms_auth *auth, const icms_request *req,
                                   const char *user_id, const char *secret)
{
    return icms_auth_password_set(auth, req, user_id, secret);
}

int icms_binding_auth_refresh(icms_auth *auth, const icms_request *req, const char *secret,
                              char **secret_out)
{
    return icms_auth_refresh(auth, req, secret, secret_out);
}

int icms_binding_auth_verify(icms_auth *auth, const char *secret, char **out)
{
    return icms_auth_verify(auth, secret, out);
}
%}

void icms_auth_free(icms_auth *auth);
int icms_auth_rotate_keys(icms_auth *auth, const icms_request *req, char **out);
int icms_auth_jwks(icms_auth *auth, char **out);

/* ---- audit.h: checkpoints ------------------------------------------------- */
int icms_audit_keypair(uint8_t *public_key, size_t public_key_len, uint8_t *secret_key,
                       size_t secret_key_len);
int icms_audit_checkpoint(icms_db *db, const uint8_t *secret_key, size_t secret_key_len,
                          char **checkpoint_out);
int icms_audit_verify(icms_db *db, const char *checkpoint, const uint8_t *public_key,
                      size_t public_key_len, char **report_out);

/* ---- gapcoin.h: decoding as JSON (bindings/common/gapcoin_json.c) -------- */
%{
#include "gapcoin_json.c"
%}
/* char **malloc_out: as char **out, but malloc'ed by the binding's own C code. */
%apply char **out { char **malloc_out };
%typemap(freearg) char **malloc_out "free(tmp$argnum);"
%apply (const uint8_t *in_bytes, size_t in_len) { (const uint8_t *script, size_t script_len) };
int icms_binding_gapcoin_tx_json(const uint8_t *in_bytes, size_t in_len, int network, int node,
                                 char **malloc_out);
int icms_binding_gapcoin_header_json(const uint8_t *in_bytes, size_t in_len, char **malloc_out);
int icms_binding_gapcoin_address_to_script_hex(const char *address, int network,
                                               char **malloc_out);
%inline %{
/* icms_gapcoin_script_to_address with plain ints for the enums. */
int icms_binding_gapcoin_script_to_address(const uint8_t *script, size_t script_len, int network,
                                           int node, char **out)
{
    return icms_gapcoin_script_to_address(script, script_len, (icms_gapcoin_network_t)network,
                                          (icms_gapcoin_node_t)node, out);
}
%}
%constant int ICMS_GAPCOIN_MAIN = ICMS_GAPCOIN_MAIN;
%constant int ICMS_GAPCOIN_TEST = ICMS_GAPCOIN_TEST;
%constant int ICMS_GAPCOIN_NODE_0_9 = ICMS_GAPCOIN_NODE_0_9;
%constant int ICMS_GAPCOIN_NODE_0_16 = ICMS_GAPCOIN_NODE_0_16;
%constant int ICMS_GAPCOIN_NODE_2606 = ICMS_GAPCOIN_NODE_2606;

/* ---- rpc.h, the NATS publisher, the rate limiter (bindings/common/host_api.c) */
%{
#include "host_api.c"
%}
typedef struct icms_nats_publisher icms_nats_publisher;
typedef struct icms_ratelimit icms_ratelimit;
ICMS_OUT_PTR(icms_nats_publisher)
ICMS_OUT_PTR(icms_ratelimit)
int icms_binding_rpc_call(icms_rpc_client *client, const char *method, const char *arg,
                          const char *arg2, int64_t n, char **malloc_out);
int icms_binding_rpc_check_payment(icms_rpc_client *client, const char *txid,
                                   const uint8_t *script, size_t script_len, const char *address,
                                   int network, int64_t min_amount, int64_t min_confirmations,
                                   int spv, uint64_t min_difficulty, const char *block_hash,
                                   char **malloc_out);
int icms_binding_nats_new(icms_nats_publisher **out, icms_db *db, const char *url,
                          const char *stream, const char *subject_prefix, const char *consumer,
                          int create_stream, unsigned int batch, int64_t timeout_ms,
                          int64_t duplicate_window_ms);
int64_t icms_binding_nats_drain(icms_nats_publisher *publisher);
void icms_nats_publisher_free(icms_nats_publisher *publisher);
int icms_nats_available(void);
int icms_binding_ratelimit_new(icms_ratelimit **out, uint32_t anonymous_limit,
                               uint32_t authenticated_limit, int64_t window_ms, size_t max_keys,
                               icms_clock *clock);
int icms_binding_ratelimit_hit(icms_ratelimit *limiter, int authenticated, const char *key,
                               char **malloc_out);
size_t icms_ratelimit_size(icms_ratelimit *limiter);
void icms_ratelimit_free(icms_ratelimit *limiter);

/* ---- error codes and enums as constants ---------------------------------- */
%constant int ICMS_OK = ICMS_OK;
%constant int ICMS_ERROR = ICMS_ERROR;
%constant int ICMS_ENOMEM = ICMS_ENOMEM;
%constant int ICMS_EINVALID = ICMS_EINVALID;
%constant int ICMS_ENOTFOUND = ICMS_ENOTFOUND;
%constant int ICMS_EEXISTS = ICMS_EEXISTS;
%constant int ICMS_EINVALID_TRANSITION = ICMS_EINVALID_TRANSITION;
%constant int ICMS_EFORBIDDEN = ICMS_EFORBIDDEN;
%constant int ICMS_ECONFLICT = ICMS_ECONFLICT;
%constant int ICMS_EBUSY = ICMS_EBUSY;
%constant int ICMS_EBUFS = ICMS_EBUFS;
%constant int ICMS_ESTORAGE = ICMS_ESTORAGE;
%constant int ICMS_ETRANSPORT = ICMS_ETRANSPORT;
%constant int ICMS_EVERSION = ICMS_EVERSION;
%constant int ICMS_EIDEMPOTENCY = ICMS_EIDEMPOTENCY;
%constant int ICMS_EUNAUTHENTICATED = ICMS_EUNAUTHENTICATED;
%constant int ICMS_ELIMIT = ICMS_ELIMIT;
%constant int ICMS_ECORRUPT = ICMS_ECORRUPT;
%constant int ICMS_EUSER = ICMS_EUSER;
%constant int ICMS_ACTOR_USER = ICMS_ACTOR_USER;
%constant int ICMS_ACTOR_SYSTEM = ICMS_ACTOR_SYSTEM;
%constant int ICMS_ACTOR_HOST = ICMS_ACTOR_HOST;
%constant int ICMS_EVENTS_FROM_CURSOR = ICMS_EVENTS_FROM_CURSOR;
%constant int ICMS_AUDIT_PUBLIC_KEY_BYTES = ICMS_AUDIT_PUBLIC_KEY_BYTES;
%constant int ICMS_AUDIT_SECRET_KEY_BYTES = ICMS_AUDIT_SECRET_KEY_BYTES;
%constant int ICMS_SECRETS_KEY_BYTES = ICMS_SECRETS_KEY_BYTES;

/* ---- language-specific pieces -------------------------------------------- */
#ifdef SWIGPYTHON
%include "python.i"
#endif
