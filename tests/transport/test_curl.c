/*
 * The libcurl transport against a real HTTP server (the fake gapcoind) on
 * loopback: status and body, the size cap, timeouts, refused connections,
 * TLS and mutual TLS, and credentials kept out of every error message.
 */
#include "support/test_support.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/core.h"
#include "fake_gapcoind/fake_node.h"
#include "icms/sys/transport.h"

#define SCENARIO "rpc/chain_0.16.3.json"
/* base64("gapuser:s3cret-Pa55word"), what a leaked Authorization header would show */
#define AUTH_B64 "Z2FwdXNlcjpzM2NyZXQtUGE1NXdvcmQ="

static fake_node node;

static int setup(void **state)
{
    (void)state;
    icms_init();
    fake_node_start(&node, SCENARIO, NULL);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    fake_node_stop(&node);
    icms_shutdown();
    return 0;
}

static icms_transport *new_transport(const char *user, const char *password, unsigned timeout_ms)
{
    icms_transport_curl_options o = ICMS_TRANSPORT_CURL_OPTIONS_INIT;
    o.username = user;
    o.password = password;
    o.timeout_ms = timeout_ms;
    icms_transport *t = NULL;
    assert_icms_ok(icms_transport_curl_new(&t, &o));
    return t;
}

static const char *BODY = "{\"method\":\"getblockcount\",\"params\":[],\"id\":7}";
static const char *const HEADERS[] = {"Content-Type: application/json"};

static int post(icms_transport *t, const char *url, size_t cap, int *status, uint8_t **body,
                size_t *len)
{
    icms_transport_request r = {ICMS_TRANSPORT_REQUEST_VERSION, url, HEADERS, 1,
                                (const uint8_t *)BODY, strlen(BODY), cap};
    return icms_transport_post(t, &r, status, body, len);
}

static void assert_no_secret(const char *msg)
{
    assert_null(strstr(msg, FAKE_NODE_PASSWORD));
    assert_null(strstr(msg, AUTH_B64));
    assert_null(strstr(msg, "gapuser:"));
}

static void test_post_returns_status_and_body(void **state)
{
    (void)state;
    icms_transport *t = new_transport(FAKE_NODE_USER, FAKE_NODE_PASSWORD, 0);
    int status = 0;
    uint8_t *body = NULL;
    size_t len = 0;
    assert_icms_ok(post(t, fake_node_url(&node, "/", 0), 1 << 20, &status, &body, &len));
    assert_int_equal(status, 200);
    assert_int_equal(strlen((char *)body), len); /* NUL-terminated, no embedded NUL */
    assert_non_null(strstr((char *)body, "\"result\":12"));
    assert_non_null(strstr((char *)body, "\"id\":7"));
    icms_free(body);
    /* The same handle again: the kept-alive connection is reused. */
    assert_icms_ok(post(t, fake_node_url(&node, "/", 0), 1 << 20, &status, &body, &len));
    assert_int_equal(status, 200);
    icms_free(body);
    icms_transport_free(t);
}

static void test_wrong_credentials_are_a_401_not_an_error(void **state)
{
    (void)state;
    icms_transport *t = new_transport(FAKE_NODE_USER, "wrong", 0);
    int status = 0;
    uint8_t *body = NULL;
    size_t len = 99;
    assert_icms_ok(post(t, fake_node_url(&node, "/", 0), 1 << 20, &status, &body, &len));
    assert_int_equal(status, 401);
    assert_int_equal(len, 0);
    icms_free(body);
    icms_transport_free(t);
    /* No credentials at all: the same. */
    t = new_transport(NULL, NULL, 0);
    assert_icms_ok(post(t, fake_node_url(&node, "/", 0), 1 << 20, &status, &body, &len));
    assert_int_equal(status, 401);
    icms_free(body);
    icms_transport_free(t);
}

static void test_http_error_statuses_pass_through(void **state)
{
    (void)state;
    icms_transport *t = new_transport(FAKE_NODE_USER, FAKE_NODE_PASSWORD, 0);
    int status = 0;
    uint8_t *body = NULL;
    size_t len = 0;
    assert_icms_ok(post(t, fake_node_url(&node, "/status/503", 0), 1 << 20, &status, &body, &len));
    assert_int_equal(status, 503);
    icms_free(body);
    icms_transport_free(t);
}

