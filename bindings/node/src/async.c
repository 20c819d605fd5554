/*
 * The Node binding's promise-returning network calls: a small N-API addon
 * (async.node) beside the SWIG one. NatsPublisher.drainAsync() and
 * RpcClient.callAsync()/checkPaymentAsync() run the same flat C call as
 * their synchronous twins (bindings/common/host_api.c) on a libuv worker
 * thread (napi_create_async_work), so the event loop keeps running while
 * the server or the node answers.
 *
 * Each call copies its arguments on the loop thread (the worker touches no
 * JavaScript value), runs the C call on the worker, and there captures the
 * code and the message of icms_error_last() (the last error is per thread:
 * on the loop thread it would be some other call's). Back on the loop the
 * promise resolves to [rc, text, message]: rc >= 0 with the JSON text (or
 * null for a drain, whose rc is the count), or rc < 0 with the worker's
 * message (null when the call recorded none); lib/icms.js turns a failure
 * into the same IcmsError subclass the synchronous method throws.
 *
 * The Database's commands run the same way (async_commands.c, included
 * below).
 *
 * What this file does NOT do: decide which calls may run at once. The
 * handle's address is borrowed; lib/icms.js keeps one call in flight per
 * handle and defers the handle's free (and its database's close) until the
 * call has settled, so the handle outlives every worker that uses it.
 *
 * While a call is queued or running its async work keeps the loop alive;
 * the work is deleted once it completed, so a settled call holds nothing.
 */
#define NAPI_VERSION 8
#include <node_api.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "icms.h"
#include "../../common/gapcoin_json.c"
#include "../../common/host_api.c"

typedef enum job_kind {
    JOB_NATS_DRAIN,
    JOB_RPC_CALL,
    JOB_RPC_CHECK_PAYMENT,
    JOB_COMMAND /* a Database command or the tick: async_commands.c */
} job_kind;

typedef struct command_job command_job;
static void command_job_free(command_job *c);
static int64_t command_run(command_job *c, char **out);

typedef struct job {
    job_kind kind;
    void *handle; /* borrowed: icms_nats_publisher * or icms_rpc_client * */
    napi_async_work work;
    napi_deferred deferred;
    /* Arguments, copied on the loop thread (malloc; NULL when absent). */
    char *method, *arg, *arg2, *txid, *address, *block_hash;
    uint8_t *script;
    size_t script_len;
    int64_t n, min_amount, min_confirmations;
    int network, spv;
    uint64_t min_difficulty;
    command_job *command; /* JOB_COMMAND's name, request and arguments */
    /* Results, written on the worker and read on the loop after it completed. */
    int64_t rc;
    char *out;     /* JSON text: malloc'd (host_api.c), or the library's for JOB_COMMAND */
    char *message; /* malloc'd copy of the worker's icms_error_last() message */
} job;

static void job_free(job *j)
{
    free(j->method);
    free(j->arg);
    free(j->arg2);
    free(j->txid);
    free(j->address);
    free(j->block_hash);
    free(j->script);
    if (j->kind == JOB_COMMAND)
        icms_free(j->out); /* the library's answer, not host_api.c's copy */
    else
        free(j->out);
    free(j->message);
    command_job_free(j->command);
    free(j);
}

/* On the worker: the C call, and the error it recorded on this thread. No N-API here. */
static void execute(napi_env env, void *data)
{
    (void)env;
    job *j = data;
    icms_error_clear(); /* so that the message read below is this call's */
    switch (j->kind) {
    case JOB_NATS_DRAIN:
        j->rc = icms_binding_nats_drain((icms_nats_publisher *)j->handle);
        break;
    case JOB_RPC_CALL:
        j->rc = icms_binding_rpc_call((icms_rpc_client *)j->handle, j->method, j->arg, j->arg2,
                                      j->n, &j->out);
        break;
    case JOB_RPC_CHECK_PAYMENT:
        j->rc = icms_binding_rpc_check_payment(
            (icms_rpc_client *)j->handle, j->txid, j->script, j->script_len, j->address,
            j->network, j->min_amount, j->min_confirmations, j->spv, j->min_difficulty,
            j->block_hash, &j->out);
        break;
    case JOB_COMMAND:
        j->rc = command_run(j->command, &j->out);
        break;
    }
    if (j->rc < 0) {
        const icms_error *e = icms_error_last();
        /* As lib/icms.js's raise(): the message only when it is this code's. */
        if (e->code == j->rc) {
            size_t len = strlen(e->message);
            j->message = malloc(len + 1);
            if (j->message)
                memcpy(j->message, e->message, len + 1);
        }
    }
}

