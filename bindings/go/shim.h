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

#endif
