/*
 * libicms: common definitions shared by every public header.
 *
 * Errors, versions, library initialisation, memory ownership. Everything here
 * is stable within a major version (docs/api-conventions.md).
 */
#ifndef ICMS_COMMON_H
#define ICMS_COMMON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Marks a function exported from the shared library; everything else is hidden. */
#if defined(_WIN32)
#  if defined(ICMS_BUILDING_SHARED)
#    define ICMS_EXTERN __declspec(dllexport)
#  else
#    define ICMS_EXTERN
#  endif
#elif defined(__GNUC__)
#  define ICMS_EXTERN __attribute__((visibility("default")))
#else
#  define ICMS_EXTERN
#endif

/** @name Version of the headers the caller was compiled against. */
/**@{*/
#define ICMS_VERSION_MAJOR 0
#define ICMS_VERSION_MINOR 1
#define ICMS_VERSION_PATCH 0
#define ICMS_VERSION "0.1.0"
/** One number for compile-time comparisons: major * 10000 + minor * 100 + patch. */
#define ICMS_VERSION_NUMBER                                                                        \
    (ICMS_VERSION_MAJOR * 10000 + ICMS_VERSION_MINOR * 100 + ICMS_VERSION_PATCH)
/**@}*/

/**
 * Error codes. 0 is success; every failure is a small negative number.
 *
 * A function documents the two or three codes it expects to return; any call
 * may also return ICMS_ENOMEM or ICMS_ERROR. The message for the most recent
 * failure on the calling thread is in icms_error_last().
 */
typedef enum icms_error_t {
    ICMS_OK = 0,                   /**< success */
    ICMS_ERROR = -1,               /**< generic failure (a bug, or an unexpected system error) */
    ICMS_ENOMEM = -2,              /**< an allocation failed */
    ICMS_EINVALID = -3,            /**< invalid input: bad argument, malformed or out-of-range data */
    ICMS_ENOTFOUND = -4,           /**< the record does not exist, or the caller may not see it */
    ICMS_EEXISTS = -5,             /**< a record with that identity already exists */
    ICMS_EINVALID_TRANSITION = -6, /**< the record's state does not allow this operation */
    ICMS_EFORBIDDEN = -7,          /**< the actor is not allowed to do this */
    ICMS_ECONFLICT = -8,           /**< a concurrent writer won; the whole command may be retried */
    ICMS_EBUSY = -9,               /**< the store is locked by another writer; retry later */
    ICMS_EBUFS = -10,              /**< the caller's buffer is too small */
    ICMS_ESTORAGE = -11,           /**< the store failed (I/O, corruption, full disk) */
    ICMS_ETRANSPORT = -12,         /**< the network or the remote node failed */
    ICMS_EVERSION = -13,           /**< data or struct version this build does not understand */
    ICMS_EIDEMPOTENCY = -14,       /**< an idempotency key was reused for a different request */
    ICMS_EUNAUTHENTICATED = -15,   /**< missing, invalid, expired or revoked credentials */
    ICMS_ELIMIT = -16,             /**< a rate or size limit was exceeded */
    ICMS_ECORRUPT = -17,           /**< stored data failed an integrity check */
    /**
     * Reserved for callbacks: a host callback returns it to stop an operation,
     * and the library hands it back unchanged. The library never produces it.
     */
    ICMS_EUSER = -100
} icms_error_t;

/** The last error on the calling thread. */
typedef struct icms_error {
    int code;            /**< one of icms_error_t */
    const char *message; /**< never NULL; borrowed until the next failing call on this thread */
} icms_error;

/**
 * The last error recorded on the calling thread.
 *
 * Never returns NULL: when no error was recorded, code is ICMS_OK and the
 * message is "no error". Successful calls do not clear it.
 */
ICMS_EXTERN const icms_error *icms_error_last(void);

/** Forget the calling thread's last error. */
ICMS_EXTERN void icms_error_clear(void);

/** A static, human-readable name for an error code ("not found"). Never NULL. */
ICMS_EXTERN const char *icms_strerror(int code);

/** The symbolic name of an error code ("ICMS_ENOTFOUND"). Never NULL. */
ICMS_EXTERN const char *icms_error_name(int code);

/**
 * Initialise the library. Thread-safe and reference counted: every successful
 * call must be matched by one icms_shutdown(). Returns the number of
 * initialisations now in force (>= 1), or a negative error code.
 */
ICMS_EXTERN int icms_init(void);

/** Undo one icms_init(). Returns the remaining count, or ICMS_ERROR if not initialised. */
ICMS_EXTERN int icms_shutdown(void);

/** The library's version as a string ("0.1.0"); may differ from ICMS_VERSION. */
ICMS_EXTERN const char *icms_version(void);

/** The library's version as ICMS_VERSION_NUMBER computes it. */
ICMS_EXTERN int icms_version_number(void);

/**
 * Allocator used for everything the library allocates, including memory it
 * hands to the caller (free it with icms_free()). Install it before the first
 * icms_init(); members may not be NULL.
 */
typedef struct icms_allocator {
    unsigned int version; /**< ICMS_ALLOCATOR_VERSION */
    void *(*malloc_fn)(size_t size, void *payload);
    void *(*realloc_fn)(void *ptr, size_t size, void *payload);
    void (*free_fn)(void *ptr, void *payload);
    void *payload; /**< handed back to each function; the library never reads it */
} icms_allocator;

#define ICMS_ALLOCATOR_VERSION 1
#define ICMS_ALLOCATOR_INIT {ICMS_ALLOCATOR_VERSION, NULL, NULL, NULL, NULL}

/**
 * Replace the allocator (NULL restores the C library's). Refused with
 * ICMS_EBUSY while the library is initialised, since memory already handed out
 * would be freed by the wrong allocator.
 */
ICMS_EXTERN int icms_set_allocator(const icms_allocator *allocator);

/** Free memory the library handed to the caller. NULL is allowed. */
ICMS_EXTERN void icms_free(void *ptr);

#ifdef __cplusplus
}
#endif

#endif /* ICMS_COMMON_H */
