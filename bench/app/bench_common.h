/* What the app benchmarks share: timing, failing loudly, users, the raw SQLite floor. */
#ifndef ICMS_BENCH_COMMON_H
#define ICMS_BENCH_COMMON_H

#include "icms/db.h"

/* Seconds on a monotonic clock. */
double bench_now(void);

/* Exit with the library's message when rc is not ICMS_OK. */
void bench_check(int rc, const char *what);

/*
 * Write an active user with one role and verified KYC straight into the
 * store (the users commands are not what is measured); id_text gets its id.
 */
void bench_add_user(icms_db *db, const char *role, int n, char id_text[37]);

/*
 * SQLite committing one 600-byte row per transaction on a fresh file, WAL,
 * with synchronous=sync: the floor any durable command stands on.
 */
double bench_raw_sqlite(const char *path, const char *sync, int count);

#endif
