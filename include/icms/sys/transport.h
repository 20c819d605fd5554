/*
 * The transport port: one HTTP-style POST.
 *
 * libicms talks to a Gapcoin node (JSON-RPC) through this struct and nothing
 * else, so a host can route the calls through its own HTTP stack (Python
 * requests, Node fetch, Go net/http) or a test double. The built-in libcurl
 * transport (icms_transport_curl_new) implements exactly this struct.
 * docs/rpc.md describes the contract in full.
 *
 * Not included by icms.h: this header is for transport authors.
 */
#ifndef ICMS_SYS_TRANSPORT_H
#define ICMS_SYS_TRANSPORT_H

#include "icms/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * One request, handed to post() and borrowed for the duration of the call.
 * Plain fields only, so that cgo, ctypes and SWIG read it without help.
 */
typedef struct icms_transport_request {
    unsigned int version;        /**< ICMS_TRANSPORT_REQUEST_VERSION */
    const char *url;             /**< absolute http:// or https:// URL */
    const char *const *headers;  /**< "Name: value" strings; may be NULL when header_count is 0 */
    size_t header_count;         /**< number of entries in headers */
    const uint8_t *body;         /**< request body; may be NULL when body_len is 0 */
    size_t body_len;             /**< request body length in bytes */
    /**
     * The largest response body the core accepts, in bytes. A transport
     * should stop reading once the body grows past it and answer
     * ICMS_ELIMIT; the core checks it again whatever the transport does.
     */
    size_t max_response_len;
} icms_transport_request;

#define ICMS_TRANSPORT_REQUEST_VERSION 1

/**
 * A transport. The host fills one with ICMS_TRANSPORT_INIT and its functions
 * and hands it to a client (icms_rpc_client_new); from then on the client owns
 * it and calls free() exactly once, when the client is freed (or when its
 * creation fails).
 *
 * post() sends request and, when an HTTP answer arrived (whatever its status),
 * returns ICMS_OK with *status set to the HTTP status code and the response
 * body in *body / *body_len. The body must be allocated with
 * icms_transport_alloc() (or be NULL when *body_len is 0); the core frees it
 * with icms_free(). Any other answer is an error and leaves *body NULL:
 *   - ICMS_ETRANSPORT: could not connect, timed out, TLS failed, protocol error;
 *   - ICMS_ELIMIT: the response body was larger than request->max_response_len;
 *   - ICMS_EINVALID: the request cannot be sent (bad URL or header);
 *   - ICMS_ENOMEM, or ICMS_EUSER to stop the operation (handed back unchanged).
 * Error messages must never contain credentials.
 *
 * Threads: post() may be called from several threads at once; a transport
 * that cannot allow that serializes the calls itself.
 */
typedef struct icms_transport {
    unsigned int version; /**< ICMS_TRANSPORT_VERSION */

    int (*post)(struct icms_transport *transport, const icms_transport_request *request,
                int *status, uint8_t **body, size_t *body_len);

    /** Release the transport and everything it holds. May be NULL. */
    void (*free)(struct icms_transport *transport);

    /** Anything the transport needs; the core never reads it. */
    void *payload;
} icms_transport;

#define ICMS_TRANSPORT_VERSION 1
#define ICMS_TRANSPORT_INIT {ICMS_TRANSPORT_VERSION, NULL, NULL, NULL}

/**
 * Allocate size bytes for a response body with the library's allocator, so
 * that the core can free it with icms_free(). For transport authors writing
 * in another language, this is the only allocation they need.
 * Returns NULL when the allocation fails (or size is 0).
 */
ICMS_EXTERN void *icms_transport_alloc(size_t size);

/**
 * Send one POST through a transport, with the checks the core relies on: the
 * struct version, the URL scheme, the size cap (a body longer than
 * request->max_response_len is freed and answered with ICMS_ELIMIT), and a
 * worded error message when the transport returned a bare code.
 * On ICMS_OK, *body (NUL-terminated one byte past *body_len, for convenience)
 * belongs to the caller; free it with icms_free().
 * Errors: ICMS_EINVALID, ICMS_EVERSION, ICMS_ETRANSPORT, ICMS_ELIMIT, ICMS_ENOMEM,
 * or whatever the transport returned.
 */
ICMS_EXTERN int icms_transport_post(icms_transport *transport, const icms_transport_request *request,
                                    int *status, uint8_t **body, size_t *body_len);

/** Free a transport that no client owns (calls its free()). NULL is allowed. */
ICMS_EXTERN void icms_transport_free(icms_transport *transport);

/** Options of the built-in libcurl transport. Strings are copied. */
typedef struct icms_transport_curl_options {
    unsigned int version;            /**< ICMS_TRANSPORT_CURL_OPTIONS_VERSION */
    unsigned int connect_timeout_ms; /**< TCP + TLS connect limit; 0 = 5000 */
    unsigned int timeout_ms;         /**< whole-request limit; 0 = 30000 */
    const char *username;            /**< HTTP Basic user; NULL = no authentication */
    const char *password;            /**< HTTP Basic password; wiped from memory at free */
    const char *ca_file;             /**< PEM bundle to trust instead of the system's; may be NULL */
    const char *client_cert;         /**< PEM client certificate for mTLS; may be NULL */
    const char *client_key;          /**< PEM private key of client_cert; may be NULL */
    /**
     * 0 (default): verify the server's certificate and host name. 1 turns
     * verification off, for test networks only; never use it with real money.
     */
    int insecure_skip_verify;
    /**
     * HTTP proxy URL ("http://proxy:3128"). NULL (default): connect directly,
     * and ignore the http_proxy / https_proxy environment variables, so that
     * a process environment cannot reroute (and read) the node's traffic.
     */
    const char *proxy;
} icms_transport_curl_options;

#define ICMS_TRANSPORT_CURL_OPTIONS_VERSION 1
#define ICMS_TRANSPORT_CURL_OPTIONS_INIT                                                           \
    {ICMS_TRANSPORT_CURL_OPTIONS_VERSION, 0, 0, NULL, NULL, NULL, NULL, NULL, 0, NULL}

/**
 * A transport over libcurl: HTTP and HTTPS only, no redirects, HTTP Basic
 * authentication when a username is given, TLS verification on by default.
 * The response body is capped by each request's max_response_len (the
 * transfer is aborted as soon as it exceeds it). options may be NULL for the
 * defaults. Error messages name the failure (connection refused, timeout, TLS)
 * but never the credentials.
 * Errors: ICMS_EINVALID (bad options: password without user, key without
 * certificate), ICMS_EVERSION (unknown options version), ICMS_ETRANSPORT
 * (libcurl failed to start).
 * Threads: the transport may be shared; its calls are serialized (one
 * connection, reused). Create one per thread for parallel calls.
 */
ICMS_EXTERN int icms_transport_curl_new(icms_transport **out,
                                        const icms_transport_curl_options *options);

#ifdef __cplusplus
}
#endif

#endif /* ICMS_SYS_TRANSPORT_H */
