/* The transport port's core side: the checks every transport gets for free. */
#include <string.h>

#include "core/core.h"
#include "icms/sys/transport.h"

void *icms_transport_alloc(size_t size)
{
    if (size == 0)
        return NULL;
    return icms__malloc(size);
}

static bool has_http_scheme(const char *url)
{
    return strncmp(url, "http://", 7) == 0 || strncmp(url, "https://", 8) == 0;
}

static int check_request(const icms_transport_request *request)
{
    if (request->version != ICMS_TRANSPORT_REQUEST_VERSION)
        return icms__error(ICMS_EVERSION, "transport request version %u is not supported",
                           request->version);
    if (!request->url || !has_http_scheme(request->url))
        return icms__error(ICMS_EINVALID, "transport URL must start with http:// or https://");
    if (request->header_count > 0 && !request->headers)
        return icms__error(ICMS_EINVALID, "transport headers are NULL but header_count is %zu",
                           request->header_count);
    for (size_t i = 0; i < request->header_count; i++) {
        const char *h = request->headers[i];
        /* A CR or LF would let one header smuggle another (or a second request). */
        if (!h || !strchr(h, ':') || strpbrk(h, "\r\n"))
            return icms__error(ICMS_EINVALID, "transport header %zu is not one \"Name: value\" line",
                               i);
    }
    if (request->body_len > 0 && !request->body)
        return icms__error(ICMS_EINVALID, "transport body is NULL but body_len is %zu",
                           request->body_len);
    return ICMS_OK;
}

/* Give a bare code from a host transport some words, keeping the code. */
static int word_error(int rc)
{
    const icms_error *last = icms_error_last();
    if (last->code == rc)
        return rc;
    if (rc == ICMS_EUSER)
        return icms__error(rc, "the transport stopped the request (ICMS_EUSER)");
    return icms__error(rc, "transport failed: %s", icms_strerror(rc));
}

int icms_transport_post(icms_transport *transport, const icms_transport_request *request,
                        int *status, uint8_t **body, size_t *body_len)
{
    if (!transport || !request || !status || !body || !body_len)
        return icms__error(ICMS_EINVALID, "transport post: NULL argument");
    *body = NULL;
    *body_len = 0;
    *status = 0;
    if (transport->version != ICMS_TRANSPORT_VERSION)
        return icms__error(ICMS_EVERSION, "transport version %u is not supported",
                           transport->version);
    if (!transport->post)
        return icms__error(ICMS_EINVALID, "transport has no post function");
    int rc = check_request(request);
    if (rc < 0)
        return rc;

    icms_error_clear();
    uint8_t *got = NULL;
    size_t got_len = 0;
    int got_status = 0;
    rc = transport->post(transport, request, &got_status, &got, &got_len);
    if (rc != ICMS_OK) {
        icms_free(got);
        if (rc > 0)
            return icms__error(ICMS_ERROR, "transport returned %d, which is not an error code", rc);
        return word_error(rc);
    }
    if (got_len > 0 && !got)
        return icms__error(ICMS_ETRANSPORT, "transport returned a NULL body of %zu bytes", got_len);
    if (got_len > request->max_response_len) {
        icms_free(got);
        return icms__error(ICMS_ELIMIT, "response body of %zu bytes exceeds the %zu byte limit",
                           got_len, request->max_response_len);
    }
    if (got_status < 100 || got_status > 599) {
        icms_free(got);
        return icms__error(ICMS_ETRANSPORT, "transport returned HTTP status %d", got_status);
    }
    /* A terminating NUL lets parsers treat the body as a C string. */
    uint8_t *out = icms__realloc(got, got_len + 1);
    if (!out) {
        icms_free(got);
        return icms__error(ICMS_ENOMEM, "out of memory for a %zu byte response", got_len);
    }
    out[got_len] = 0;
    *status = got_status;
    *body = out;
    *body_len = got_len;
    return ICMS_OK;
}

void icms_transport_free(icms_transport *transport)
{
    if (transport && transport->free)
        transport->free(transport);
}
