/*
 * The JSON-RPC 1.0 client: one POST per call through the transport port,
 * with HTTP statuses and JSON-RPC error objects turned into ICMS codes.
 *
 * Bitcoin-family nodes answer an error with HTTP 500 (404 for an unknown
 * method) and a JSON-RPC body, and a credential failure with 401 and an empty
 * body; both shapes are read here (docs/rpc.md has the table).
 */
#include <stdio.h>
#include <string.h>

#include "core/core.h"
#include "rpc/rpc_internal.h"
#include "transport/transport_internal.h"

#define DEFAULT_MAX_RESPONSE (32u * 1024u * 1024u)
#define NODE_MESSAGE_MAX 200

static _Thread_local int last_node_code;

int icms__rpc_last_node_code(void)
{
    return last_node_code;
}

int icms_rpc_client_new(icms_rpc_client **out, icms_transport *transport, const char *url,
                        const icms_rpc_options *options)
{
    int rc = ICMS_OK;
    icms_rpc_client *c = NULL;
    icms_rpc_options dflt = ICMS_RPC_OPTIONS_INIT;
    const icms_rpc_options *o = options ? options : &dflt;
    if (out)
        *out = NULL;
    if (!out || !transport || !url) {
        rc = icms__error(ICMS_EINVALID, "rpc client: NULL argument");
        goto fail;
    }
    if (o->version != ICMS_RPC_OPTIONS_VERSION) {
        rc = icms__error(ICMS_EVERSION, "rpc options version %u is not supported", o->version);
        goto fail;
    }
    if (transport->version != ICMS_TRANSPORT_VERSION || !transport->post) {
        rc = icms__error(ICMS_EVERSION, "rpc client: transport version %u is not supported or has no post",
                         transport->version);
        goto fail;
    }
    if (o->generation < ICMS_RPC_GEN_AUTO || o->generation > ICMS_RPC_GEN_2606) {
        rc = icms__error(ICMS_EINVALID, "rpc client: unknown node generation %d", (int)o->generation);
        goto fail;
    }
    if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0) {
        rc = icms__error(ICMS_EINVALID, "rpc client: the node URL must start with http:// or https://");
        goto fail;
    }
    c = icms__calloc(1, sizeof *c);
    if (!c) {
        rc = ICMS_ENOMEM;
        goto fail;
    }
    c->url = icms__strdup(url);
    if (!c->url) {
        icms__free(c);
        rc = ICMS_ENOMEM;
        goto fail;
    }
    icms__url_redact(url, c->url_shown, sizeof c->url_shown);
    c->transport = transport;
    c->max_response_len = o->max_response_len ? o->max_response_len : DEFAULT_MAX_RESPONSE;
    c->generation = o->generation;
    atomic_init(&c->lacks_getblockheader, o->generation == ICMS_RPC_GEN_0_9);
    atomic_init(&c->next_id, 1);
    *out = c;
    return ICMS_OK;
fail:
    icms_transport_free(transport);
    return rc;
}

void icms_rpc_client_free(icms_rpc_client *client)
{
    if (!client)
        return;
    icms_transport_free(client->transport);
    /* The URL may carry user:password@ (refused in messages, but still a secret here). */
    icms__wipe(client->url, strlen(client->url));
    icms__free(client->url);
    icms__free(client);
}

/* The node's error text, made safe for a one-line message. */
static void copy_node_message(const cJSON *msg, char *buf, size_t size)
{
    const char *s = cJSON_IsString(msg) && msg->valuestring ? msg->valuestring : "(no message)";
    size_t o = 0;
    for (; *s && o + 1 < size && o < NODE_MESSAGE_MAX; s++)
        buf[o++] = (*s >= 0x20 && *s != 0x7f) ? *s : ' ';
    buf[o] = '\0';
}

static int map_node_error(const char *method, const cJSON *error)
{
    int64_t code = 0;
    const cJSON *jcode = cJSON_GetObjectItemCaseSensitive(error, "code");
    if (!icms__json_int(jcode, &code) || code < -1000000 || code > 1000000)
        code = 0;
    last_node_code = (int)code;
    char text[NODE_MESSAGE_MAX + 1];
    copy_node_message(cJSON_GetObjectItemCaseSensitive(error, "message"), text, sizeof text);
    int rc;
    switch (code) {
    case -5: /* RPC_INVALID_ADDRESS_OR_KEY: no such block or transaction */
        rc = ICMS_ENOTFOUND;
        break;
    case -32601: /* method not found: an older node generation */
        rc = ICMS_EVERSION;
        break;
    case -1:     /* RPC_MISC_ERROR (also bad parameters in old nodes) */
    case -3:     /* RPC_TYPE_ERROR */
    case -8:     /* RPC_INVALID_PARAMETER */
    case -32602: /* invalid params */
    case -32600: /* invalid request */
        rc = ICMS_EINVALID;
        break;
    default: /* warming up (-28), wallet missing or locked (-18, -13, -12, -4), ... */
        rc = ICMS_ETRANSPORT;
        break;
    }
    return icms__error(rc, "gapcoind %s: %s (RPC error %lld)", method, text, (long long)code);
}

