/* See canned_transport.h. Plain C, no cmocka, so that the fuzz target can use it too. */
#include "rpc/canned_transport.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int canned_post(icms_transport *t, const icms_transport_request *r, int *status,
                       uint8_t **body, size_t *body_len)
{
    canned *c = t->payload;
    size_t n = r->body_len < sizeof c->last_request - 1 ? r->body_len : sizeof c->last_request - 1;
    memcpy(c->last_request, r->body, n);
    c->last_request[n] = '\0';
    c->calls++;
    if (c->next >= c->count)
        return ICMS_ETRANSPORT;
    const canned_answer *a = &c->answers[c->next++];
    if (!a->body)
        return ICMS_ETRANSPORT;
    /* The request id, to be echoed where the answer says $ID. */
    char id[32] = "0";
    const char *p = strstr(c->last_request, "\"id\":");
    if (p)
        snprintf(id, sizeof id, "%.*s", (int)strspn(p + 5, "0123456789"), p + 5);
    size_t len = a->body_len ? a->body_len : strlen(a->body);
    size_t cap = len + 1;
    for (size_t i = 0; i + 3 <= len; i++)
        if (memcmp(a->body + i, "$ID", 3) == 0)
            cap += strlen(id);
    uint8_t *out = icms_transport_alloc(cap);
    if (!out)
        return ICMS_ENOMEM;
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        if (i + 3 <= len && memcmp(a->body + i, "$ID", 3) == 0) {
            memcpy(out + o, id, strlen(id));
            o += strlen(id);
            i += 2;
        } else {
            out[o++] = (uint8_t)a->body[i];
        }
    }
    *status = a->status;
    *body = out;
    *body_len = o;
    return ICMS_OK;
}

static void canned_free(icms_transport *t)
{
    free(t);
}

icms_transport *canned_transport(canned *c)
{
    icms_transport *t = malloc(sizeof *t);
    if (!t)
        abort();
    icms_transport init = ICMS_TRANSPORT_INIT;
    *t = init;
    t->post = canned_post;
    t->free = canned_free;
    t->payload = c;
    return t;
}

void canned_push_bytes(canned *c, int status, const char *body, size_t body_len)
{
    if (c->count >= CANNED_MAX)
        abort();
    c->answers[c->count].status = status;
    c->answers[c->count].body = body;
    c->answers[c->count].body_len = body_len;
    c->count++;
}

void canned_push(canned *c, int status, const char *body)
{
    canned_push_bytes(c, status, body, 0);
}