static void test_connection_refused_keeps_secrets_out(void **state)
{
    (void)state;
    icms_transport *t = new_transport(FAKE_NODE_USER, FAKE_NODE_PASSWORD, 0);
    char url[256];
    int port = fake_node_unused_port();
    /* Credentials in the URL too: they must not reach the message either. */
    snprintf(url, sizeof url, "http://gapuser:" FAKE_NODE_PASSWORD "@127.0.0.1:%d/?token=abc", port);
    int status = 0;
    uint8_t *body = NULL;
    size_t len = 0;
    assert_icms(ICMS_ETRANSPORT, post(t, url, 1 << 20, &status, &body, &len));
    assert_null(body);
    const char *msg = icms_error_last()->message;
    assert_no_secret(msg);
    assert_null(strstr(msg, "token=abc"));
    char where[64];
    snprintf(where, sizeof where, "127.0.0.1:%d", port);
    assert_non_null(strstr(msg, where));
    icms_transport_free(t);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_timeout(void **state)
{
    (void)state;
    icms_transport *t = new_transport(FAKE_NODE_USER, FAKE_NODE_PASSWORD, 300);
    int status = 0;
    uint8_t *body = NULL;
    size_t len = 0;
    double start = now_s();
    assert_icms(ICMS_ETRANSPORT,
                post(t, fake_node_url(&node, "/slow/5000/", 0), 1 << 20, &status, &body, &len));
    double took = now_s() - start;
    assert_true(took >= 0.25 && took < 3.0);
    assert_non_null(strstr(icms_error_last()->message, "timed out"));
    assert_no_secret(icms_error_last()->message);
    /* A slow answer within the limit is fine. */
    assert_icms_ok(post(t, fake_node_url(&node, "/slow/50/", 0), 1 << 20, &status, &body, &len));
    assert_int_equal(status, 200);
    icms_free(body);
    icms_transport_free(t);
}

static void test_response_cap(void **state)
{
    (void)state;
    icms_transport *t = new_transport(FAKE_NODE_USER, FAKE_NODE_PASSWORD, 0);
    int status = 0;
    uint8_t *body = NULL;
    size_t len = 0;
    /* Announced by Content-Length. */
    assert_icms(ICMS_ELIMIT,
                post(t, fake_node_url(&node, "/oversized/200000", 0), 100000, &status, &body, &len));
    assert_null(body);
    /* Chunked, no length announced: aborted while streaming. */
    assert_icms(ICMS_ELIMIT, post(t, fake_node_url(&node, "/oversized-chunked/5000000", 0), 100000,
                                  &status, &body, &len));
    assert_null(body);
    /* Exactly at the cap is allowed; one byte over is not. */
    assert_icms_ok(
        post(t, fake_node_url(&node, "/oversized-chunked/100000", 0), 100000, &status, &body, &len));
    assert_int_equal(len, 100000);
    icms_free(body);
    assert_icms(ICMS_ELIMIT,
                post(t, fake_node_url(&node, "/oversized/100001", 0), 100000, &status, &body, &len));
    /* The handle still works after an aborted transfer. */
    assert_icms_ok(post(t, fake_node_url(&node, "/", 0), 1 << 20, &status, &body, &len));
    assert_int_equal(status, 200);
    icms_free(body);
    icms_transport_free(t);
}

static void test_options_are_checked(void **state)
{
    (void)state;
    icms_transport *t = (icms_transport *)1;
    icms_transport_curl_options o = ICMS_TRANSPORT_CURL_OPTIONS_INIT;
    o.password = "p";
    assert_icms(ICMS_EINVALID, icms_transport_curl_new(&t, &o));
    assert_null(t);
    assert_null(strstr(icms_error_last()->message, "\"p\""));
    o = (icms_transport_curl_options)ICMS_TRANSPORT_CURL_OPTIONS_INIT;
    o.client_key = "key.pem";
    assert_icms(ICMS_EINVALID, icms_transport_curl_new(&t, &o));
    o = (icms_transport_curl_options)ICMS_TRANSPORT_CURL_OPTIONS_INIT;
    o.username = "a:b";
    assert_icms(ICMS_EINVALID, icms_transport_curl_new(&t, &o));
    o = (icms_transport_curl_options)ICMS_TRANSPORT_CURL_OPTIONS_INIT;
    o.version = 99;
    assert_icms(ICMS_EVERSION, icms_transport_curl_new(&t, &o));
    assert_icms(ICMS_EINVALID, icms_transport_curl_new(NULL, NULL));
    assert_icms_ok(icms_transport_curl_new(&t, NULL));
    icms_transport_free(t);
    icms_transport_free(NULL);
}

static void test_requests_are_checked_before_sending(void **state)
{
    (void)state;
    icms_transport *t = new_transport(NULL, NULL, 0);
    int status = 0;
    uint8_t *body = NULL;
    size_t len = 0;
    assert_icms(ICMS_EINVALID, post(t, "ftp://127.0.0.1/", 100, &status, &body, &len));
    assert_icms(ICMS_EINVALID, post(t, "file:///etc/passwd", 100, &status, &body, &len));
    const char *smuggle[] = {"X-A: 1\r\nX-B: 2"};
    icms_transport_request r = {ICMS_TRANSPORT_REQUEST_VERSION, fake_node_url(&node, "/", 0),
                                smuggle, 1, NULL, 0, 100};
    assert_icms(ICMS_EINVALID, icms_transport_post(t, &r, &status, &body, &len));
    r.headers = NULL;
    assert_icms(ICMS_EINVALID, icms_transport_post(t, &r, &status, &body, &len));
    r.header_count = 0;
    r.body_len = 5;
    assert_icms(ICMS_EINVALID, icms_transport_post(t, &r, &status, &body, &len));
    r.body_len = 0;
    r.version = 2;
    assert_icms(ICMS_EVERSION, icms_transport_post(t, &r, &status, &body, &len));
    icms_transport_free(t);
}

/* ---- TLS: the fake node behind HTTPS with a test CA, then with client certificates ---- */

static const char *tls_file(const char *name)
{
    static char paths[8][4096];
    static int next;
    char *p = paths[next++ % 8];
    snprintf(p, 4096, "%s", icms_test_data_path(name));
    return p;
}

static void test_tls_verification_and_mtls(void **state)
{
    (void)state;
    const char *args[] = {"--tls", tls_file("transport/tls/server.pem"),
                          tls_file("transport/tls/server.key"), NULL};
    fake_node tls;
    fake_node_start(&tls, SCENARIO, args);
    char url[256];
    snprintf(url, sizeof url, "%s", fake_node_url(&tls, "/", 1));
    int status = 0;
    uint8_t *body = NULL;
    size_t len = 0;

    /* Plain HTTP client against the HTTPS port is a transport failure. */
    icms_transport *t = new_transport(FAKE_NODE_USER, FAKE_NODE_PASSWORD, 2000);
    assert_icms(ICMS_ETRANSPORT, post(t, fake_node_url(&tls, "/", 0), 1 << 20, &status, &body, &len));
    /* Default verification: the test CA is not in the system store. */
    assert_icms(ICMS_ETRANSPORT, post(t, url, 1 << 20, &status, &body, &len));
    assert_no_secret(icms_error_last()->message);
    icms_transport_free(t);

    icms_transport_curl_options o = ICMS_TRANSPORT_CURL_OPTIONS_INIT;
    o.username = FAKE_NODE_USER;
    o.password = FAKE_NODE_PASSWORD;
    o.ca_file = tls_file("transport/tls/other_ca.pem");
    assert_icms_ok(icms_transport_curl_new(&t, &o));
    assert_icms(ICMS_ETRANSPORT, post(t, url, 1 << 20, &status, &body, &len));
    icms_transport_free(t);

    o.ca_file = tls_file("transport/tls/ca.pem");
    assert_icms_ok(icms_transport_curl_new(&t, &o));
    assert_icms_ok(post(t, url, 1 << 20, &status, &body, &len));
    assert_int_equal(status, 200);
    icms_free(body);
    icms_transport_free(t);

    /* insecure_skip_verify accepts the unknown issuer (test networks only). */
    o.ca_file = NULL;
    o.insecure_skip_verify = 1;
    assert_icms_ok(icms_transport_curl_new(&t, &o));
    assert_icms_ok(post(t, url, 1 << 20, &status, &body, &len));
    icms_free(body);
    icms_transport_free(t);
    fake_node_stop(&tls);

    /* Mutual TLS: the server demands a client certificate from the test CA. */
    const char *margs[] = {"--tls", tls_file("transport/tls/server.pem"),
                           tls_file("transport/tls/server.key"), "--client-ca",
                           tls_file("transport/tls/ca.pem"), NULL};
    fake_node_start(&tls, SCENARIO, margs);
    snprintf(url, sizeof url, "%s", fake_node_url(&tls, "/", 1));
    o.insecure_skip_verify = 0;
    o.ca_file = tls_file("transport/tls/ca.pem");
    assert_icms_ok(icms_transport_curl_new(&t, &o));
    assert_icms(ICMS_ETRANSPORT, post(t, url, 1 << 20, &status, &body, &len));
    icms_transport_free(t);
    o.client_cert = tls_file("transport/tls/client.pem");
    o.client_key = tls_file("transport/tls/client.key");
    assert_icms_ok(icms_transport_curl_new(&t, &o));
    assert_icms_ok(post(t, url, 1 << 20, &status, &body, &len));
    assert_int_equal(status, 200);
    icms_free(body);
    icms_transport_free(t);
    /* A missing CA file is a transport failure with a message, not a crash. */
    o.ca_file = "/nonexistent/ca.pem";
    assert_icms_ok(icms_transport_curl_new(&t, &o));
    assert_icms(ICMS_ETRANSPORT, post(t, url, 1 << 20, &status, &body, &len));
    icms_transport_free(t);
    fake_node_stop(&tls);
}

/* ---- proxies: none unless asked for, whatever the environment says ---- */

static int proxied_count(void)
{
    icms_transport *t = new_transport(FAKE_NODE_USER, FAKE_NODE_PASSWORD, 0);
    const char *body = "{\"method\":\"fake_proxied\",\"params\":[],\"id\":1}";
    icms_transport_request r = {ICMS_TRANSPORT_REQUEST_VERSION, fake_node_url(&node, "/", 0), NULL,
                                0, (const uint8_t *)body, strlen(body), 4096};
    int status = 0;
    uint8_t *resp = NULL;
    size_t len = 0;
    assert_icms_ok(icms_transport_post(t, &r, &status, &resp, &len));
    const char *p = strstr((char *)resp, "\"result\":");
    assert_non_null(p);
    int n = atoi(p + 9);
    icms_free(resp);
    icms_transport_free(t);
    return n;
}

static void test_proxy_only_when_configured(void **state)
{
    (void)state;
    char dead[64];
    snprintf(dead, sizeof dead, "http://127.0.0.1:%d", fake_node_unused_port());
    /* An environment proxy that would fail every request: it must be ignored. */
    setenv("http_proxy", dead, 1);
    setenv("HTTPS_PROXY", dead, 1);
    setenv("ALL_PROXY", dead, 1);
    int before = proxied_count();
    icms_transport *t = new_transport(FAKE_NODE_USER, FAKE_NODE_PASSWORD, 0);
    int status = 0;
    uint8_t *body = NULL;
    size_t len = 0;
    assert_icms_ok(post(t, fake_node_url(&node, "/", 0), 1 << 20, &status, &body, &len));
    assert_int_equal(status, 200);
    icms_free(body);
    icms_transport_free(t);
    assert_int_equal(proxied_count(), before);

    /* A configured proxy is used: the fake node answers proxy-form requests for an unreachable host. */
    char proxy[64];
    snprintf(proxy, sizeof proxy, "http://127.0.0.1:%d", node.port);
    icms_transport_curl_options o = ICMS_TRANSPORT_CURL_OPTIONS_INIT;
    o.username = FAKE_NODE_USER;
    o.password = FAKE_NODE_PASSWORD;
    o.proxy = proxy;
    assert_icms_ok(icms_transport_curl_new(&t, &o));
    assert_icms_ok(post(t, "http://gapcoind.invalid:31397/", 1 << 20, &status, &body, &len));
    assert_int_equal(status, 200);
    assert_non_null(strstr((char *)body, "\"result\":12"));
    icms_free(body);
    icms_transport_free(t);
    assert_int_equal(proxied_count(), before + 1);
    /* A configured proxy that is down is a transport failure. */
    o.proxy = dead;
    assert_icms_ok(icms_transport_curl_new(&t, &o));
    assert_icms(ICMS_ETRANSPORT, post(t, "http://gapcoind.invalid:31397/", 1 << 20, &status, &body, &len));
    icms_transport_free(t);
    unsetenv("http_proxy");
    unsetenv("HTTPS_PROXY");
    unsetenv("ALL_PROXY");
}

/* ---- several threads share one transport ---- */

static icms_transport *shared;
static const char *shared_url;

static void *hammer(void *arg)
{
    (void)arg;
    for (int i = 0; i < 20; i++) {
        int status = 0;
        uint8_t *body = NULL;
        size_t len = 0;
        if (post(shared, shared_url, 1 << 20, &status, &body, &len) != 0 || status != 200)
            return NULL;
        icms_free(body);
    }
    return (void *)1;
}

static void test_threads_share_a_transport(void **state)
{
    (void)state;
    shared = new_transport(FAKE_NODE_USER, FAKE_NODE_PASSWORD, 0);
    static char url[256];
    snprintf(url, sizeof url, "%s", fake_node_url(&node, "/", 0));
    shared_url = url;
    pthread_t th[4];
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&th[i], NULL, hammer, NULL), 0);
    for (int i = 0; i < 4; i++) {
        void *ok = NULL;
        pthread_join(th[i], &ok);
        assert_non_null(ok);
    }
    icms_transport_free(shared);
}