static int check_status(icms_rpc_client *c, const char *method, int status, bool *json_expected)
{
    *json_expected = false;
    if (status == 200 || status == 500 || status == 404) {
        *json_expected = true; /* 500 and 404 carry a JSON-RPC error object */
        return ICMS_OK;
    }
    if (status == 401)
        return icms__error(ICMS_EUNAUTHENTICATED,
                           "gapcoind %s at %s refused the RPC credentials (HTTP 401)", method,
                           c->url_shown);
    if (status == 403)
        return icms__error(ICMS_ETRANSPORT,
                           "gapcoind %s at %s refused this client (HTTP 403; see rpcallowip)",
                           method, c->url_shown);
    return icms__error(ICMS_ETRANSPORT, "gapcoind %s at %s answered HTTP %d", method, c->url_shown,
                       status);
}

int icms__rpc_call(icms_rpc_client *c, const char *method, const char *params_json,
                   cJSON **result)
{
    *result = NULL;
    last_node_code = 0;
    uint64_t id = atomic_fetch_add(&c->next_id, 1);
    size_t need = strlen(method) + strlen(params_json) + 96;
    char *body = icms__malloc(need);
    if (!body)
        return ICMS_ENOMEM;
    int n = snprintf(body, need, "{\"jsonrpc\":\"1.0\",\"id\":%llu,\"method\":\"%s\",\"params\":%s}",
                     (unsigned long long)id, method, params_json);
    const char *headers[] = {"Content-Type: application/json"};
    icms_transport_request req = {ICMS_TRANSPORT_REQUEST_VERSION, c->url, headers, 1,
                                  (const uint8_t *)body, (size_t)n, c->max_response_len};
    int status = 0;
    uint8_t *resp = NULL;
    size_t resp_len = 0;
    int rc = icms_transport_post(c->transport, &req, &status, &resp, &resp_len);
    icms__free(body);
    if (rc < 0)
        return icms__error_wrap(rc, method);

    bool json_expected;
    rc = check_status(c, method, status, &json_expected);
    cJSON *root = NULL;
    if (rc == ICMS_OK) {
        rc = icms__json_parse_exact((const char *)resp, resp_len, &root);
        if (rc == ICMS_ETRANSPORT)
            rc = icms__error(ICMS_ETRANSPORT, "gapcoind %s at %s: HTTP %d with a body that is not JSON-RPC",
                             method, c->url_shown, status);
    }
    icms__free(resp);
    if (rc < 0)
        return rc;

    const cJSON *error = cJSON_GetObjectItemCaseSensitive(root, "error");
    cJSON *res = cJSON_IsObject(root) ? cJSON_GetObjectItemCaseSensitive(root, "result") : NULL;
    const cJSON *jid = cJSON_GetObjectItemCaseSensitive(root, "id");
    int64_t got_id = 0;
    if (!cJSON_IsObject(root) || (!res && (!error || cJSON_IsNull(error)))) {
        rc = icms__error(ICMS_ETRANSPORT, "gapcoind %s at %s: HTTP %d with a body that is not JSON-RPC",
                         method, c->url_shown, status);
    } else if (cJSON_IsObject(error)) {
        rc = map_node_error(method, error);
    } else if (error && !cJSON_IsNull(error)) {
        rc = icms__error(ICMS_ETRANSPORT, "gapcoind %s: malformed error member", method);
    } else if (status != 200) {
        rc = icms__error(ICMS_ETRANSPORT, "gapcoind %s at %s answered HTTP %d without an error",
                         method, c->url_shown, status);
    } else if (!icms__json_int(jid, &got_id) || (uint64_t)got_id != id) {
        rc = icms__error(ICMS_ETRANSPORT, "gapcoind %s: answer is for another request id", method);
    } else {
        *result = cJSON_DetachItemViaPointer(root, res);
    }
    cJSON_Delete(root);
    return rc;
}
