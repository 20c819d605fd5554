/*
 * The default transport: libcurl, HTTP(S) POST only.
 *
 * One easy handle per transport, reused under a mutex so that keep-alive
 * connections (and TLS sessions) survive between RPC calls. Credentials live
 * in this struct only; they are handed to curl for the duration of a call and
 * wiped from our memory when the transport is freed.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <curl/curl.h>

#include "core/core.h"
#include "icms/sys/transport.h"
#include "transport/transport_internal.h"

#define DEFAULT_CONNECT_TIMEOUT_MS 5000u
#define DEFAULT_TIMEOUT_MS 30000u

typedef struct curl_transport {
    icms_transport base; /* first, so the port pointer is the struct pointer */
    pthread_mutex_t lock;
    CURL *easy;
    long connect_timeout_ms;
    long timeout_ms;
    char *username;
    char *password;
    char *ca_file;
    char *client_cert;
    char *client_key;
    char *proxy;
    int insecure;
} curl_transport;

/* The response being received, grown up to the request's cap. */
typedef struct sink {
    uint8_t *data;
    size_t len;
    size_t cap_alloc;
    size_t max;
    bool too_large;
    bool nomem;
} sink;

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc = CURLE_FAILED_INIT;

/* libcurl asks for one global init per process; pthread_once makes it race-free. */
static void global_init(void)
{
    global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static size_t on_write(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    sink *s = userdata;
    size_t n = size * nmemb; /* curl guarantees this does not overflow (at most CURL_MAX_WRITE_SIZE) */
    size_t want;
    if (!icms__add_size(s->len, n, &want) || want > s->max) {
        s->too_large = true;
        return 0; /* a short count makes curl abort the transfer */
    }
    if (want > s->cap_alloc) {
        size_t grow = s->cap_alloc ? s->cap_alloc * 2 : 16384;
        if (grow < want)
            grow = want;
        if (grow > s->max)
            grow = s->max;
        uint8_t *p = icms__realloc(s->data, grow);
        if (!p) {
            s->nomem = true;
            return 0;
        }
        s->data = p;
        s->cap_alloc = grow;
    }
    memcpy(s->data + s->len, ptr, n);
    s->len = want;
    return n;
}

/* True when text holds a credential in any form curl might have printed it. */
static bool leaks_secret(const curl_transport *t, const char *text)
{
    if (t->password && t->password[0] && strstr(text, t->password))
        return true;
    if (t->username && t->username[0] && t->password) {
        char pair[1024];
        int n = snprintf(pair, sizeof pair, "%s:%s", t->username, t->password);
        bool leak = false;
        if (n > 0 && (size_t)n < sizeof pair) {
            char b64[1400];
            leak = strstr(text, pair) != NULL;
            if (!leak && (size_t)n * 4 / 3 + 4 < sizeof b64) {
                static const char tbl[] =
                    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
                const unsigned char *in = (const unsigned char *)pair;
                size_t o = 0;
                for (size_t i = 0; i < (size_t)n; i += 3) {
                    unsigned v = (unsigned)in[i] << 16;
                    if (i + 1 < (size_t)n)
                        v |= (unsigned)in[i + 1] << 8;
                    if (i + 2 < (size_t)n)
                        v |= in[i + 2];
                    b64[o++] = tbl[(v >> 18) & 63];
                    b64[o++] = tbl[(v >> 12) & 63];
                    b64[o++] = i + 1 < (size_t)n ? tbl[(v >> 6) & 63] : '=';
                    b64[o++] = i + 2 < (size_t)n ? tbl[v & 63] : '=';
                }
                b64[o] = '\0';
                leak = strstr(text, b64) != NULL;
                icms__wipe(b64, sizeof b64);
            }
        }
        icms__wipe(pair, sizeof pair);
        if (leak)
            return true;
    }
    return false;
}

static int fail(const curl_transport *t, int code, const char *url, CURLcode cc,
                const char *errbuf)
{
    char where[512];
    icms__url_redact(url, where, sizeof where);
    const char *detail = errbuf[0] ? errbuf : curl_easy_strerror(cc);
    char msg[1024];
    snprintf(msg, sizeof msg, "POST %s failed: %s", where, detail);
    /* curl's own words should never carry a credential; refuse to pass one on if they do. */
    if (leaks_secret(t, msg))
        snprintf(msg, sizeof msg, "POST %s failed: %s", where, curl_easy_strerror(cc));
    if (leaks_secret(t, msg))
        snprintf(msg, sizeof msg, "POST failed: %s", curl_easy_strerror(cc));
    int rc = icms__error(code, "%s", msg);
    icms__wipe(msg, sizeof msg);
    return rc;
}

static int map_curl_error(CURLcode cc)
{
    switch (cc) {
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
        return ICMS_EINVALID;
    case CURLE_OUT_OF_MEMORY:
        return ICMS_ENOMEM;
    case CURLE_FILESIZE_EXCEEDED:
        return ICMS_ELIMIT;
    default:
        return ICMS_ETRANSPORT;
    }
}

static int setup(curl_transport *t, const icms_transport_request *req, struct curl_slist *headers,
                 sink *s, char *errbuf)
{
    CURL *e = t->easy;
    CURLcode cc = CURLE_OK;
#define SET(opt, val)                                                                              \
    do {                                                                                           \
        if (cc == CURLE_OK)                                                                        \
            cc = curl_easy_setopt(e, opt, val);                                                    \
    } while (0)
    SET(CURLOPT_ERRORBUFFER, errbuf);
    SET(CURLOPT_URL, req->url);
    SET(CURLOPT_PROTOCOLS_STR, "http,https");
    SET(CURLOPT_FOLLOWLOCATION, 0L);
    SET(CURLOPT_NOSIGNAL, 1L); /* no SIGALRM for DNS timeouts: we are a library in threads */
    SET(CURLOPT_NOPROGRESS, 1L);
    SET(CURLOPT_VERBOSE, 0L);  /* verbose output would print the Authorization header */
    SET(CURLOPT_CONNECTTIMEOUT_MS, t->connect_timeout_ms);
    SET(CURLOPT_TIMEOUT_MS, t->timeout_ms);
    SET(CURLOPT_POST, 1L);
    SET(CURLOPT_POSTFIELDS, req->body_len ? (const char *)req->body : "");
    SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
    SET(CURLOPT_HTTPHEADER, headers);
    SET(CURLOPT_WRITEFUNCTION, on_write);
    SET(CURLOPT_WRITEDATA, s);
    /* Refuse early when the server announces a body over the cap. */
    if (req->max_response_len < (size_t)INT64_MAX)
        SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)req->max_response_len);
    if (t->username) {
        SET(CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        SET(CURLOPT_USERNAME, t->username);
        SET(CURLOPT_PASSWORD, t->password ? t->password : "");
    }
    /* "" switches proxies off, environment variables included. */
    SET(CURLOPT_PROXY, t->proxy ? t->proxy : "");
    SET(CURLOPT_SSL_VERIFYPEER, t->insecure ? 0L : 1L);
    SET(CURLOPT_SSL_VERIFYHOST, t->insecure ? 0L : 2L);
    if (t->ca_file)
        SET(CURLOPT_CAINFO, t->ca_file);
    if (t->client_cert)
        SET(CURLOPT_SSLCERT, t->client_cert);
    if (t->client_key)
        SET(CURLOPT_SSLKEY, t->client_key);
#undef SET
    if (cc != CURLE_OK)
        return fail(t, map_curl_error(cc), req->url, cc, "");
    return ICMS_OK;
}

