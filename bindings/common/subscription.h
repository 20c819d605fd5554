/*
 * Push subscriptions for the bindings: icms_events_subscribe with the
 * guarantees a language runtime needs, shared by the Python, Node and Go
 * layers.
 *
 * The library calls a subscriber on the thread that committed the command
 * and promises only that no call *starts* after icms_events_unsubscribe
 * returns; a call already running elsewhere finishes later, and a dispatch
 * that took its reference just before may still reach the payload. A
 * language cannot release its callback (a PyObject, a napi function, a
 * cgo.Handle) on those terms, so this layer adds:
 *
 *   - icms_binding_sub_close() waits until no call of the subscription is
 *     running on another thread (a call on the closing thread itself, when a
 *     callback closes its own subscription, is not waited for); after it
 *     returns, deliver() is never called again for it, so the language may
 *     release its target;
 *   - the struct itself stays valid until icms_binding_sub_free(), which may
 *     only run once no dispatch can reach it: after icms_close() of the
 *     database (or for a subscription whose icms_events_subscribe failed,
 *     which the constructor frees itself).
 *
 * Memory: a closed subscription keeps its ~100-byte struct until its
 * database is closed.
 */
#ifndef ICMS_BINDING_SUBSCRIPTION_H
#define ICMS_BINDING_SUBSCRIPTION_H

#include <stddef.h>
#include <stdint.h>

#include "icms.h"

/*
 * Hand one event to the language. Runs on the committing thread, with every
 * pointer borrowed for the call. A nonzero return counts as a failure
 * (icms_binding_sub_failures); it never fails the command.
 */
typedef int (*icms_binding_deliver_fn)(void *target, int64_t seq, const char *type,
                                       const char *json, size_t json_len);

typedef struct icms_binding_sub icms_binding_sub;

/*
 * Subscribe deliver(target, ...) to the events of db matching pattern. On
 * failure nothing is kept (and target is not touched). Errors:
 * icms_events_subscribe's, ICMS_ENOMEM.
 */
int icms_binding_sub_new(icms_db *db, const char *pattern, icms_binding_deliver_fn deliver,
                         void *target, icms_binding_sub **out);

/*
 * Unsubscribe and wait for the calls in flight on other threads. Returns 1
 * when this call closed it, 0 when it was already closed. db must still be
 * open. Callable from inside the subscription's own callback.
 */
int icms_binding_sub_close(icms_binding_sub *sub);

/* Events handed to deliver() so far, and how many of those it failed. */
uint64_t icms_binding_sub_delivered(icms_binding_sub *sub);
uint64_t icms_binding_sub_failures(icms_binding_sub *sub);

/* Free a subscription: only after icms_close() of its database. NULL allowed. */
void icms_binding_sub_free(icms_binding_sub *sub);

#endif
