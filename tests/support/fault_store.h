/*
 * Test helpers for anything that writes through the store port:
 *
 * - a fault-injecting store that wraps another and fails the Nth call of a
 *   chosen kind with a chosen code, counting calls per kind;
 * - a dump / digest of a store's whole contents, to prove that a failed
 *   command left it byte-for-byte unchanged.
 *
 * The usual loop (docs/storage.md):
 *
 *     for (unsigned long n = 1;; n++) {
 *         before = dump(inner);
 *         icms_test_fault_store_fail(fs, ICMS_TEST_FAULT_ANY, n, ICMS_ESTORAGE);
 *         rc = run_the_command(fs);
 *         if (!icms_test_fault_store_fired(fs)) break;   // every call has failed once
 *         assert rc != 0 and dump(inner) == before;
 *     }
 */
#ifndef ICMS_TEST_FAULT_STORE_H
#define ICMS_TEST_FAULT_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "icms/sys/store.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The kinds of store calls that can be counted and failed. */
typedef enum icms_test_fault_op_t {
    ICMS_TEST_FAULT_ANY = 0, /* every kind below, counted together */
    ICMS_TEST_FAULT_BEGIN,
    ICMS_TEST_FAULT_GET,
    ICMS_TEST_FAULT_PUT,
    ICMS_TEST_FAULT_DEL,
    ICMS_TEST_FAULT_SCAN,
    ICMS_TEST_FAULT_COMMIT,
    ICMS_TEST_FAULT_OPS /* number of entries, not a kind */
} icms_test_fault_op_t;

/*
 * Wrap inner in a store that forwards every call. When owns_inner, freeing
 * the wrapper frees inner too; otherwise inner outlives it (a second handle on
 * one store, for example). Rollback is forwarded and never failed, as the port
 * promises.
 */
int icms_test_fault_store_new(icms_store **out, icms_store *inner, bool owns_inner);

/*
 * Arm a fault: the nth call (1 = the very next) of kind op from now fails
 * with code, without reaching the inner store; nth 0 disarms. Only one fault
 * is armed at a time; it fires once.
 *
 * What a failure means per kind: begin opens nothing; get/put/del/scan leave
 * the inner transaction as it was (a failed scan calls no callback); a failed
 * commit rolls the inner transaction back, so nothing is written.
 */
void icms_test_fault_store_fail(icms_store *fault_store, icms_test_fault_op_t op, unsigned long nth,
                                int code);

/*
 * Arm a lost acknowledgement: the nth commit from now (1 = the next) is
 * applied by the inner store, then reported to the caller as failed with
 * code, as when a network store commits and the connection drops before the
 * answer arrives. Tests that a rerun command (idempotency keys) does not apply
 * twice. nth 0 disarms; independent of _fail; fires once; sets _fired.
 */
void icms_test_fault_store_lose_commit(icms_store *fault_store, unsigned long nth, int code);

/*
 * Arm a scan that fails part-way: the nth scan from now delivers `rows` keys
 * to its callback and then ends with code, as a store whose read fails in the
 * middle of a range. A scan with no more keys than that completes and the fault
 * stays armed for no later scan (it is spent). nth 0 disarms; sets _fired.
 */
void icms_test_fault_store_fail_scan_after(icms_store *fault_store, unsigned long nth, size_t rows,
                                           int code);

/* True once the armed fault has fired (cleared by the next _fail or _reset). */
bool icms_test_fault_store_fired(const icms_store *fault_store);

/* Calls of kind op since creation or the last reset (ANY: all kinds, rollback excluded). */
unsigned long icms_test_fault_store_calls(const icms_store *fault_store, icms_test_fault_op_t op);

/*
 * What a command read since creation or the last reset: gets, scans, and the
 * keys the scans handed to their callbacks. A scan of a whole index is one
 * call however many keys it walks, so its keys count too: whether this grows
 * with the database is what the "reads do not grow" tests and
 * bench/app/bench_scale.c look at.
 */
unsigned long icms_test_fault_store_reads(const icms_store *fault_store);

/* Write transactions begun since creation or the last reset (read ones are not counted). */
unsigned long icms_test_fault_store_write_begins(const icms_store *fault_store);

/* Zero the counters and disarm the fault. */
void icms_test_fault_store_reset(icms_store *fault_store);

/* The store the wrapper forwards to (borrowed). */
icms_store *icms_test_fault_store_inner(const icms_store *fault_store);

/*
 * The whole contents of a store, read in one read transaction: for each key
 * in order, its 4-byte big-endian length, the key, the value's 4-byte length,
 * the value. *out is malloc'd (free with free()); two dumps are equal exactly
 * when the stores hold the same keys and values. Returns 0 or the store's code.
 */
int icms_test_store_dump(icms_store *store, uint8_t **out, size_t *out_len);

/* A 64-bit FNV-1a digest of the dump, for quick comparisons; *keys gets the key count. */
int icms_test_store_digest(icms_store *store, uint64_t *digest, size_t *keys);

#ifdef __cplusplus
}
#endif

#endif
