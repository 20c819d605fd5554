/*
 * "The raw durable commit it needs": a store wrapper that records the shape
 * of each write transaction a command makes (how many rows it inserts,
 * replaces and deletes, with their key and value sizes), and a raw SQLite
 * floor that commits transactions of exactly that shape with plain SQL, on a
 * file set up like the library's own (WAL, the same kv table, the same
 * synchronous setting). Reads are not replayed: the floor only writes. A command's cost divided by
 * its shape's raw cost is what the library adds on top of the writes it cannot avoid.
 */
#ifndef ICMS_BENCH_SHAPE_H
#define ICMS_BENCH_SHAPE_H

#include <stddef.h>
#include <stdio.h>

#include "icms/sys/store.h"

/* One write of a transaction: a put of key_len/value_len bytes, or a delete. */
typedef struct bench_write {
    unsigned char key[64];
    size_t key_len;
    size_t value_len; /* 0 and is_del: a delete */
    int is_del;
    int replaces; /* a put of a key the transaction had read and found: it replaces a row */
} bench_write;

/* The writes of one committed transaction, in order. */
typedef struct bench_shape {
    bench_write *writes;
    size_t count;
    size_t reads; /* point reads the transaction made (not replayed) */
} bench_shape;

/*
 * Wrap inner (owned from then on) in a store that forwards every call and
 * keeps the shape of the last write transaction that committed.
 */
icms_store *bench_shape_store(icms_store *inner);
/* The same, but inner stays the caller's: freeing the wrapper leaves it open. */
icms_store *bench_shape_store_borrowing(icms_store *inner);

/*
 * The shape of the last committed write transaction of store, copied into
 * out. From then on the wrapper only forwards: it records nothing more.
 */
void bench_shape_last(icms_store *store, bench_shape *out);
void bench_shape_free(bench_shape *shape);

/* One line per write: put or del, key size, the key's printable bytes, value size. */
void bench_shape_print(FILE *out, const bench_shape *shape);

/*
 * The fewest rows a storage redesign could leave of shape, chosen to flatter
 * the redesign: the status and unique index rows (keys under "i" and "u")
 * are dropped, as if each record carried its own index entries, and the
 * outbox and ledger rows are dropped, as if each command's audit entry, event
 * and ledger entry were one journal row no larger than the audit entry alone
 * (a real merged row needs at least the largest of the three). A ceiling on
 * what such a redesign could reach, not a design.
 */
void bench_shape_fewest(const bench_shape *shape, bench_shape *out);

/*
 * The floor: a fresh SQLite file at path (WAL, synchronous=sync, the library's
 * kv table) committing transactions of shape's writes. Each put keeps the
 * recorded key's length and leading bytes (so rows land beside their kind)
 * with a new counter in its last 8 bytes, so it inserts a new row, as a
 * command's log entries, claims and index entries do; a put that replaced a
 * row (a record the command had read) replaces one, written beforehand and
 * untimed in the same spot; each delete removes a row the previous replay
 * wrote with a key of the same length (a replaced index entry, say).
 */
typedef struct bench_floor bench_floor;
bench_floor *bench_floor_open(const char *path, const char *sync, const bench_shape *shape);
/*
 * Replay the shape count times, per_commit replays to a transaction (1: one
 * commit each, as one command; N: as a batch of N); the seconds they took.
 */
double bench_floor_commits(bench_floor *floor, int count, int per_commit);
void bench_floor_close(bench_floor *floor);

#endif
