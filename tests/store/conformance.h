/*
 * The store conformance suite: the behaviour every icms_store must show,
 * written once against a factory. A store plugs in by filling a
 * store_factory and calling store_conformance_tests() (docs/storage.md).
 */
#ifndef ICMS_TESTS_STORE_CONFORMANCE_H
#define ICMS_TESTS_STORE_CONFORMANCE_H

#include <stdbool.h>
#include <stddef.h>

#include "support/test_support.h"

#include "icms/sys/store.h"

/* How a store answers two concurrent writers. */
typedef enum store_concurrency_t {
    /* Both begin; the commit that lost a read-write race answers ICMS_ECONFLICT (memory). */
    STORE_OPTIMISTIC,
    /* The second writer cannot begin and answers ICMS_EBUSY (SQLite's database lock). */
    STORE_LOCKING,
    /*
     * Both begin; a commit is refused with ICMS_ECONFLICT only when the two could
     * not have run one after the other (PostgreSQL SERIALIZABLE): a scanned range
     * changed by a writer that read nothing this one writes is no conflict, and
     * two blind writers of one key may conflict.
     */
    STORE_SERIALIZABLE
} store_concurrency_t;

typedef struct store_factory {
    const char *name;
    store_concurrency_t concurrency;
    /*
     * A new, empty store for one test. When the store waits for locks, the
     * factory gives it a short wait (about 100 ms) so busy answers come quickly.
     */
    icms_store *(*open)(struct store_factory *f);
    /* A second, independent handle on the same data as `first` (same file, same server). */
    icms_store *(*open_second)(struct store_factory *f, icms_store *first);
    /* Release a handle from open() or open_second(). */
    void (*close)(struct store_factory *f, icms_store *store);
    void *payload; /* the factory's own state */
} store_factory;

/*
 * Fill `tests` (room for `max`) with every conformance test bound to f and
 * return how many; the caller runs them with cmocka_run_group_tests_name.
 */
size_t store_conformance_tests(store_factory *f, struct CMUnitTest *tests, size_t max);

/* Upper bound on what store_conformance_tests() returns. */
#define STORE_CONFORMANCE_MAX 64

#endif
