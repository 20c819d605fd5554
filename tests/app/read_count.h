/*
 * A store that counts what a command reads: point reads (get), scans, and
 * the keys the scans visit. A scan of a whole index is one call however many
 * keys it walks, so the keys are counted too: together they say whether a
 * command's reads grow with the database (tests/app/test_*.c "reads do not
 * grow", bench/app/bench_scale.c).
 *
 * Threads: the counters are plain integers; count one thread's commands.
 */
#ifndef ICMS_TEST_READ_COUNT_H
#define ICMS_TEST_READ_COUNT_H

#include "icms/sys/store.h"

typedef struct read_counts {
    unsigned long gets;  /* get calls */
    unsigned long scans; /* scan calls */
    unsigned long rows;  /* keys the scans handed to their callbacks */
    unsigned long write_txns; /* write transactions begun (not reads: what else a command costs) */
} read_counts;

/* Wrap inner (owned: freed with the wrapper) in a store that forwards every call and counts. */
int read_count_store_new(icms_store **out, icms_store *inner);

/* The counts since creation or the last reset. */
read_counts read_count_get(const icms_store *counting);

void read_count_reset(icms_store *counting);

/* gets + scans + rows: one number for "how much did it read". */
unsigned long read_count_total(read_counts c);

#endif
