/* The installed allocator, and allocation helpers that record ICMS_ENOMEM. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "core.h"

static void *default_malloc(size_t size, void *payload)
{
    (void)payload;
    return malloc(size);
}
static void *default_realloc(void *ptr, size_t size, void *payload)
{
    (void)payload;
    return realloc(ptr, size);
}
static void default_free(void *ptr, void *payload)
{
    (void)payload;
    free(ptr);
}

static icms_allocator current = {ICMS_ALLOCATOR_VERSION, default_malloc, default_realloc,
                                  default_free, NULL};

/* Fault injection for allocation-failure tests; process-wide, tests are single-threaded. */
static long fail_countdown;

void icms__alloc_fail_after(long n)
{
    fail_countdown = n;
}

static bool injected_failure(void)
{
    if (fail_countdown <= 0)
        return false;
    return --fail_countdown == 0;
}

int icms_set_allocator(const icms_allocator *allocator)
{
    /*
     * Checked and swapped under the init lock: with a separate check, an
     * icms_init on another thread could slip in between and allocate with the
     * allocator being replaced (a data race on `current`, found by
     * ThreadSanitizer in tests/app/test_threads.c). An icms_init that waits
     * for the lock then sees the new allocator.
     */
    if (!icms__init_lock_idle())
        return icms__error(ICMS_EBUSY, "the allocator cannot change while the library is initialised");
    int rc = ICMS_OK;
    if (allocator == NULL)
        current = (icms_allocator){ICMS_ALLOCATOR_VERSION, default_malloc, default_realloc,
                                   default_free, NULL};
    else if (allocator->version != ICMS_ALLOCATOR_VERSION)
        rc = icms__error(ICMS_EVERSION, "allocator struct version %u is not %u",
                         allocator->version, ICMS_ALLOCATOR_VERSION);
    else if (!allocator->malloc_fn || !allocator->realloc_fn || !allocator->free_fn)
        rc = icms__error(ICMS_EINVALID, "allocator functions may not be NULL");
    else
        current = *allocator;
    icms__init_unlock();
    return rc;
}

void *icms__malloc(size_t size)
{
    void *p = injected_failure() ? NULL : current.malloc_fn(size ? size : 1, current.payload);
    if (!p)
        icms__error(ICMS_ENOMEM, "out of memory allocating %zu bytes", size);
    return p;
}

void *icms__calloc(size_t count, size_t size)
{
    size_t total;
    if (!icms__mul_size(count, size, &total)) {
        icms__error(ICMS_ENOMEM, "allocation of %zu x %zu bytes overflows", count, size);
        return NULL;
    }
    void *p = icms__malloc(total);
    if (p)
        memset(p, 0, total);
    return p;
}

void *icms__realloc(void *ptr, size_t size)
{
    void *p = injected_failure() ? NULL : current.realloc_fn(ptr, size ? size : 1, current.payload);
    if (!p)
        icms__error(ICMS_ENOMEM, "out of memory reallocating to %zu bytes", size);
    return p;
}

void icms__free(void *ptr)
{
    if (ptr)
        current.free_fn(ptr, current.payload);
}

void icms_free(void *ptr)
{
    icms__free(ptr);
}

void *icms__memdup(const void *p, size_t n)
{
    void *copy = icms__malloc(n);
    if (copy && n)
        memcpy(copy, p, n);
    return copy;
}

char *icms__strndup(const char *s, size_t n)
{
    size_t len = strnlen(s, n);
    char *copy = icms__malloc(len + 1);
    if (copy) {
        memcpy(copy, s, len);
        copy[len] = '\0';
    }
    return copy;
}

char *icms__strdup(const char *s)
{
    return icms__strndup(s, strlen(s));
}

bool icms__ct_equal(const void *a, const void *b, size_t len)
{
    return sodium_memcmp(a, b, len) == 0;
}

void icms__wipe(void *p, size_t len)
{
    sodium_memzero(p, len);
}
