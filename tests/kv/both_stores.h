/*
 * The kv suites run each test twice: on the memory store (state NULL) and,
 * through this setup, on a real SQLite file (state non-NULL).
 */
#ifndef ICMS_TEST_KV_BOTH_STORES_H
#define ICMS_TEST_KV_BOTH_STORES_H

#include "support/test_support.h"

static inline int use_sqlite(void **state)
{
    static int yes = 1;
    *state = &yes;
    return 0;
}

#define BOTH(fn) cmocka_unit_test(fn), cmocka_unit_test_setup(fn, use_sqlite)

#endif