static napi_value text_or_null(napi_env env, const char *s)
{
    napi_value v = NULL;
    napi_status st = s ? napi_create_string_utf8(env, s, NAPI_AUTO_LENGTH, &v) : napi_get_null(env, &v);
    return st == napi_ok ? v : NULL;
}

/* On the loop: settle the promise, free everything the call owned. */
static void complete(napi_env env, napi_status status, void *data)
{
    job *j = data;
    napi_value result = NULL, rc = NULL, out, message;
    if (status == napi_ok && napi_create_array_with_length(env, 3, &result) == napi_ok &&
        napi_create_int64(env, j->rc, &rc) == napi_ok && (out = text_or_null(env, j->out)) &&
        (message = text_or_null(env, j->message)) && napi_set_element(env, result, 0, rc) == napi_ok &&
        napi_set_element(env, result, 1, out) == napi_ok &&
        napi_set_element(env, result, 2, message) == napi_ok) {
        napi_resolve_deferred(env, j->deferred, result);
    } else {
        /* The environment is going away, or out of memory: reject if we still can. */
        napi_value msg, err;
        if (napi_create_string_utf8(env, "icms async addon: cannot settle the call",
                                    NAPI_AUTO_LENGTH, &msg) == napi_ok &&
            napi_create_error(env, NULL, msg, &err) == napi_ok)
            napi_reject_deferred(env, j->deferred, err);
    }
    napi_delete_async_work(env, j->work);
    job_free(j);
}

/* A string argument as a malloc'd copy; null and undefined are NULL. 0, or -1 after throwing. */
static int str_arg(napi_env env, napi_value v, const char *what, char **out)
{
    napi_valuetype t;
    size_t len = 0;
    *out = NULL;
    if (napi_typeof(env, v, &t) != napi_ok)
        return -1;
    if (t == napi_null || t == napi_undefined)
        return 0;
    if (t != napi_string || napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok) {
        napi_throw_type_error(env, NULL, what);
        return -1;
    }
    *out = malloc(len + 1);
    if (!*out) {
        napi_throw_error(env, NULL, "out of memory");
        return -1;
    }
    napi_get_value_string_utf8(env, v, *out, len + 1, &len);
    return 0;
}

static int int64_arg(napi_env env, napi_value v, const char *what, int64_t *out)
{
    if (napi_get_value_int64(env, v, out) != napi_ok) {
        napi_throw_type_error(env, NULL, what);
        return -1;
    }
    return 0;
}

/* The handle's address (SWIG's getCPtr()): a positive integer. */
static int handle_arg(napi_env env, napi_value v, void **out)
{
    int64_t address = 0;
    if (napi_get_value_int64(env, v, &address) != napi_ok || address <= 0) {
        napi_throw_type_error(env, NULL, "the first argument is a handle's address");
        return -1;
    }
    *out = (void *)(intptr_t)address;
    return 0;
}

/* Queue j's work and hand back its promise; j is freed here on failure. */
static napi_value start(napi_env env, job *j, const char *name)
{
    napi_value promise, resource_name;
    if (napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &resource_name) != napi_ok ||
        napi_create_promise(env, &j->deferred, &promise) != napi_ok) {
        job_free(j);
        napi_throw_error(env, NULL, "icms async addon: cannot create a promise");
        return NULL;
    }
    if (napi_create_async_work(env, NULL, resource_name, execute, complete, j, &j->work) !=
        napi_ok) {
        /* The promise stays pending but nobody holds it: the throw below is the answer. */
        job_free(j);
        napi_throw_error(env, NULL, "icms async addon: cannot create the async work");
        return NULL;
    }
    if (napi_queue_async_work(env, j->work) != napi_ok) {
        napi_delete_async_work(env, j->work);
        job_free(j);
        napi_throw_error(env, NULL, "icms async addon: cannot queue the async work");
        return NULL;
    }
    return promise;
}

static job *job_new(napi_env env, job_kind kind)
{
    job *j = calloc(1, sizeof *j);
    if (!j)
        napi_throw_error(env, NULL, "out of memory");
    else
        j->kind = kind;
    return j;
}

/* natsDrain(publisherAddress) -> Promise<[rc, null, message]> (rc: the count when >= 0). */
static napi_value js_nats_drain(napi_env env, napi_callback_info info)
{
    size_t argc = 1;
    napi_value argv[1];
    if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 1) {
        napi_throw_type_error(env, NULL, "natsDrain(publisherAddress)");
        return NULL;
    }
    job *j = job_new(env, JOB_NATS_DRAIN);
    if (!j)
        return NULL;
    if (handle_arg(env, argv[0], &j->handle) != 0) {
        job_free(j);
        return NULL;
    }
    return start(env, j, "icms.natsDrain");
}

