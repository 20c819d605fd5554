/*
 * Bytes and secrets, per language (included by icms.i before the auth and
 * audit declarations that use them).
 *
 *   (const uint8_t *in_bytes, size_t in_len)   read-only bytes; None/null is (NULL, 0)
 *   (uint8_t *out_bytes, size_t out_len)       a mutable buffer the C call writes into
 *   const char *secret                         a password or token: str/string or a
 *                                              bytes-like/Buffer, copied into a malloc'ed
 *                                              C string that is wiped and freed after the call
 *
 * Bytes are read in place (no copy), so a key held in a mutable buffer
 * (bytearray, Buffer) stays where its owner can wipe it.
 */
#ifdef SWIGPYTHON
%typemap(in) (const uint8_t *in_bytes, size_t in_len) (Py_buffer view) {
    if ($input == Py_None) {
        $1 = NULL;
        $2 = 0;
    } else {
        if (PyObject_GetBuffer($input, &view, PyBUF_SIMPLE) != 0)
            SWIG_fail;
        $1 = (uint8_t *)view.buf;
        $2 = (size_t)view.len;
    }
}
%typemap(arginit) (const uint8_t *in_bytes, size_t in_len) "memset(&view$argnum, 0, sizeof view$argnum);"
%typemap(freearg) (const uint8_t *in_bytes, size_t in_len) {
    if (view$argnum.obj)
        PyBuffer_Release(&view$argnum);
}

%typemap(in) (uint8_t *out_bytes, size_t out_len) (Py_buffer view) {
    if (PyObject_GetBuffer($input, &view, PyBUF_WRITABLE) != 0)
        SWIG_fail;
    $1 = (uint8_t *)view.buf;
    $2 = (size_t)view.len;
}
%typemap(arginit) (uint8_t *out_bytes, size_t out_len) "memset(&view$argnum, 0, sizeof view$argnum);"
%typemap(freearg) (uint8_t *out_bytes, size_t out_len) {
    if (view$argnum.obj)
        PyBuffer_Release(&view$argnum);
}

%typemap(in) const char *secret {
    $1 = NULL;
    if ($input != Py_None) {
        const char *data = NULL;
        Py_ssize_t n = 0;
        Py_buffer view;
        int have_view = 0;
        if (PyUnicode_Check($input)) {
            data = PyUnicode_AsUTF8AndSize($input, &n);
            if (!data)
                SWIG_fail;
        } else if (PyObject_GetBuffer($input, &view, PyBUF_SIMPLE) == 0) {
            have_view = 1;
            data = (const char *)view.buf;
            n = view.len;
        } else {
            PyErr_Clear();
            PyErr_SetString(PyExc_TypeError, "a secret is a str or a bytes-like object");
            SWIG_fail;
        }
        if (memchr(data, 0, (size_t)n)) {
            if (have_view)
                PyBuffer_Release(&view);
            PyErr_SetString(PyExc_ValueError, "a secret must not contain a NUL byte");
            SWIG_fail;
        }
        char *copy = (char *)malloc((size_t)n + 1);
        if (copy) {
            memcpy(copy, data, (size_t)n);
            copy[n] = '\0';
        }
        if (have_view)
            PyBuffer_Release(&view);
        if (!copy) {
            PyErr_NoMemory();
            SWIG_fail;
        }
        $1 = copy;
    }
}
%typemap(freearg) const char *secret "binding_secret_free((char *)$1);"
#endif

#ifdef SWIGJAVASCRIPT
%{
#include <node_buffer.h>
%}
%typemap(in) (const uint8_t *in_bytes, size_t in_len) {
    if ($input->IsNullOrUndefined()) {
        $1 = NULL;
        $2 = 0;
    } else if (node::Buffer::HasInstance($input)) {
        $1 = (uint8_t *)node::Buffer::Data($input);
        $2 = node::Buffer::Length($input);
    } else {
        SWIG_exception_fail(SWIG_TypeError, "in method '$symname', expected a Buffer");
    }
}
%typemap(in) (uint8_t *out_bytes, size_t out_len) {
    if (!node::Buffer::HasInstance($input))
        SWIG_exception_fail(SWIG_TypeError, "in method '$symname', expected a Buffer");
    $1 = (uint8_t *)node::Buffer::Data($input);
    $2 = node::Buffer::Length($input);
}
%typemap(in, fragment="SWIG_AsCharPtrAndSize") const char *secret (char *buf = 0, int alloc = 0) {
    $1 = NULL;
    if (!$input->IsNullOrUndefined()) {
        const char *data = NULL;
        size_t n = 0;
        if (node::Buffer::HasInstance($input)) {
            data = node::Buffer::Data($input);
            n = node::Buffer::Length($input);
        } else {
            size_t size = 0; /* with the terminating NUL */
            int res = SWIG_AsCharPtrAndSize($input, &buf, &size, &alloc);
            if (!SWIG_IsOK(res) || !buf || size == 0)
                SWIG_exception_fail(SWIG_TypeError, "in method '$symname', a secret is a string or a Buffer");
            data = buf;
            n = size - 1;
        }
        char *copy = memchr(data, 0, n) ? NULL : (char *)malloc(n + 1);
        if (copy) {
            memcpy(copy, data, n);
            copy[n] = '\0';
        }
        if (buf && alloc == SWIG_NEWOBJ) {
            /* SWIG's own UTF-8 copy of a string: wiped too */
            binding_memset(buf, 0, n);
            delete[] buf;
        }
        buf = 0;
        if (!copy)
            SWIG_exception_fail(SWIG_ValueError, "in method '$symname', a secret must not contain a NUL byte");
        $1 = copy;
    }
}
%typemap(freearg) const char *secret "binding_secret_free((char *)$1);"
#endif

%apply (const uint8_t *in_bytes, size_t in_len) {
    (const uint8_t *key, size_t key_len),
    (const uint8_t *secret_key, size_t secret_key_len),
    (const uint8_t *public_key, size_t public_key_len)
};
%apply (uint8_t *out_bytes, size_t out_len) {
    (uint8_t *public_key, size_t public_key_len),
    (uint8_t *secret_key, size_t secret_key_len)
};
