/*
 * Python-only parts of the interface: bytes, lists of strings, and host
 * callbacks (a transport and a clock written in Python).
 *
 * The module is built with -threads: every wrapper releases the GIL around
 * the C call, so a callback takes it back with PyGILState_Ensure().
 */

/* ---- bytes in: const uint8_t *bytes, size_t bytes_len <- bytes ----------- */
%typemap(in) (const uint8_t *bytes, size_t bytes_len) (Py_buffer view) {
    if (PyObject_GetBuffer($input, &view, PyBUF_SIMPLE) != 0)
        SWIG_fail;
    $1 = (uint8_t *)view.buf;
    $2 = (size_t)view.len;
}
%typemap(arginit) (const uint8_t *bytes, size_t bytes_len) "memset(&view$argnum, 0, sizeof view$argnum);"
%typemap(freearg) (const uint8_t *bytes, size_t bytes_len) {
    if (view$argnum.obj)
        PyBuffer_Release(&view$argnum);
}
%typemap(typecheck) (const uint8_t *bytes, size_t bytes_len) "$1 = PyObject_CheckBuffer($input);"

/* ---- bytes out: uint8_t **out, size_t *out_len -> appended bytes --------- */
%typemap(in, numinputs=0) (uint8_t **out, size_t *out_len) (uint8_t *tmp = NULL, size_t n = 0) {
    $1 = &tmp;
    $2 = &n;
}
%typemap(argout) (uint8_t **out, size_t *out_len) {
    PyObject *o;
    if (tmp$argnum) {
        o = PyBytes_FromStringAndSize((const char *)tmp$argnum, (Py_ssize_t)n$argnum);
    } else {
        o = Py_None;
        Py_INCREF(o);
    }
    %append_output(o);
}
%typemap(freearg) (uint8_t **out, size_t *out_len) "icms_free(tmp$argnum);"

/* ---- a list of str: const char *const *payment_ids, size_t count --------- */
%typemap(in) (const char *const *payment_ids, size_t count) {
    if (!PyList_Check($input)) {
        PyErr_SetString(PyExc_TypeError, "expected a list of str");
        SWIG_fail;
    }
    Py_ssize_t n = PyList_Size($input);
    $1 = ($1_ltype)calloc((size_t)n + 1, sizeof(char *));
    $2 = (size_t)n;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *s = PyList_GetItem($input, i);
        const char *c = PyUnicode_Check(s) ? PyUnicode_AsUTF8(s) : NULL;
        if (!c) {
            PyErr_SetString(PyExc_TypeError, "expected a list of str");
            SWIG_fail;
        }
        ((const char **)$1)[i] = c;
    }
}
%typemap(freearg) (const char *const *payment_ids, size_t count) "free((void *)$1);"

int icms_payment_verify_batch(icms_db *db, const icms_request *req,
                              const char *const *payment_ids, size_t count, char **out);

/* ---- gapcoin helpers with bytes ------------------------------------------ */
int icms_gapcoin_hex_encode(const uint8_t *bytes, size_t bytes_len, char **out);
int icms_gapcoin_hex_decode(const char *text, uint8_t **out, size_t *out_len);
int icms_gapcoin_base58check_encode(uint8_t version, const uint8_t *bytes, size_t bytes_len,
                                    char **out);
int icms_gapcoin_address_to_script(const char *text, int network, uint8_t **out,
                                   size_t *out_len);

typedef struct icms_notifier icms_notifier;
int icms_notify_set_notifier(icms_db *db, icms_notifier *notifier);