/* rpcCall(clientAddress, method, arg, arg2, n) -> Promise<[rc, json, message]>. */
static napi_value js_rpc_call(napi_env env, napi_callback_info info)
{
    size_t argc = 5;
    napi_value argv[5];
    if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 5) {
        napi_throw_type_error(env, NULL, "rpcCall(clientAddress, method, arg, arg2, n)");
        return NULL;
    }
    job *j = job_new(env, JOB_RPC_CALL);
    if (!j)
        return NULL;
    if (handle_arg(env, argv[0], &j->handle) != 0 ||
        str_arg(env, argv[1], "method is a string", &j->method) != 0 ||
        str_arg(env, argv[2], "argument is a string", &j->arg) != 0 ||
        str_arg(env, argv[3], "argument is a string", &j->arg2) != 0 ||
        int64_arg(env, argv[4], "n is a number", &j->n) != 0) {
        job_free(j);
        return NULL;
    }
    return start(env, j, "icms.rpcCall");
}

/*
 * rpcCheckPayment(clientAddress, txid, script (Buffer or null), address, network,
 *                 minAmount, minConfirmations, spv, minDifficulty, blockHash)
 *   -> Promise<[rc, json, message]>.
 */
static napi_value js_rpc_check_payment(napi_env env, napi_callback_info info)
{
    size_t argc = 10;
    napi_value argv[10];
    if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 10) {
        napi_throw_type_error(env, NULL,
                              "rpcCheckPayment(clientAddress, txid, script, address, network, "
                              "minAmount, minConfirmations, spv, minDifficulty, blockHash)");
        return NULL;
    }
    job *j = job_new(env, JOB_RPC_CHECK_PAYMENT);
    if (!j)
        return NULL;
    int64_t network = 0, spv = 0, min_difficulty = 0;
    napi_valuetype t;
    if (handle_arg(env, argv[0], &j->handle) != 0 ||
        str_arg(env, argv[1], "txid is a string", &j->txid) != 0 ||
        napi_typeof(env, argv[2], &t) != napi_ok ||
        str_arg(env, argv[3], "address is a string", &j->address) != 0 ||
        int64_arg(env, argv[4], "network is a number", &network) != 0 ||
        int64_arg(env, argv[5], "minAmount is a number", &j->min_amount) != 0 ||
        int64_arg(env, argv[6], "minConfirmations is a number", &j->min_confirmations) != 0 ||
        int64_arg(env, argv[7], "spv is a number", &spv) != 0 ||
        int64_arg(env, argv[8], "minDifficulty is a number", &min_difficulty) != 0 ||
        str_arg(env, argv[9], "blockHash is a string", &j->block_hash) != 0) {
        job_free(j);
        return NULL;
    }
    if (network < INT32_MIN || network > INT32_MAX || min_difficulty < 0) {
        job_free(j);
        napi_throw_range_error(env, NULL, "network or minDifficulty out of range");
        return NULL;
    }
    j->network = (int)network;
    j->spv = spv != 0;
    j->min_difficulty = (uint64_t)min_difficulty;
    if (t != napi_null && t != napi_undefined) {
        bool is_buffer = false;
        void *bytes = NULL;
        size_t len = 0;
        if (napi_is_buffer(env, argv[2], &is_buffer) != napi_ok || !is_buffer ||
            napi_get_buffer_info(env, argv[2], &bytes, &len) != napi_ok) {
            job_free(j);
            napi_throw_type_error(env, NULL, "script is a Buffer");
            return NULL;
        }
        j->script = malloc(len ? len : 1);
        if (!j->script) {
            job_free(j);
            napi_throw_error(env, NULL, "out of memory");
            return NULL;
        }
        if (len)
            memcpy(j->script, bytes, len);
        j->script_len = len;
    }
    return start(env, j, "icms.rpcCheckPayment");
}

#include "async_commands.c"

/* node_api.h's macro defines two exported functions without a prior prototype. */
#pragma GCC diagnostic ignored "-Wmissing-prototypes"
NAPI_MODULE_INIT()
{
    napi_property_descriptor props[] = {
        {"natsDrain", NULL, js_nats_drain, NULL, NULL, NULL, napi_default, NULL},
        {"rpcCall", NULL, js_rpc_call, NULL, NULL, NULL, napi_default, NULL},
        {"rpcCheckPayment", NULL, js_rpc_check_payment, NULL, NULL, NULL, napi_default, NULL},
        {"command", NULL, js_command, NULL, NULL, NULL, napi_default, NULL},
        {"tick", NULL, js_tick, NULL, NULL, NULL, napi_default, NULL},
    };
    if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok)
        return NULL;
    return exports;
}
