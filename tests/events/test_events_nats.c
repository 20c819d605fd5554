/*
 * The NATS JetStream publisher against a real nats-server on a loopback
 * port: every event arrives exactly once after publisher restarts and
 * crashes, events wait while the server is down, and a server restarted
 * mid-run loses nothing and duplicates nothing.
 */
#include "support/test_support.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <nats/nats.h>

#include "app/app_fixture.h"
#include "app/db.h"
#include "core/json.h"
#include "events/nats_hook.h"
#include "icms/events.h"
#include "icms/projects.h"

typedef struct server {
    pid_t pid;
    int port;
    char dir[4096];
    char url[64];
} server;

typedef struct nfx {
    fx f;
    server s;
} nfx;

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    socklen_t len = sizeof a;
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    close(fd);
    return ntohs(a.sin_port);
}

static bool port_open(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bool ok = connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
    close(fd);
    return ok;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void server_start(server *s)
{
    char port[16];
    snprintf(port, sizeof port, "%d", s->port);
    s->pid = fork();
    assert_true(s->pid >= 0);
    if (s->pid == 0) {
        int null = open("/dev/null", 1);
        dup2(null, 1);
        dup2(null, 2);
        execl(ICMS_NATS_SERVER, "nats-server", "-js", "-a", "127.0.0.1", "-p", port, "-sd", s->dir,
              (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 500 && !port_open(s->port); i++)
        sleep_ms(20);
    assert_true(port_open(s->port));
}

static void server_stop(server *s)
{
    if (s->pid <= 0)
        return;
    kill(s->pid, SIGTERM);
    int status;
    waitpid(s->pid, &status, 0);
    s->pid = 0;
    for (int i = 0; i < 250 && port_open(s->port); i++)
        sleep_ms(20);
}

static int setup(void **state)
{
    static int n;
    nfx *t = calloc(1, sizeof *t);
    char name[32];
    snprintf(name, sizeof name, "events_nats_%d", n++);
    fx_open(&t->f, name);
    char js[48];
    snprintf(js, sizeof js, "%s_js", name); /* its own folder: a tmpdir starts empty */
    snprintf(t->s.dir, sizeof t->s.dir, "%s", icms_test_tmpdir(js));
    t->s.port = free_port();
    snprintf(t->s.url, sizeof t->s.url, "nats://127.0.0.1:%d", t->s.port);
    *state = t;
    return 0;
}

static int teardown(void **state)
{
    nfx *t = *state;
    server_stop(&t->s);
    fx_close(&t->f);
    free(t);
    return 0;
}

static icms_nats_publisher *publisher(nfx *t)
{
    icms_nats_options o = ICMS_NATS_OPTIONS_INIT;
    o.url = t->s.url;
    o.create_stream = 1;
    o.timeout_ms = 2000;
    o.batch = 4; /* several rounds per drain */
    icms_nats_publisher *p = NULL;
    assert_icms_ok(icms_nats_publisher_new(t->f.db, &o, &p));
    return p;
}

static void make_events(nfx *t, int projects)
{
    for (int i = 0; i < projects; i++)
        fx_published_project(&t->f, (char[37]){0});
}

/* Every outbox event is in the stream exactly once, in seq order, with its id. */
static void check_stream(nfx *t)
{
    cJSON *page = NULL;
    char *out = NULL;
    assert_icms_ok(icms_events_read(t->f.db, &t->f.host, "checker", 0, 1000, &out));
    page = fx_json(out);
    const cJSON *events = cJSON_GetObjectItem(page, "events");
    int n = cJSON_GetArraySize(events);
    natsConnection *nc = NULL;
    jsCtx *js = NULL;
    assert_int_equal(natsConnection_ConnectTo(&nc, t->s.url), NATS_OK);
    assert_int_equal(natsConnection_JetStream(&js, nc, NULL), NATS_OK);
    jsStreamInfo *si = NULL;
    assert_int_equal(js_GetStreamInfo(&si, js, "ICMS", NULL, NULL), NATS_OK);
    assert_int_equal(si->State.Msgs, (uint64_t)n);
    uint64_t first = si->State.FirstSeq;
    jsStreamInfo_Destroy(si);
    for (int i = 0; i < n; i++) {
        const cJSON *e = cJSON_GetArrayItem(events, i);
        natsMsg *m = NULL;
        assert_int_equal(js_GetMsg(&m, js, "ICMS", first + (uint64_t)i, NULL, NULL), NATS_OK);
        const char *id = NULL;
        assert_int_equal(natsMsgHeader_Get(m, "Nats-Msg-Id", &id), NATS_OK);
        assert_string_equal(id, fx_str(e, "event_id"));
        char subject[128];
        snprintf(subject, sizeof subject, "icms.%s", fx_str(e, "type"));
        assert_string_equal(natsMsg_GetSubject(m), subject);
        const char *ce = NULL;
        assert_int_equal(natsMsgHeader_Get(m, "ce-type", &ce), NATS_OK);
        assert_string_equal(ce, fx_str(e, "type"));
        /* The body is the event as the pull API gives it. */
        cJSON *body = NULL;
        assert_icms_ok(
            icms__json_parse(natsMsg_GetData(m), (size_t)natsMsg_GetDataLength(m), NULL, &body));
        assert_string_equal(fx_str(body, "event_id"), fx_str(e, "event_id"));
        cJSON_Delete(body);
        natsMsg_Destroy(m);
    }
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
    cJSON_Delete(page);
}

static int64_t cursor(nfx *t)
{
    char *out = NULL;
    assert_icms_ok(icms_events_read(t->f.db, &t->f.host, "nats", ICMS_EVENTS_FROM_CURSOR, 1, &out));
    cJSON *page = fx_json(out);
    int64_t acked = fx_int(page, "acked");
    cJSON_Delete(page);
    return acked;
}

static void test_every_event_once(void **state)
{
    nfx *t = *state;
    server_start(&t->s);
    make_events(t, 5); /* 10 events */
    icms_nats_publisher *p = publisher(t);
    size_t n = 0;
    assert_icms_ok(icms_nats_publisher_drain(p, &n));
    assert_int_equal(n, 10);
    assert_int_equal(cursor(t), 10);
    assert_icms_ok(icms_nats_publisher_drain(p, &n));
    assert_int_equal(n, 0);
    make_events(t, 1);
    assert_icms_ok(icms_nats_publisher_drain(p, &n));
    assert_int_equal(n, 2);
    icms_nats_publisher_free(p);
    check_stream(t);
}

/* SIGKILL: nothing runs after it, not even cmocka's signal handlers. */
static void die_now(void)
{
    raise(SIGKILL);
}

static void test_publisher_restarts_are_deduplicated(void **state)
{
    nfx *t = *state;
    server_start(&t->s);
    make_events(t, 3);
    icms_nats_publisher *p = publisher(t);
    size_t n = 0;
    assert_icms_ok(icms_nats_publisher_drain(p, &n));
    icms_nats_publisher_free(p);
    /* A publisher whose acks never reached the outbox: it starts over from 0. */
    assert_icms_ok(icms_events_seek(t->f.db, &t->f.host, "nats", 0));
    p = publisher(t);
    assert_icms_ok(icms_nats_publisher_drain(p, &n));
    assert_int_equal(n, 6); /* published again... */
    icms_nats_publisher_free(p);
    check_stream(t); /* ...and dropped by the server as duplicates */
    /* A publisher process killed after the server's acks, before the outbox ack. */
    make_events(t, 2);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        icms_options options = ICMS_OPTIONS_INIT;
        options.path = t->f.path;
        icms_clock_fake_new(FX_NOW, &options.clock);
        icms_db *db = NULL;
        if (icms_open(&db, &options))
            _exit(90);
        icms_nats_options o = ICMS_NATS_OPTIONS_INIT;
        o.url = t->s.url;
        icms_nats_publisher *child = NULL;
        if (icms_nats_publisher_new(db, &o, &child))
            _exit(91);
        icms__nats_after_publish_hook = die_now;
        icms_nats_publisher_drain(child, NULL);
        _exit(92);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (!WIFSIGNALED(status))
        fail_msg("the publisher process exited with %d", WEXITSTATUS(status));
    assert_int_equal(cursor(t), 6); /* the dead publisher never acknowledged */
    p = publisher(t);
    assert_icms_ok(icms_nats_publisher_drain(p, &n));
    assert_int_equal(n, 4);
    icms_nats_publisher_free(p);
    check_stream(t);
}

static void test_server_down_events_wait(void **state)
{
    nfx *t = *state;
    make_events(t, 2);
    icms_nats_publisher *p = publisher(t);
    size_t n = 99;
    assert_icms(ICMS_ETRANSPORT, icms_nats_publisher_drain(p, &n));
    assert_int_equal(n, 0);
    assert_int_equal(cursor(t), 0);
    make_events(t, 1);
    assert_icms(ICMS_ETRANSPORT, icms_nats_publisher_drain(p, &n));
    server_start(&t->s);
    assert_icms_ok(icms_nats_publisher_drain(p, &n));
    assert_int_equal(n, 6);
    icms_nats_publisher_free(p);
    check_stream(t);
}

static void test_server_restarted_mid_run(void **state)
{
    nfx *t = *state;
    server_start(&t->s);
    icms_nats_publisher *p = publisher(t);
    size_t n = 0;
    make_events(t, 2);
    assert_icms_ok(icms_nats_publisher_drain(p, &n));
    assert_int_equal(n, 4);
    server_stop(&t->s);
    make_events(t, 3);
    assert_icms(ICMS_ETRANSPORT, icms_nats_publisher_drain(p, &n));
    assert_int_equal(cursor(t), 4);
    server_start(&t->s); /* same storage directory: the stream comes back */
    assert_icms_ok(icms_nats_publisher_drain(p, &n));
    assert_int_equal(n, 6);
    assert_int_equal(cursor(t), 10);
    icms_nats_publisher_free(p);
    check_stream(t);
}

static void test_bad_options(void **state)
{
    nfx *t = *state;
    icms_nats_publisher *p = (icms_nats_publisher *)1;
    icms_nats_options o = ICMS_NATS_OPTIONS_INIT;
    o.version = 7;
    assert_icms(ICMS_EVERSION, icms_nats_publisher_new(t->f.db, &o, &p));
    assert_null(p);
    o = (icms_nats_options)ICMS_NATS_OPTIONS_INIT;
    o.subject_prefix = "icms";
    assert_icms(ICMS_EINVALID, icms_nats_publisher_new(t->f.db, &o, &p));
    o.subject_prefix = "icms.*.";
    assert_icms(ICMS_EINVALID, icms_nats_publisher_new(t->f.db, &o, &p));
    o.subject_prefix = "";
    o.create_stream = 1;
    assert_icms(ICMS_EINVALID, icms_nats_publisher_new(t->f.db, &o, &p));
    o = (icms_nats_options)ICMS_NATS_OPTIONS_INIT;
    o.stream = "a.b";
    assert_icms(ICMS_EINVALID, icms_nats_publisher_new(t->f.db, &o, &p));
    o = (icms_nats_options)ICMS_NATS_OPTIONS_INIT;
    o.batch = 5000;
    assert_icms(ICMS_EINVALID, icms_nats_publisher_new(t->f.db, &o, &p));
    o = (icms_nats_options)ICMS_NATS_OPTIONS_INIT;
    o.consumer = "icms.mine";
    assert_icms_ok(icms_nats_publisher_new(t->f.db, &o, &p));
    make_events(t, 1);
    assert_icms(ICMS_EINVALID, icms_nats_publisher_drain(p, NULL)); /* a reserved name */
    icms_nats_publisher_free(p);
    assert_icms(ICMS_EINVALID, icms_nats_publisher_new(NULL, NULL, &p));
    assert_icms(ICMS_EINVALID, icms_nats_publisher_drain(NULL, NULL));
    icms_nats_publisher_free(NULL);
    assert_int_equal(icms_nats_available(), 1);
    /* Without create_stream a missing stream is an error, not a silent loss. */
    server_start(&t->s);
    o = (icms_nats_options)ICMS_NATS_OPTIONS_INIT;
    o.url = t->s.url;
    assert_icms_ok(icms_nats_publisher_new(t->f.db, &o, &p));
    assert_icms(ICMS_ETRANSPORT, icms_nats_publisher_drain(p, NULL));
    assert_non_null(strstr(icms_error_last()->message, "does not exist"));
    icms_nats_publisher_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_every_event_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_publisher_restarts_are_deduplicated, setup, teardown),
        cmocka_unit_test_setup_teardown(test_server_down_events_wait, setup, teardown),
        cmocka_unit_test_setup_teardown(test_server_restarted_mid_run, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_options, setup, teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    nats_Close();
    return rc;
}