/* ---- host callbacks -------------------------------------------------------- */
%{
/*
 * The exception a Python callback raised on this thread, kept until the
 * Python layer collects it (take_callback_error) to re-raise it with its
 * original traceback. Thread-local: the library calls a callback on the
 * thread of the command that needs it.
 */
static _Thread_local PyObject *pending_error;

static void stash_error(void)
{
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    PyErr_NormalizeException(&type, &value, &tb);
    if (tb && value)
        PyException_SetTraceback(value, tb);
    Py_XDECREF(type);
    Py_XDECREF(tb);
    Py_XDECREF(pending_error);
    pending_error = value; /* owned */
}

typedef struct py_transport {
    icms_transport base;
    PyObject *post; /* owned: callable(url, headers, body, max_len) -> (status, bytes) */
} py_transport;

static int py_transport_post(icms_transport *t, const icms_transport_request *r, int *status,
                             uint8_t **body, size_t *body_len)
{
    py_transport *self = (py_transport *)t;
    int rc = ICMS_EUSER;
    PyGILState_STATE gil = PyGILState_Ensure();
    PyObject *headers = PyList_New((Py_ssize_t)r->header_count);
    for (size_t i = 0; headers && i < r->header_count; i++)
        PyList_SET_ITEM(headers, (Py_ssize_t)i, PyUnicode_FromString(r->headers[i]));
    PyObject *result = headers ? PyObject_CallFunction(self->post, "sOy#n", r->url, headers,
                                                       (const char *)r->body,
                                                       (Py_ssize_t)r->body_len,
                                                       (Py_ssize_t)r->max_response_len)
                               : NULL;
    Py_XDECREF(headers);
    if (result) {
        int code = 0;
        const char *data = NULL;
        Py_ssize_t len = 0;
        if (!PyTuple_Check(result)) {
            PyErr_SetString(PyExc_TypeError, "a transport returns (status: int, body: bytes)");
            stash_error();
        } else if (!PyArg_ParseTuple(result, "iy#;a transport returns (status: int, body: bytes)",
                                     &code, &data, &len)) {
            stash_error();
        } else if (len > 0 && !(*body = (uint8_t *)icms_transport_alloc((size_t)len))) {
            rc = ICMS_ENOMEM;
        } else {
            if (len > 0)
                memcpy(*body, data, (size_t)len);
            *body_len = (size_t)len;
            *status = code;
            rc = ICMS_OK;
        }
        Py_DECREF(result);
    } else {
        stash_error();
    }
    PyGILState_Release(gil);
    return rc;
}

static void py_transport_free(icms_transport *t)
{
    py_transport *self = (py_transport *)t;
    PyGILState_STATE gil = PyGILState_Ensure();
    Py_XDECREF(self->post);
    PyGILState_Release(gil);
    free(self);
}

typedef struct py_clock {
    icms_clock base;
    PyObject *now; /* owned: callable() -> int ms */
    int64_t last;  /* the last good reading, answered when the callable fails */
} py_clock;

static int64_t py_clock_now(icms_clock *c)
{
    py_clock *self = (py_clock *)c;
    PyGILState_STATE gil = PyGILState_Ensure();
    PyObject *result = PyObject_CallNoArgs(self->now);
    long long ms = result ? PyLong_AsLongLong(result) : -1;
    if (!result || PyErr_Occurred())
        PyErr_WriteUnraisable(self->now); /* a clock cannot fail: keep the last reading */
    else
        self->last = (int64_t)ms;
    Py_XDECREF(result);
    PyGILState_Release(gil);
    return self->last;
}

static void py_clock_free(icms_clock *c)
{
    py_clock *self = (py_clock *)c;
    PyGILState_STATE gil = PyGILState_Ensure();
    Py_XDECREF(self->now);
    PyGILState_Release(gil);
    free(self);
}

typedef struct py_notifier {
    icms_notifier base;
    PyObject *send; /* owned: callable(dict) -> None */
} py_notifier;

/*
 * An exception from send() asks for a retry (ICMS_EUSER), unless it carries
 * a library code (icms.Invalid: never deliverable, dead-lettered); it is
 * kept for the Python layer, which logs it once the run returns.
 */
static int py_notifier_send(icms_notifier *n, const icms_notification *x)
{
    py_notifier *self = (py_notifier *)n;
    int rc = ICMS_OK;
    PyGILState_STATE gil = PyGILState_Ensure();
    PyObject *result = PyObject_CallFunction(
        self->send, "({s:z,s:z,s:z,s:z,s:z,s:z,s:z,s:I})", "id", x->id, "user_id", x->user_id,
        "channel", x->channel, "address", x->address, "template_key", x->template_key,
        "data_json", x->data_json, "event_id", x->event_id, "attempt", x->attempt);
    if (!result) {
        rc = ICMS_EUSER;
        PyObject *type, *value, *tb;
        PyErr_Fetch(&type, &value, &tb);
        PyErr_NormalizeException(&type, &value, &tb);
        PyObject *code = value ? PyObject_GetAttrString(value, "code") : NULL;
        if (code && PyLong_Check(code)) {
            long c = PyLong_AsLong(code);
            if (c < 0 && c >= ICMS_EUSER)
                rc = (int)c;
        }
        Py_XDECREF(code);
        PyErr_Clear();
        PyErr_Restore(type, value, tb);
        stash_error();
    }
    Py_XDECREF(result);
    PyGILState_Release(gil);
    return rc;
}

static void py_notifier_free(icms_notifier *n)
{
    py_notifier *self = (py_notifier *)n;
    PyGILState_STATE gil = PyGILState_Ensure();
    Py_XDECREF(self->send);
    PyGILState_Release(gil);
    free(self);
}
%}

/* These touch Python objects: they keep the GIL (the Python layer checks callability). */
%nothread icms_binding_transport_new;
%nothread icms_binding_clock_new;
%nothread icms_binding_take_callback_error;
%nothread icms_binding_notifier_new;

