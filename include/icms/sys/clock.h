/*
 * The clock port: milliseconds since the Unix epoch, UTC.
 *
 * Everything in libicms that depends on the time (expiry, token lifetimes,
 * idempotency windows, the timestamp inside UUIDv7 ids, "occurred_at" in
 * events) reads it through one of these, so a test can inject a fake clock and
 * get the same answers on every run.
 *
 * Not included by icms.h: this header is for hosts that supply their own
 * clock and for tests.
 */
#ifndef ICMS_SYS_CLOCK_H
#define ICMS_SYS_CLOCK_H

#include "icms/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * A clock. Fill one with ICMS_CLOCK_INIT and set now_ms; once handed to the
 * library (for example through icms_open's options) the library owns it and
 * calls free() exactly once when done with it.
 *
 * Threads: now_ms may be called from several threads at once.
 */
typedef struct icms_clock {
    unsigned int version; /**< ICMS_CLOCK_VERSION */

    /**
     * The current time in milliseconds since 1970-01-01T00:00:00Z, leap
     * seconds not counted (POSIX time). Cannot fail; a clock that has no
     * answer should return its last good reading.
     */
    int64_t (*now_ms)(struct icms_clock *clock);

    /** Release the clock and its payload; may be NULL when there is nothing to release. */
    void (*free)(struct icms_clock *clock);

    /** Anything the clock needs; the library never reads it. */
    void *payload;
} icms_clock;

#define ICMS_CLOCK_VERSION 1
/* clang-format off */
#define ICMS_CLOCK_INIT {ICMS_CLOCK_VERSION, NULL, NULL, NULL}
/* clang-format on */

/**
 * A clock that reads the system's real-time clock (CLOCK_REALTIME).
 *
 * On success *out belongs to the caller until handed to the library; release
 * it with icms_clock_free(). Errors: ICMS_EINVALID (out is NULL), ICMS_ENOMEM.
 * Thread-safe.
 */
ICMS_EXTERN int icms_clock_realtime_new(icms_clock **out);

/**
 * A fake clock for tests: it reads start_ms until moved with
 * icms_clock_fake_set() or icms_clock_fake_advance().
 *
 * On success *out belongs to the caller until handed to the library; release
 * it with icms_clock_free(). Errors: ICMS_EINVALID (out is NULL), ICMS_ENOMEM.
 * Reading and moving the clock are safe from several threads at once.
 */
ICMS_EXTERN int icms_clock_fake_new(int64_t start_ms, icms_clock **out);

/**
 * Set a fake clock to ms (it may go backwards, to test what happens then).
 * Errors: ICMS_EINVALID when clock is NULL or not made by icms_clock_fake_new().
 */
ICMS_EXTERN int icms_clock_fake_set(icms_clock *clock, int64_t ms);

/**
 * Move a fake clock by delta_ms (negative moves it back).
 * Errors: ICMS_EINVALID when clock is NULL, not a fake clock, or the result
 * would overflow int64.
 */
ICMS_EXTERN int icms_clock_fake_advance(icms_clock *clock, int64_t delta_ms);

/**
 * Read a clock: clock->now_ms(clock). NULL reads the system's real-time clock.
 * Thread-safe as far as the clock is.
 */
ICMS_EXTERN int64_t icms_clock_now(icms_clock *clock);

/** Release a clock that was not handed to the library (calls its free). NULL is allowed. */
ICMS_EXTERN void icms_clock_free(icms_clock *clock);

#ifdef __cplusplus
}
#endif

#endif /* ICMS_SYS_CLOCK_H */
