/* Thread-local last error and the names of the codes. */
#include <stdio.h>
#include <string.h>

#include "core.h"

#define ICMS__ERROR_MSG_MAX 512

static _Thread_local char tl_message[ICMS__ERROR_MSG_MAX];
static _Thread_local icms_error tl_error = {ICMS_OK, NULL};

static const icms_error no_error = {ICMS_OK, "no error"};

const icms_error *icms_error_last(void)
{
    if (tl_error.code == ICMS_OK || tl_error.message == NULL)
        return &no_error;
    return &tl_error;
}

void icms_error_clear(void)
{
    tl_error.code = ICMS_OK;
    tl_error.message = NULL;
    tl_message[0] = '\0';
}

int icms__verror(int code, const char *fmt, va_list ap)
{
    /* Format into a scratch buffer first: fmt's arguments may point into tl_message. */
    char scratch[ICMS__ERROR_MSG_MAX];
    int n = vsnprintf(scratch, sizeof scratch, fmt, ap);
    if (n < 0)
        snprintf(scratch, sizeof scratch, "%s", icms_strerror(code));
    memcpy(tl_message, scratch, sizeof tl_message);
    tl_error.code = code;
    tl_error.message = tl_message;
    return code;
}

int icms__error(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    icms__verror(code, fmt, ap);
    va_end(ap);
    return code;
}

int icms__error_wrap(int code, const char *prefix)
{
    const icms_error *last = icms_error_last();
    if (last->code == ICMS_OK)
        return icms__error(code, "%s: %s", prefix, icms_strerror(code));
    return icms__error(code, "%s: %s", prefix, last->message);
}

struct error_name {
    int code;
    const char *name;
    const char *text;
};

static const struct error_name error_names[] = {
    {ICMS_OK, "ICMS_OK", "success"},
    {ICMS_ERROR, "ICMS_ERROR", "error"},
    {ICMS_ENOMEM, "ICMS_ENOMEM", "out of memory"},
    {ICMS_EINVALID, "ICMS_EINVALID", "invalid input"},
    {ICMS_ENOTFOUND, "ICMS_ENOTFOUND", "not found"},
    {ICMS_EEXISTS, "ICMS_EEXISTS", "already exists"},
    {ICMS_EINVALID_TRANSITION, "ICMS_EINVALID_TRANSITION", "invalid state transition"},
    {ICMS_EFORBIDDEN, "ICMS_EFORBIDDEN", "forbidden"},
    {ICMS_ECONFLICT, "ICMS_ECONFLICT", "conflict with a concurrent writer"},
    {ICMS_EBUSY, "ICMS_EBUSY", "busy"},
    {ICMS_EBUFS, "ICMS_EBUFS", "buffer too small"},
    {ICMS_ESTORAGE, "ICMS_ESTORAGE", "storage failure"},
    {ICMS_ETRANSPORT, "ICMS_ETRANSPORT", "transport failure"},
    {ICMS_EVERSION, "ICMS_EVERSION", "unsupported version"},
    {ICMS_EIDEMPOTENCY, "ICMS_EIDEMPOTENCY", "idempotency key reused for a different request"},
    {ICMS_EUNAUTHENTICATED, "ICMS_EUNAUTHENTICATED", "not authenticated"},
    {ICMS_ELIMIT, "ICMS_ELIMIT", "limit exceeded"},
    {ICMS_ECORRUPT, "ICMS_ECORRUPT", "stored data is corrupt"},
    {ICMS_EUSER, "ICMS_EUSER", "stopped by a callback"},
};

static const struct error_name *find_error(int code)
{
    for (size_t i = 0; i < ICMS__ARRAY_LEN(error_names); i++)
        if (error_names[i].code == code)
            return &error_names[i];
    return NULL;
}

const char *icms_strerror(int code)
{
    const struct error_name *e = find_error(code);
    return e ? e->text : "unknown error";
}

const char *icms_error_name(int code)
{
    const struct error_name *e = find_error(code);
    return e ? e->name : "ICMS_EUNKNOWN";
}
