/*
 * The outbox across processes: two writer processes on one SQLite file, a
 * consumer that crashes between delivery and acknowledgement, and a
 * consumer that restarts in a new process.
 */
#include "support/test_support.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "app/db.h"
#include "core/json.h"
#include "events_fixture.h"
#include "icms/participations.h"
#include "icms/projects.h"
#include "icms/sys/notifier.h"

static int setup(void **state)
{
    return fx_setup_named(state, "events_procs");
}

static int teardown(void **state)
{
    return fx_teardown(state);
}

/* A second handle on the same file, as another process opens it. */
static icms_db *open_again(const fx *f)
{
    icms_options options = ICMS_OPTIONS_INIT;
    options.path = f->path;
    options.sqlite_sync = ICMS_SQLITE_SYNC_OFF;
    if (icms_clock_fake_new(FX_NOW, &options.clock) != ICMS_OK)
        _exit(89);
    icms_db *db = NULL;
    if (icms_open(&db, &options) != ICMS_OK)
        _exit(90);
    return db;
}

static int wait_child(pid_t pid)
{
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return status;
}

#define PROJECTS_PER_WRITER 15

static void writer(const fx *f)
{
    icms_db *db = open_again(f);
    for (int i = 0; i < PROJECTS_PER_WRITER; i++) {
        char *out = NULL;
        if (icms_project_create(db, &f->owner.req, fx_project_json(30), &out) != ICMS_OK)
            _exit(91);
        cJSON *p = NULL;
        if (icms__json_parse(out, strlen(out), NULL, &p) != ICMS_OK)
            _exit(92);
        icms_free(out);
        if (icms_project_publish(db, &f->owner.req, icms__json_get_string(p, "id"), NULL))
            _exit(93);
        cJSON_Delete(p);
    }
    icms_close(db);
    _exit(0);
}

static void test_two_writer_processes(void **state)
{
    fx *f = *state;
    pid_t pids[2];
    for (int i = 0; i < 2; i++) {
        pids[i] = fork();
        assert_true(pids[i] >= 0);
        if (pids[i] == 0)
            writer(f);
    }
    for (int i = 0; i < 2; i++) {
        int status = wait_child(pids[i]);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
    }
    /* Every event, numbered 1..N without a gap or a repeat, read through the pull API. */
    const int n = 2 * PROJECTS_PER_WRITER * 2;
    cJSON *page = ev_read(f, "auditor", ICMS_EVENTS_FROM_CURSOR, 1000);
    const cJSON *events = cJSON_GetObjectItem(page, "events");
    assert_int_equal(cJSON_GetArraySize(events), n);
    assert_int_equal(fx_int(page, "last_seq"), n);
    cJSON *created = cJSON_CreateObject(); /* subject -> seq of its project.created */
    int published = 0;
    for (int i = 0; i < n; i++) {
        const cJSON *e = cJSON_GetArrayItem(events, i);
        assert_int_equal(ev_seq(e), i + 1);
        const char *type = fx_str(e, "type"), *subject = fx_str(e, "subject");
        for (int j = 0; j < i; j++)
            assert_string_not_equal(fx_str(cJSON_GetArrayItem(events, j), "event_id"),
                                    fx_str(e, "event_id"));
        if (strcmp(type, "project.created") == 0) {
            assert_null(cJSON_GetObjectItem(created, subject));
            cJSON_AddNumberToObject(created, subject, i + 1);
        } else {
            assert_string_equal(type, "project.published");
            /* One project's events come in the order they happened. */
            assert_non_null(cJSON_GetObjectItem(created, subject));
            published++;
        }
    }
    assert_int_equal(cJSON_GetArraySize(created), n / 2);
    assert_int_equal(published, n / 2);
    cJSON_Delete(created);
    cJSON_Delete(page);
}

/* A consumer process reads, reports what it got through a pipe, and dies before acking. */
static icms_db *volatile crashing_db; /* reachable when the process dies (memcheck) */

static void crash_before_ack(const fx *f, int fd)
{
    icms_db *db = crashing_db = open_again(f);
    char *out = NULL;
    if (icms_events_read(db, &f->host, "mailer", ICMS_EVENTS_FROM_CURSOR, 0, &out) != ICMS_OK)
        _exit(94);
    size_t len = strlen(out);
    if (write(fd, out, len) != (ssize_t)len)
        _exit(95);
    close(fd);
    raise(SIGKILL); /* "delivered" (written out), never acknowledged */
    _exit(96);
}

static char *read_all(int fd)
{
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    ssize_t n;
    while ((n = read(fd, buf + len, cap - len - 1)) > 0)
        len += (size_t)n;
    buf[len] = 0;
    return buf;
}

/* A consumer process that acknowledges up to seq and exits cleanly. */
static void ack_and_exit(const fx *f, int64_t seq)
{
    icms_db *db = open_again(f);
    if (icms_events_ack(db, &f->host, "mailer", seq) != ICMS_OK)
        _exit(97);
    icms_close(db);
    _exit(0);
}

