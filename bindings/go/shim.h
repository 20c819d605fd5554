/*
 * C side of the Go binding: a transport whose post() calls back into Go
 * through a cgo.Handle (never a Go pointer kept by C), and per-thread slots
 * for the current call's context and a callback's error.
 */
#ifndef ICMS_GO_SHIM_H
#define ICMS_GO_SHIM_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "icms.h"
#include "icms/sys/clock.h"
#include "icms/sys/notifier.h"
#include "icms/sys/secrets.h"
#include "../common/gapcoin_json.h"
#include "../common/host_api.h"
#include "../common/subscription.h"
#include "icms/sys/transport.h"

/* A transport calling the Go Transport behind handle; it deletes the handle when freed. */
icms_transport *icms_go_transport_new(uintptr_t handle);

/* A notifier calling the Go Notifier behind handle; it deletes the handle when freed. */
icms_notifier *icms_go_notifier_new(uintptr_t handle);

/* The cgo.Handle of the context of the call running on this thread (0 = none). */
void icms_go_set_ctx(uintptr_t handle);
uintptr_t icms_go_ctx(void);

/* A callback's error (a cgo.Handle), kept until the caller takes it. */
void icms_go_set_pending(uintptr_t handle);
uintptr_t icms_go_take_pending(void);

/* icms_open with the options the binding exposes (clock and gapcoin pass to the handle). */
int icms_go_open(icms_db **out, const char *path, icms_clock *clock, icms_rpc_client *gapcoin,
                 int kyc_optional, unsigned int sqlite_sync, unsigned int gapcoin_network,
                 unsigned int retry_attempts);

/* A JSON-RPC client over the built-in libcurl transport. */
int icms_go_rpc_curl(icms_rpc_client **out, const char *url, const char *username,
                     const char *password, unsigned int timeout_ms);

/* icms_auth_new over a static secrets source holding a copy of key (wiped when the
 * handle is freed); 0 leaves an option at its default. */
int icms_go_auth_new(icms_auth **out, icms_db *db, const uint8_t *key, size_t key_len,
                     const char *issuer, const char *audience, int64_t access_ttl_ms,
                     int64_t refresh_ttl_ms, int64_t leeway_ms, unsigned int password_opslimit,
                     unsigned int password_memlimit);

/* icms_auth_login_external / icms_auth_link_identity with the identity's fields flat. */
int icms_go_auth_login_external(icms_auth *auth, const icms_request *req, const char *provider,
                                const char *subject, const char *email, int email_verified,
                                const char *name, const char *device, char **out);
int icms_go_auth_link_identity(icms_auth *auth, const icms_request *req, const char *provider,
                               const char *subject, char **out);

/* icms_auth_login_password with the attempt's fields flat. */
int icms_go_auth_login_password(icms_auth *auth, const icms_request *req, const char *email,
                                const char *password, const char *device, const char *source,
                                char **out);

/* Wipe a NUL-terminated C copy of a secret (the memset is not optimized away: it is a call
 * through a volatile pointer). NULL allowed. */
void icms_go_wipe(char *s);

/* Subscribe the Go subscription behind handle (a cgo.Handle, kept by C as an integer). */
int icms_go_subscribe(icms_db *db, const char *pattern, uintptr_t handle, icms_binding_sub **out);

#endif
