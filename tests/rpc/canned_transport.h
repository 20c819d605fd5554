/*
 * A host transport for tests: answers each POST with the next canned
 * (status, body), writing the request's JSON-RPC id wherever the body says
 * $ID, and keeps the last request body. It is also the proof that the port
 * can be implemented outside libcurl with nothing but icms_transport_alloc().
 */
#ifndef ICMS_TESTS_CANNED_TRANSPORT_H
#define ICMS_TESTS_CANNED_TRANSPORT_H

#include <stddef.h>

#include "icms/sys/transport.h"

#define CANNED_MAX 16

typedef struct canned_answer {
    int status;
    const char *body; /* may hold $ID; NULL = fail the post with ICMS_ETRANSPORT */
    size_t body_len;  /* 0 = strlen(body) */
} canned_answer;

typedef struct canned {
    canned_answer answers[CANNED_MAX];
    size_t count;
    size_t next;
    char last_request[4096];
    size_t calls;
} canned;

/* A transport (owned by whoever receives it) answering from c, which must outlive it. */
icms_transport *canned_transport(canned *c);

/* Queue one answer. */
void canned_push(canned *c, int status, const char *body);
void canned_push_bytes(canned *c, int status, const char *body, size_t body_len);

#endif
