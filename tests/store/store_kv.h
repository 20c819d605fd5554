/*
 * What the store suites (conformance, memory, SQLite, PostgreSQL, fault)
 * all do with keys and values, written once: a literal as key or value,
 * one-key transactions, a counter's value, and the handles a factory keeps
 * to open a second one on the same data.
 */
#ifndef ICMS_TESTS_STORE_KV_H
#define ICMS_TESTS_STORE_KV_H

#include <stddef.h>
#include <stdint.h>

#include "support/test_support.h"

#include "icms/sys/store.h"

/* A string literal as the (bytes, length) pair of a key or value, without its NUL. */
#define K(lit) (const uint8_t *)(lit), (sizeof(lit) - 1)

/* Put one key in its own committed write transaction. */
void put1(icms_store *s, const uint8_t *key, size_t key_len, const uint8_t *value,
          size_t value_len);

/* The committed value of key as a malloc'd NUL-terminated string (free()), or NULL when absent. */
char *get1(icms_store *s, const uint8_t *key, size_t key_len);

/* The committed value of key is exactly `want` (NULL: the key is absent); fails the test otherwise. */
void assert_value(icms_store *s, const uint8_t *key, size_t key_len, const char *want);

/* The uint64_t (native order) key holds in t; fails the test when absent or of another size. */
uint64_t get_u64(icms_store *s, icms_store_txn *t, const uint8_t *key, size_t key_len);

/*
 * The uint64_t key holds in t into *n (0 when absent): 0, the get's error,
 * or ICMS_ECORRUPT when the value has another size. Asserts nothing, for
 * threads and child processes.
 */
int read_u64(icms_store *s, icms_store_txn *t, const uint8_t *key, size_t key_len, uint64_t *n);

/* A scan callback counting what it is offered in the size_t at payload. */
int count_cb(const uint8_t *key, size_t key_len, const uint8_t *value, size_t value_len,
             void *payload);

/*
 * The handles a factory opened, each with the name of its data (a file's
 * path, a table), so that open_second can open the same data again.
 */
void handles_add(icms_store *s, const char *name);
/* The name handles_add gave s, copied into name (len bytes); fails the test when unknown. */
void handles_name(const icms_store *s, char *name, size_t len);
/* Forget s and free it. */
void handles_close(icms_store *s);

#endif
