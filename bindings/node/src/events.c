/*
 * The Node binding's push subscriptions: a small N-API addon (events.node)
 * beside the SWIG one, since a subscriber is called on the thread that
 * committed a command and JavaScript may only run on its own thread.
 *
 * Each subscription owns a napi_threadsafe_function: the library's call
 * (bindings/common/subscription.c) copies the event and queues it without
 * blocking (the queue is unbounded, so a command on the JavaScript thread
 * itself never waits for the loop it is blocking); the JavaScript callback
 * runs later, on the loop. While open, the function holds the loop alive
 * (ref; unref() lets the process exit anyway); close() stops the library's
 * calls, drops what is still queued and releases the function.
 *
 * Memory: the queued item and the per-subscription struct are freed here;
 * the shared icms_binding_sub struct is freed by freeSub() after the
 * database is closed (subscription.h says why).
 */
#define NAPI_VERSION 8
#include <node_api.h>

#include <stdlib.h>
#include <string.h>

#include "icms.h"
#include "../../common/subscription.c"

typedef struct node_sub {
    icms_binding_sub *sub;
    napi_threadsafe_function tsfn;
    int closed; /* touched on the JavaScript thread only */
} node_sub;

typedef struct item {
    size_t len;
    char json[];
} item;

#define CHECK(env, call)                                                                           \
    do {                                                                                           \
        if ((call) != napi_ok) {                                                                   \
            napi_throw_error((env), NULL, "icms events addon: " #call " failed");                  \
            return NULL;                                                                           \
        }                                                                                          \
    } while (0)

/* On any thread: copy the event and queue it for the loop. */
static int deliver(void *target, int64_t seq, const char *type, const char *json, size_t len)
{
    (void)seq;
    (void)type;
    node_sub *s = target;
    item *it = malloc(sizeof *it + len + 1);
    if (!it)
        return -1;
    it->len = len;
    memcpy(it->json, json, len);
    it->json[len] = '\0';
    if (napi_call_threadsafe_function(s->tsfn, it, napi_tsfn_nonblocking) != napi_ok) {
        free(it); /* closing: the function no longer takes calls */
        return -1;
    }
    return 0;
}

/* On the loop: hand the event's JSON text to the JavaScript wrapper (which never throws). */
static void call_js(napi_env env, napi_value fn, void *context, void *data)
{
    node_sub *s = context;
    item *it = data;
    if (env && fn && !s->closed) {
        napi_value text, undefined, result;
        if (napi_create_string_utf8(env, it->json, it->len, &text) == napi_ok &&
            napi_get_undefined(env, &undefined) == napi_ok &&
            napi_call_function(env, undefined, fn, 1, &text, &result) == napi_pending_exception) {
            /* The wrapper catches the callback's exceptions; this is a last resort, so
             * that nothing escapes as an uncaught exception from here. */
            napi_value ignored;
            napi_get_and_clear_last_exception(env, &ignored);
        }
    }
    free(it);
}

/* When the function is gone (released and drained, or the environment is torn down). */
static void finalize(napi_env env, void *data, void *hint)
{
    (void)env;
    (void)hint;
    free(data);
}

static node_sub *sub_arg(napi_env env, napi_value v)
{
    void *p = NULL;
    if (napi_get_value_external(env, v, &p) != napi_ok || !p) {
        napi_throw_type_error(env, NULL, "not a subscription handle");
        return NULL;
    }
    return p;
}

/* subscribe(dbAddress: number, pattern: string, fn) -> [rc, handle] */
static napi_value js_subscribe(napi_env env, napi_callback_info info)
{
    size_t argc = 3;
    napi_value argv[3], result, rcv, handle, name;
    CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
    int64_t address = 0;
    size_t plen = 0;
    napi_valuetype t;
    if (argc != 3 || napi_get_value_int64(env, argv[0], &address) != napi_ok || address <= 0 ||
        napi_get_value_string_utf8(env, argv[1], NULL, 0, &plen) != napi_ok ||
        napi_typeof(env, argv[2], &t) != napi_ok || t != napi_function) {
        napi_throw_type_error(env, NULL, "subscribe(dbAddress, pattern, fn)");
        return NULL;
    }
    node_sub *s = calloc(1, sizeof *s);
    char *pattern = malloc(plen + 1);
    if (!s || !pattern) {
        free(s);
        free(pattern);
        napi_throw_error(env, NULL, "out of memory");
        return NULL;
    }
    napi_get_value_string_utf8(env, argv[1], pattern, plen + 1, &plen);
    CHECK(env, napi_create_string_utf8(env, "icms.subscription", NAPI_AUTO_LENGTH, &name));
    if (napi_create_threadsafe_function(env, argv[2], NULL, name, 0, 1, NULL, finalize, s, call_js,
                                        &s->tsfn) != napi_ok) {
        free(s);
        free(pattern);
        napi_throw_error(env, NULL, "cannot create a threadsafe function");
        return NULL;
    }
    /* The library checks the pattern (a NUL inside it makes it a shorter one, which it checks too). */
    int rc = icms_binding_sub_new((icms_db *)(intptr_t)address, pattern, deliver, s, &s->sub);
    free(pattern);
    CHECK(env, napi_create_array_with_length(env, 2, &result));
    CHECK(env, napi_create_int32(env, rc, &rcv));
    CHECK(env, napi_set_element(env, result, 0, rcv));
    if (rc != ICMS_OK) {
        s->closed = 1;
        napi_release_threadsafe_function(s->tsfn, napi_tsfn_abort); /* finalize frees s */
        return result;
    }
    CHECK(env, napi_create_external(env, s, NULL, NULL, &handle));
    CHECK(env, napi_set_element(env, result, 1, handle));
    return result;
}

/*
 * close(handle) -> token: stop the library's calls (waiting for any running
 * on another thread), drop what is queued, release the function. The token
 * (an external) is for freeSub() once the database is closed.
 */
static napi_value js_close(napi_env env, napi_callback_info info)
{
    size_t argc = 1;
    napi_value argv[1], token;
    CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
    node_sub *s = argc == 1 ? sub_arg(env, argv[0]) : NULL;
    if (!s)
        return NULL;
    icms_binding_sub *sub = s->sub;
    icms_binding_sub_close(sub);
    s->closed = 1;
    napi_release_threadsafe_function(s->tsfn, napi_tsfn_release); /* finalize frees s */
    CHECK(env, napi_create_external(env, sub, NULL, NULL, &token));
    return token;
}

/* ref(handle) / unref(handle): whether the open subscription keeps the loop alive. */
static napi_value js_ref(napi_env env, napi_callback_info info)
{
    size_t argc = 2;
    napi_value argv[2];
    bool on = true;
    CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
    node_sub *s = argc == 2 ? sub_arg(env, argv[0]) : NULL;
    if (!s)
        return NULL;
    CHECK(env, napi_get_value_bool(env, argv[1], &on));
    CHECK(env, on ? napi_ref_threadsafe_function(env, s->tsfn)
                  : napi_unref_threadsafe_function(env, s->tsfn));
    return NULL;
}

/* queued(handle): events the library handed over (delivered to the queue) so far. */
static napi_value js_queued(napi_env env, napi_callback_info info)
{
    size_t argc = 1;
    napi_value argv[1], n;
    CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
    node_sub *s = argc == 1 ? sub_arg(env, argv[0]) : NULL;
    if (!s)
        return NULL;
    CHECK(env, napi_create_double(env, (double)icms_binding_sub_delivered(s->sub), &n));
    return n;
}

/* freeSub(token): only after icms_close() of the subscription's database. */
static napi_value js_free(napi_env env, napi_callback_info info)
{
    size_t argc = 1;
    napi_value argv[1];
    void *p = NULL;
    CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
    if (argc != 1 || napi_get_value_external(env, argv[0], &p) != napi_ok) {
        napi_throw_type_error(env, NULL, "freeSub(token)");
        return NULL;
    }
    icms_binding_sub_free(p);
    return NULL;
}

NAPI_MODULE_INIT()
{
    napi_property_descriptor props[] = {
        {"subscribe", NULL, js_subscribe, NULL, NULL, NULL, napi_default, NULL},
        {"close", NULL, js_close, NULL, NULL, NULL, napi_default, NULL},
        {"ref", NULL, js_ref, NULL, NULL, NULL, napi_default, NULL},
        {"queued", NULL, js_queued, NULL, NULL, NULL, napi_default, NULL},
        {"freeSub", NULL, js_free, NULL, NULL, NULL, napi_default, NULL},
    };
    if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok)
        return NULL;
    return exports;
}