static int curl_post(icms_transport *transport, const icms_transport_request *req, int *status,
                     uint8_t **body, size_t *body_len)
{
    curl_transport *t = transport->payload;
    struct curl_slist *headers = NULL;
    /* No "Expect: 100-continue" round trip; nodes answer the POST directly. */
    struct curl_slist *h = curl_slist_append(NULL, "Expect:");
    if (!h)
        return icms__error(ICMS_ENOMEM, "out of memory for request headers");
    headers = h;
    for (size_t i = 0; i < req->header_count; i++) {
        h = curl_slist_append(headers, req->headers[i]);
        if (!h) {
            curl_slist_free_all(headers);
            return icms__error(ICMS_ENOMEM, "out of memory for request headers");
        }
        headers = h;
    }

    sink s = {NULL, 0, 0, req->max_response_len, false, false};
    char errbuf[CURL_ERROR_SIZE];
    errbuf[0] = '\0';

    pthread_mutex_lock(&t->lock);
    curl_easy_reset(t->easy); /* keeps the connection cache, forgets the last call's options */
    int rc = setup(t, req, headers, &s, errbuf);
    if (rc == ICMS_OK) {
        CURLcode cc = curl_easy_perform(t->easy);
        if (cc == CURLE_OK) {
            long code = 0;
            curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &code);
            *status = (int)code;
        } else if (s.too_large || cc == CURLE_FILESIZE_EXCEEDED) {
            char where[512];
            icms__url_redact(req->url, where, sizeof where);
            rc = icms__error(ICMS_ELIMIT, "POST %s: response exceeds the %zu byte limit", where,
                             req->max_response_len);
        } else if (s.nomem) {
            rc = icms__error(ICMS_ENOMEM, "out of memory receiving a response");
        } else {
            rc = fail(t, map_curl_error(cc), req->url, cc, errbuf);
        }
    }
    /* Drop curl's copy of the credentials and our header list before unlocking. */
    curl_easy_reset(t->easy);
    pthread_mutex_unlock(&t->lock);
    curl_slist_free_all(headers);
    icms__wipe(errbuf, sizeof errbuf);

    if (rc != ICMS_OK) {
        icms__free(s.data);
        return rc;
    }
    *body = s.data;
    *body_len = s.len;
    return ICMS_OK;
}

