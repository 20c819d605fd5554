/*
 * One transaction per command.
 *
 * A command is a function of a transaction: it reads and writes through tx
 * and keeps no other side effect, so the runner may run it again from the
 * start when the store answers "conflict" or "busy" at commit. Any error the
 * command returns rolls everything back, so a failed command leaves the
 * store exactly as it was.
 */
#ifndef ICMS_SRC_KV_RUN_H
#define ICMS_SRC_KV_RUN_H

#include "kv/hints.h"
#include "kv/tx.h"

typedef int (*icms__tx_fn)(icms__tx *tx, void *arg);

typedef struct icms__retry_policy {
    unsigned int attempts;     /* total tries, at least 1 */
    unsigned int base_delay_ms; /* wait before the second try; doubles each time */
    unsigned int max_delay_ms;  /* cap of one wait */
} icms__retry_policy;

#define ICMS__RETRY_POLICY_DEFAULT {10, 1, 100}

/*
 * Run fn in a write transaction and commit, rerunning it (with exponential
 * backoff and jitter) while begin or commit answers ICMS_ECONFLICT or
 * ICMS_EBUSY. Returns fn's error, the final commit answer, or ICMS_OK.
 * hints (kv/hints.h, the handle's) may be NULL for none; policy NULL for the
 * default.
 */
int icms__run_write(icms_store *store, icms__hints *hints, const icms__retry_policy *policy,
                    icms__tx_fn fn, void *arg);

/* Run fn in a read transaction. */
int icms__run_read(icms_store *store, icms__hints *hints, icms__tx_fn fn, void *arg);

#endif
