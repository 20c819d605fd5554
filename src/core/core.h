/*
 * Internal helpers every module uses: error reporting and allocation.
 * Nothing here is exported; internal names start with icms__.
 */
#ifndef ICMS_SRC_CORE_H
#define ICMS_SRC_CORE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "icms/common.h"

#if defined(__GNUC__)
#define ICMS__PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#define ICMS__WARN_UNUSED __attribute__((warn_unused_result))
#else
#define ICMS__PRINTF(fmt, args)
#define ICMS__WARN_UNUSED
#endif

#define ICMS__ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/*
 * Record an error for the calling thread and return its code, so that a
 * failure reads as `return icms__error(ICMS_EINVALID, "title is empty");`.
 * The message must never contain a secret (password, token, key, RPC
 * credential): messages reach logs.
 */
int icms__error(int code, const char *fmt, ...) ICMS__PRINTF(2, 3);
int icms__verror(int code, const char *fmt, va_list ap) ICMS__PRINTF(2, 0);

/* Prefix the current error message with context ("store: ..."), keep the code. */
int icms__error_wrap(int code, const char *prefix);

/* Allocation through the installed allocator. icms__malloc records ICMS_ENOMEM on failure. */
void *icms__malloc(size_t size);
void *icms__calloc(size_t count, size_t size);
void *icms__realloc(void *ptr, size_t size);
void icms__free(void *ptr);
char *icms__strdup(const char *s);
char *icms__strndup(const char *s, size_t n);
void *icms__memdup(const void *p, size_t n);

/* Test hook: fail the Nth allocation from now (1 = the next one); 0 disables. */
void icms__alloc_fail_after(long n);

/* Overflow-checked arithmetic on money and counts: false when the result does not fit. */
static inline bool icms__add_i64(int64_t a, int64_t b, int64_t *out)
{
    return !__builtin_add_overflow(a, b, out);
}
static inline bool icms__sub_i64(int64_t a, int64_t b, int64_t *out)
{
    return !__builtin_sub_overflow(a, b, out);
}
static inline bool icms__mul_i64(int64_t a, int64_t b, int64_t *out)
{
    return !__builtin_mul_overflow(a, b, out);
}
static inline bool icms__add_size(size_t a, size_t b, size_t *out)
{
    return !__builtin_add_overflow(a, b, out);
}
static inline bool icms__mul_size(size_t a, size_t b, size_t *out)
{
    return !__builtin_mul_overflow(a, b, out);
}

/* Constant-time equality for secrets (tokens, hashes): no early exit. */
bool icms__ct_equal(const void *a, const void *b, size_t len);

/* Wipe memory that held a secret; the compiler may not elide it. */
void icms__wipe(void *p, size_t len);

/* True once icms_init() has run and not been fully undone. */
bool icms__initialized(void);

/*
 * Hold the initialisation lock if the library is not initialised (true), so
 * that no icms_init() can start until icms__init_unlock(); false (and not
 * held) when it is. For icms_set_allocator: check and swap as one step.
 */
bool icms__init_lock_idle(void);
void icms__init_unlock(void);

#endif