static void wipe_free(char *s)
{
    if (s) {
        icms__wipe(s, strlen(s));
        icms__free(s);
    }
}

static void curl_transport_free(icms_transport *transport)
{
    if (!transport)
        return;
    curl_transport *t = transport->payload;
    if (t->easy)
        curl_easy_cleanup(t->easy);
    pthread_mutex_destroy(&t->lock);
    wipe_free(t->password);
    wipe_free(t->username);
    icms__free(t->ca_file);
    icms__free(t->client_cert);
    icms__free(t->client_key);
    wipe_free(t->proxy); /* it may carry proxy credentials */
    icms__free(t);
}

static int copy_opt(const char *in, char **out)
{
    *out = NULL;
    if (!in)
        return ICMS_OK;
    *out = icms__strdup(in);
    return *out ? ICMS_OK : ICMS_ENOMEM;
}

static unsigned int or_default(unsigned int v, unsigned int dflt)
{
    return v ? v : dflt;
}

int icms_transport_curl_new(icms_transport **out, const icms_transport_curl_options *options)
{
    if (!out)
        return icms__error(ICMS_EINVALID, "curl transport: out is NULL");
    *out = NULL;
    icms_transport_curl_options dflt = ICMS_TRANSPORT_CURL_OPTIONS_INIT;
    const icms_transport_curl_options *o = options ? options : &dflt;
    if (o->version != ICMS_TRANSPORT_CURL_OPTIONS_VERSION)
        return icms__error(ICMS_EVERSION, "curl transport options version %u is not supported",
                           o->version);
    if (o->password && !o->username)
        return icms__error(ICMS_EINVALID, "curl transport: a password was given without a user");
    if (o->username && strchr(o->username, ':'))
        return icms__error(ICMS_EINVALID, "curl transport: the user name may not contain ':'");
    if (o->client_key && !o->client_cert)
        return icms__error(ICMS_EINVALID,
                           "curl transport: a client key was given without a client certificate");
    if (o->insecure_skip_verify != 0 && o->insecure_skip_verify != 1)
        return icms__error(ICMS_EINVALID, "curl transport: insecure_skip_verify must be 0 or 1");

    pthread_once(&global_once, global_init);
    if (global_rc != CURLE_OK)
        return icms__error(ICMS_ETRANSPORT, "libcurl global initialisation failed: %s",
                           curl_easy_strerror(global_rc));

    curl_transport *t = icms__calloc(1, sizeof *t);
    if (!t)
        return ICMS_ENOMEM;
    icms_transport base = ICMS_TRANSPORT_INIT;
    t->base = base;
    t->base.post = curl_post;
    t->base.free = curl_transport_free;
    t->base.payload = t;
    t->connect_timeout_ms = (long)or_default(o->connect_timeout_ms, DEFAULT_CONNECT_TIMEOUT_MS);
    t->timeout_ms = (long)or_default(o->timeout_ms, DEFAULT_TIMEOUT_MS);
    t->insecure = o->insecure_skip_verify;
    if (pthread_mutex_init(&t->lock, NULL) != 0) {
        icms__free(t);
        return icms__error(ICMS_ERROR, "curl transport: cannot create its mutex");
    }
    int rc = ICMS_OK;
    if (copy_opt(o->username, &t->username) < 0 || copy_opt(o->password, &t->password) < 0 ||
        copy_opt(o->ca_file, &t->ca_file) < 0 || copy_opt(o->client_cert, &t->client_cert) < 0 ||
        copy_opt(o->client_key, &t->client_key) < 0 || copy_opt(o->proxy, &t->proxy) < 0)
        rc = ICMS_ENOMEM;
    if (rc == ICMS_OK) {
        t->easy = curl_easy_init();
        if (!t->easy)
            rc = icms__error(ICMS_ETRANSPORT, "curl_easy_init failed");
    }
    if (rc != ICMS_OK) {
        curl_transport_free(&t->base);
        return rc;
    }
    *out = &t->base;
    return ICMS_OK;
}