static void test_crash_between_delivery_and_ack(void **state)
{
    fx *f = *state;
    char project[37];
    fx_published_project(f, project);
    fx_published_project(f, project);
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        crash_before_ack(f, fds[1]);
    }
    close(fds[1]);
    char *delivered = read_all(fds[0]);
    close(fds[0]);
    int status = wait_child(pid);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGKILL);
    cJSON *first = fx_json(strdup(delivered));
    free(delivered);
    const cJSON *got = cJSON_GetObjectItem(first, "events");
    assert_int_equal(cJSON_GetArraySize(got), 4);
    /* At least once: the same events, same ids, come again. */
    cJSON *again = ev_read(f, "mailer", ICMS_EVENTS_FROM_CURSOR, 0);
    const cJSON *redelivered = cJSON_GetObjectItem(again, "events");
    assert_int_equal(cJSON_GetArraySize(redelivered), 4);
    for (int i = 0; i < 4; i++)
        assert_string_equal(fx_str(cJSON_GetArrayItem(got, i), "event_id"),
                            fx_str(cJSON_GetArrayItem(redelivered, i), "event_id"));
    /* Another process acknowledges half and exits; this one continues from there. */
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        ack_and_exit(f, 2);
    status = wait_child(pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    cJSON *rest = ev_read(f, "mailer", ICMS_EVENTS_FROM_CURSOR, 0);
    assert_int_equal(fx_int(rest, "acked"), 2);
    const cJSON *tail = cJSON_GetObjectItem(rest, "events");
    assert_int_equal(cJSON_GetArraySize(tail), 2);
    assert_string_equal(fx_str(cJSON_GetArrayItem(tail, 0), "event_id"),
                        fx_str(cJSON_GetArrayItem(got, 2), "event_id"));
    cJSON_Delete(first);
    cJSON_Delete(again);
    cJSON_Delete(rest);
}

/* ---- two processes sending notifications at once ---- */

static int send_to_pipe(icms_notifier *self, const icms_notification *n)
{
    int fd = *(int *)self->payload;
    char line[64];
    int len = snprintf(line, sizeof line, "%s\n", n->id);
    return write(fd, line, (size_t)len) == len ? ICMS_OK : ICMS_ETRANSPORT; /* atomic: < PIPE_BUF */
}

static void notify_worker(const fx *f, int fd)
{
    icms_db *db = open_again(f);
    static int pipe_fd;
    pipe_fd = fd;
    static icms_notifier n = ICMS_NOTIFIER_INIT;
    n.send = send_to_pipe;
    n.payload = &pipe_fd;
    if (icms_notify_set_notifier(db, &n))
        _exit(80);
    for (int i = 0; i < 5; i++)
        if (icms_notify_run(db, NULL) != ICMS_OK)
            _exit(81);
    icms_notify_set_notifier(db, NULL);
    icms_close(db);
    _exit(0);
}

static void test_two_notifier_processes_send_each_once(void **state)
{
    fx *f = *state;
    char project[37], p[37];
    ev_published_project(f, 30, project);
    fx_user *investors[] = {&f->investor, &f->investor2};
    for (int i = 0; i < 2; i++)
        fx_request_profit(f, investors[i], project, 100000000, p); /* 2 x (email, push) to the owner */
    for (int round = 0; round < 3; round++) {
        ev_published_project(f, 30, project);
        for (int i = 0; i < 2; i++)
            fx_request_profit(f, investors[i], project, 100000000, p);
    }
    const int expected = 4 * 2 * 2;
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pids[2];
    for (int i = 0; i < 2; i++) {
        pids[i] = fork();
        assert_true(pids[i] >= 0);
        if (pids[i] == 0) {
            close(fds[0]);
            notify_worker(f, fds[1]);
        }
    }
    close(fds[1]);
    char *all = read_all(fds[0]);
    close(fds[0]);
    for (int i = 0; i < 2; i++) {
        int status = wait_child(pids[i]);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
    }
    /* Every notification sent, none twice: routing and claims are transactions. */
    char *ids[64];
    int lines = 0;
    for (char *line = strtok(all, "\n"); line && lines < 64; line = strtok(NULL, "\n"))
        ids[lines++] = line;
    assert_int_equal(lines, expected);
    for (int i = 0; i < lines; i++)
        for (int j = i + 1; j < lines; j++)
            if (strcmp(ids[i], ids[j]) == 0)
                fail_msg("notification %s was sent twice", ids[i]);
    free(all);
    char *out = NULL;
    assert_icms_ok(icms_notify_list(f->db, &f->host, "SENT", NULL, &out));
    cJSON *sent = fx_json(out);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(sent, "items")), expected);
    cJSON_Delete(sent);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_two_writer_processes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crash_between_delivery_and_ack, setup, teardown),
        cmocka_unit_test_setup_teardown(test_two_notifier_processes_send_each_once, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