%inline %{
/* A transport whose post() calls a Python callable; the client it is handed to owns it. */
icms_transport *icms_binding_transport_new(PyObject *post)
{
    py_transport *t = (py_transport *)calloc(1, sizeof *t);
    if (!t)
        return NULL;
    icms_transport init = ICMS_TRANSPORT_INIT;
    t->base = init;
    t->base.post = py_transport_post;
    t->base.free = py_transport_free;
    Py_INCREF(post);
    t->post = post;
    return &t->base;
}

/* A clock whose now_ms() calls a Python callable; icms_binding_open takes it over. */
icms_clock *icms_binding_clock_new(PyObject *now)
{
    py_clock *c = (py_clock *)calloc(1, sizeof *c);
    if (!c)
        return NULL;
    icms_clock init = ICMS_CLOCK_INIT;
    c->base = init;
    c->base.now_ms = py_clock_now;
    c->base.free = py_clock_free;
    Py_INCREF(now);
    c->now = now;
    return &c->base;
}

/* A notifier whose send() calls a Python callable; icms_notify_set_notifier takes it over. */
icms_notifier *icms_binding_notifier_new(PyObject *send)
{
    py_notifier *n = (py_notifier *)calloc(1, sizeof *n);
    if (!n)
        return NULL;
    icms_notifier init = ICMS_NOTIFIER_INIT;
    n->base = init;
    n->base.send = py_notifier_send;
    n->base.free = py_notifier_free;
    Py_INCREF(send);
    n->send = send;
    return &n->base;
}

/* The exception a callback raised on this thread (and forget it), or None. */
PyObject *icms_binding_take_callback_error(void)
{
    PyObject *e = pending_error;
    pending_error = NULL;
    if (!e) {
        Py_INCREF(Py_None);
        return Py_None;
    }
    return e;
}
%}

/* ---- push subscriptions (bindings/common/subscription.c) ------------------- */
%{
#include "subscription.c"

/*
 * Deliver one event to the Python callable (a wrapper in icms/__init__.py
 * that parses the event, calls the host's callback and catches what it
 * raises, answering False then). The library calls this on the committing
 * thread, where the wrapper of the command released the GIL: take it back
 * before touching any Python object. A reference to the callable is held
 * for the call, so that a callback closing its own subscription (which
 * releases the subscription's reference) keeps running on a live object.
 */
static int py_sub_deliver(void *target, int64_t seq, const char *type, const char *json,
                          size_t json_len)
{
    (void)type;
    PyObject *fn = (PyObject *)target;
    PyGILState_STATE gil = PyGILState_Ensure();
    Py_INCREF(fn);
    PyObject *result = PyObject_CallFunction(fn, "Ls#", (long long)seq, json, (Py_ssize_t)json_len);
    int rc = 0;
    if (!result) {
        PyErr_WriteUnraisable(fn); /* the wrapper itself failed: never propagate into C */
        rc = -1;
    } else if (result == Py_False) {
        rc = -1;
    }
    Py_XDECREF(result);
    Py_DECREF(fn);
    PyGILState_Release(gil);
    return rc;
}

/* A subscription and the callable it holds (owned until it is closed). */
typedef struct py_sub {
    icms_binding_sub *sub;
    PyObject *fn;
} py_sub;
%}

typedef struct py_sub py_sub;
%typemap(in, numinputs=0) py_sub **out (py_sub *tmp = NULL) "$1 = &tmp;"
%typemap(argout) py_sub **out {
    %append_output(SWIG_NewPointerObj(SWIG_as_voidptr(tmp$argnum), $descriptor(py_sub *), 0));
}

/* Subscribing touches Python objects: it keeps the GIL (no command runs inside it). */
%nothread icms_binding_py_subscribe;

%inline %{
/* Subscribe fn(seq, json_text) -> bool to the events of db matching pattern. */
int icms_binding_py_subscribe(icms_db *db, const char *pattern, PyObject *fn, py_sub **out)
{
    py_sub *s = (py_sub *)calloc(1, sizeof *s);
    if (!s)
        return ICMS_ENOMEM;
    Py_INCREF(fn);
    s->fn = fn;
    int rc = icms_binding_sub_new(db, pattern, py_sub_deliver, fn, &s->sub);
    if (rc != ICMS_OK) {
        Py_DECREF(fn);
        free(s);
        return rc;
    }
    *out = s;
    return ICMS_OK;
}

/*
 * Close: unsubscribe, wait (without the GIL: this wrapper releases it) for
 * the calls running on other threads, then drop the callable under the GIL.
 * Returns 1 when this call closed it, 0 when it was closed already.
 */
int icms_binding_py_sub_close(py_sub *s)
{
    if (!icms_binding_sub_close(s->sub))
        return 0;
    PyGILState_STATE gil = PyGILState_Ensure();
    Py_CLEAR(s->fn);
    PyGILState_Release(gil);
    return 1;
}

/* Events delivered so far, and how many of them the callback failed. */
uint64_t icms_binding_py_sub_delivered(py_sub *s) { return icms_binding_sub_delivered(s->sub); }
uint64_t icms_binding_py_sub_failures(py_sub *s) { return icms_binding_sub_failures(s->sub); }

/* Free a closed subscription: only after icms_close() of its database. */
void icms_binding_py_sub_free(py_sub *s)
{
    if (!s)
        return;
    icms_binding_sub_free(s->sub);
    free(s);
}
%}
