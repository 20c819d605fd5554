/* What the app benchmarks share: timing, failing loudly, users, the raw SQLite floor. */
#ifndef ICMS_BENCH_COMMON_H
#define ICMS_BENCH_COMMON_H

#include "icms/db.h"

/* Seconds on a monotonic clock. */
double bench_now(void);

/*
 * The SQLite checkpoint size every bench file uses, the library's and the raw
 * floors' alike: BENCH_CHECKPOINT_PAGES from the environment, else the
 * library's default (to compare, e.g. BENCH_CHECKPOINT_PAGES=1000, SQLite's own).
 */
unsigned bench_checkpoint_pages(void);

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

/*
 * The same floor in steps, to run interleaved with the work it is compared
 * with, so that a shared machine's changing load falls on both alike:
 * bench_raw_commits returns the seconds count commits took.
 */
typedef struct bench_raw bench_raw;
bench_raw *bench_raw_open(const char *path, const char *sync);
double bench_raw_commits(bench_raw *raw, int count);
void bench_raw_close(bench_raw *raw);

#endif
