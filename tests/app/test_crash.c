/*
 * A process killed in the middle of its work leaves a database that opens,
 * verifies and checks clean: whatever committed is whole, whatever did not
 * left no trace. A child runs the project lifecycle in a loop on a real
 * SQLite file (synchronous=FULL); the parent kills it with SIGKILL at a
 * random moment, reopens the file, runs icms_check and the audit verifier,
 * and goes on using it. Repeated with different moments.
 */
#include "support/test_support.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "app_fixture.h"
#include "icms/audit.h"
#include "icms/participations.h"
#include "icms/payments.h"
#include "icms/projects.h"

#define ROUNDS 12

static void child_fail(int code)
{
    fprintf(stderr, "child: step %d failed: %s\n", code, icms_error_last()->message);
    _exit(code);
}

/* The top-level id of a JSON result, into out (37 bytes); the result is freed. */
static void take_id(char *json, char out[37])
{
    cJSON *doc = cJSON_Parse(json);
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(doc, "id");
    snprintf(out, 37, "%s", cJSON_IsString(id) ? id->valuestring : "");
    cJSON_Delete(doc);
    icms_free(json);
}

/* The child: create, publish, request and approve, forever (until killed). */
static void child_work(const fx *f)
{
    icms_options options = ICMS_OPTIONS_INIT;
    options.path = f->path;
    icms_clock_fake_new(FX_NOW, &options.clock);
    icms_db *db = NULL;
    if (icms_open(&db, &options) != ICMS_OK)
        child_fail(2);
    for (;;) {
        char *out = NULL;
        if (icms_project_create(db, &f->owner.req, fx_project_json(30), &out) != ICMS_OK)
            child_fail(3);
        char id[37];
        take_id(out, id);
        if (icms_project_publish(db, &f->owner.req, id, NULL) != ICMS_OK)
            child_fail(4);
        if (icms_participation_request(db, &f->investor.req, id,
                                       "{\"type\":\"PROFIT\",\"capital\":100000000}",
                                       &out) != ICMS_OK)
            child_fail(5);
        char pid[37];
        take_id(out, pid);
        if (icms_participation_approve(db, &f->owner.req, pid, NULL) != ICMS_OK)
            child_fail(6);
    }
}

static void test_killed_mid_command_leaves_a_clean_database(void **state)
{
    (void)state;
    fx f;
    fx_open(&f, "crash");
    /* The child opens its own handle; the parent's stays closed while it runs. */
    icms_close(f.db);
    f.db = NULL;
    srand((unsigned)time(NULL));
    for (int round = 0; round < ROUNDS; round++) {
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0)
            child_work(&f);
        /* Let it get going, then kill it somewhere inside its work. */
        usleep((useconds_t)(20000 + rand() % 80000));
        kill(pid, SIGKILL);
        int status;
        waitpid(pid, &status, 0);
        if (!WIFSIGNALED(status)) /* it was working, not failing */
            fail_msg("round %d: the child exited with %d", round, WEXITSTATUS(status));

        icms_options options = ICMS_OPTIONS_INIT;
        options.path = f.path;
        assert_icms_ok(icms_clock_fake_new(FX_NOW, &options.clock));
        icms_db *db = NULL;
        assert_icms_ok(icms_open(&db, &options));
        char *report = NULL;
        int rc = icms_check(db, &f.host, &report);
        if (rc != ICMS_OK)
            fail_msg("round %d: %s\n%s", round, icms_error_last()->message, report);
        icms_free(report);
        assert_icms_ok(icms_audit_verify(db, NULL, NULL, 0, NULL));
        /* And it is usable: a command goes through. */
        assert_icms_ok(icms_project_create(db, &f.owner.req, fx_project_json(30), NULL));
        if (round == ROUNDS - 1) {
            /* The children did commit work before they were killed (else this proves little). */
            char *page = NULL;
            assert_icms_ok(icms_project_list(db, &f.host, "{\"limit\":100}", &page));
            cJSON *doc = cJSON_Parse(page);
            assert_true(cJSON_GetArraySize(cJSON_GetObjectItem(doc, "items")) > ROUNDS);
            cJSON_Delete(doc);
            icms_free(page);
        }
        icms_close(db);
    }
    f.db = NULL;
    icms_shutdown();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_killed_mid_command_leaves_a_clean_database),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
