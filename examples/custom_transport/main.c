/*
 * A transport written as a host would write one: the transport port
 * (icms/sys/transport.h) is one call, an HTTP-style POST. A host hands
 * libicms its own HTTP stack this way (its connection pool, proxy, tracing,
 * a test double). This one answers a Gapcoin node's JSON-RPC calls itself,
 * counting them, so the example runs with no node: getblockcount says 42,
 * anything else is "method not found".
 *
 *   custom_transport
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <icms.h>
#include <icms/rpc.h>
#include <icms/sys/transport.h>

typedef struct counting_node {
    int calls;
} counting_node;

/* Copy text into a body the library can free (icms_transport_alloc). */
static int reply(const char *text, uint8_t **body, size_t *body_len)
{
    size_t len = strlen(text);
    *body = icms_transport_alloc(len + 1);
    if (!*body)
        return ICMS_ENOMEM;
    memcpy(*body, text, len + 1);
    *body_len = len;
    return ICMS_OK;
}

static int post(icms_transport *self, const icms_transport_request *request, int *status,
                uint8_t **body, size_t *body_len)
{
    counting_node *node = self->payload;
    node->calls++;
    /* A real transport sends request->body to request->url with request->headers. */
    char text[256];
    const char *id = strstr((const char *)request->body, "\"id\":");
    int rpc_id = id ? atoi(id + 5) : 0;
    if (strstr((const char *)request->body, "\"getblockcount\"")) {
        *status = 200;
        snprintf(text, sizeof text, "{\"result\":42,\"error\":null,\"id\":%d}", rpc_id);
    } else {
        *status = 404;
        snprintf(text, sizeof text,
                 "{\"result\":null,\"error\":{\"code\":-32601,\"message\":\"Method not found\"},"
                 "\"id\":%d}",
                 rpc_id);
    }
    return reply(text, body, body_len);
}

static void free_transport(icms_transport *self)
{
    free(self->payload);
    free(self); /* the transport frees itself: libicms only calls this */
}

int main(void)
{
    if (icms_init() < 0)
        return 1;
    icms_transport *transport = malloc(sizeof *transport);
    *transport = (icms_transport)ICMS_TRANSPORT_INIT;
    transport->post = post;
    transport->free = free_transport;
    transport->payload = calloc(1, sizeof(counting_node));
    counting_node *node = transport->payload;

    /* The RPC client owns the transport from here; icms_open would own the client. */
    icms_rpc_client *client = NULL;
    int rc = icms_rpc_client_new(&client, transport, "http://127.0.0.1:31397/", NULL);
    int64_t height = -1;
    if (rc == ICMS_OK)
        rc = icms_rpc_getblockcount(client, &height);
    if (rc == ICMS_OK)
        printf("height %lld after %d call(s) through the custom transport\n", (long long)height,
               node->calls);
    else
        fprintf(stderr, "%s: %s\n", icms_error_name(rc), icms_error_last()->message);
    icms_rpc_client_free(client);
    icms_shutdown();
    return rc == ICMS_OK && height == 42 ? 0 : 1;
}
