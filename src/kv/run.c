#include "kv/run.h"

#include <time.h>

#include <sodium.h>

#include "core/core.h"

static bool retryable(int rc)
{
    return rc == ICMS_ECONFLICT || rc == ICMS_EBUSY;
}

static void sleep_ms(unsigned int ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

/* Full jitter: a random wait in [0, cap], so racing writers spread out. */
static void backoff(const icms__retry_policy *policy, unsigned int attempt)
{
    unsigned int cap = policy->base_delay_ms;
    for (unsigned int i = 1; i < attempt && cap < policy->max_delay_ms; i++)
        cap *= 2;
    if (cap > policy->max_delay_ms)
        cap = policy->max_delay_ms;
    sleep_ms(randombytes_uniform(cap + 1));
}

static int attempt_once(icms_store *store, icms__hints *hints, icms__tx_fn fn, void *arg)
{
    icms__tx tx;
    int rc = icms__tx_begin(store, ICMS_STORE_WRITE, &tx);
    if (rc)
        return rc;
    tx.hints = hints;
    rc = fn(&tx, arg);
    if (rc) {
        icms__tx_rollback(&tx);
        return rc;
    }
    return icms__tx_commit(&tx);
}

int icms__run_write(icms_store *store, icms__hints *hints, const icms__retry_policy *policy,
                    icms__tx_fn fn, void *arg)
{
    static const icms__retry_policy default_policy = ICMS__RETRY_POLICY_DEFAULT;
    if (!policy)
        policy = &default_policy;
    unsigned int attempts = policy->attempts ? policy->attempts : 1;
    int rc = ICMS_ERROR;
    for (unsigned int attempt = 1; attempt <= attempts; attempt++) {
        rc = attempt_once(store, hints, fn, arg);
        if (!retryable(rc))
            return rc;
        if (attempt < attempts)
            backoff(policy, attempt);
    }
    return icms__error(rc, "gave up after %u attempts: %s", attempts, icms_error_last()->message);
}

int icms__run_read(icms_store *store, icms__hints *hints, icms__tx_fn fn, void *arg)
{
    icms__tx tx;
    int rc = icms__tx_begin(store, ICMS_STORE_READ, &tx);
    if (rc)
        return rc;
    tx.hints = hints;
    rc = fn(&tx, arg);
    if (rc) {
        icms__tx_rollback(&tx);
        return rc;
    }
    return icms__tx_commit(&tx);
}