/* ---- the port's own checks on a host transport ---- */

static int host_rc;
static size_t host_len;

static int host_post(icms_transport *t, const icms_transport_request *r, int *status,
                     uint8_t **body, size_t *len)
{
    (void)t;
    (void)r;
    if (host_rc != 0)
        return host_rc;
    *status = 200;
    *body = icms_transport_alloc(host_len);
    memset(*body, 'x', host_len);
    *len = host_len;
    return 0;
}

static void test_host_transport_is_policed(void **state)
{
    (void)state;
    icms_transport host = ICMS_TRANSPORT_INIT;
    host.post = host_post;
    int status = 0;
    uint8_t *body = NULL;
    size_t len = 0;
    icms_transport_request r = {ICMS_TRANSPORT_REQUEST_VERSION, "http://127.0.0.1:1/", NULL, 0,
                                NULL, 0, 10};
    host_rc = 0;
    host_len = 10;
    assert_icms_ok(icms_transport_post(&host, &r, &status, &body, &len));
    assert_int_equal(len, 10);
    assert_int_equal(body[10], 0);
    icms_free(body);
    host_len = 11; /* over the cap: the core refuses it even though the host did not */
    assert_icms(ICMS_ELIMIT, icms_transport_post(&host, &r, &status, &body, &len));
    assert_null(body);
    host_rc = ICMS_ETRANSPORT; /* a bare code gets words */
    icms_error_clear();
    assert_icms(ICMS_ETRANSPORT, icms_transport_post(&host, &r, &status, &body, &len));
    assert_non_null(strstr(icms_error_last()->message, "transport failed"));
    host_rc = ICMS_EUSER; /* handed back unchanged */
    assert_icms(ICMS_EUSER, icms_transport_post(&host, &r, &status, &body, &len));
    host_rc = 3; /* not an error code */
    assert_icms(ICMS_ERROR, icms_transport_post(&host, &r, &status, &body, &len));
    host.version = 7;
    assert_icms(ICMS_EVERSION, icms_transport_post(&host, &r, &status, &body, &len));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_post_returns_status_and_body),
        cmocka_unit_test(test_wrong_credentials_are_a_401_not_an_error),
        cmocka_unit_test(test_http_error_statuses_pass_through),
        cmocka_unit_test(test_connection_refused_keeps_secrets_out),
        cmocka_unit_test(test_timeout),
        cmocka_unit_test(test_response_cap),
        cmocka_unit_test(test_options_are_checked),
        cmocka_unit_test(test_requests_are_checked_before_sending),
        cmocka_unit_test(test_tls_verification_and_mtls),
        cmocka_unit_test(test_proxy_only_when_configured),
        cmocka_unit_test(test_threads_share_a_transport),
        cmocka_unit_test(test_host_transport_is_policed),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
