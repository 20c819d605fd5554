/*
 * Bootstrap races between processes: several processes, each with its own
 * handle on one SQLite file, released at the same instant, all try to
 * create the first administrator. Exactly one wins, every other one is told
 * ICMS_EEXISTS, and the file holds exactly one administrator afterwards.
 */
#include "support/test_support.h"

#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "app/db.h"
#include "app/user_doc.h"
#include "kv/tx.h"
#include "test_users_fixture.h"

#define ROUNDS 12

enum race_kind { CREATE_ADMIN, BOOTSTRAP, SAME_EMAIL };

/* The child's whole life: open, wait for the start signal, run one call, report by exit code. */
static void child(const char *path, int start_fd, int index, enum race_kind kind)
{
    char buf;
    /* Blocks until the parent closes the write end: every child starts at once. */
    if (read(start_fd, &buf, 1) < 0)
        _exit(90);
    icms_options options = ICMS_OPTIONS_INIT;
    options.path = path;
    icms_db *db = NULL;
    if (icms_open(&db, &options) != ICMS_OK)
        _exit(91);
    icms_request host = ICMS_REQUEST_INIT;
    host.actor_kind = ICMS_ACTOR_HOST;
    char json[200];
    /* One address spelled with a different case by each racer. */
    static const char *const spellings[] = {"same@example.com", "SAME@example.com",
                                            "Same@Example.com", "same@EXAMPLE.COM"};
    if (kind == SAME_EMAIL)
        snprintf(json, sizeof json, "{\"name\":\"Racer %d\",\"email\":\"%s\"}", index,
                 spellings[index % 4]);
    else
        snprintf(json, sizeof json, "{\"name\":\"Racer %d\",\"email\":\"racer%d@example.com\"%s}",
                 index, index, kind == BOOTSTRAP ? "" : ",\"roles\":[\"ADMIN\"]");
    int rc = kind == BOOTSTRAP ? icms_user_bootstrap_admin(db, &host, json, NULL)
                               : icms_user_create(db, &host, json, NULL);
    icms_close(db);
    _exit(rc == ICMS_OK ? 0 : rc == ICMS_EEXISTS ? 1 : 100 + (-rc % 100));
}

static int on_admin_key(const uint8_t *key, size_t key_len, const uint8_t *value, size_t value_len,
                        void *payload)
{
    (void)key, (void)key_len, (void)value, (void)value_len;
    (*(int *)payload)++;
    return 0;
}

/* The entries of the active-administrator set: one per ACTIVE user holding ADMIN. */
static int count_admins(icms_db *db)
{
    int count = 0;
    icms__tx tx;
    icms__key prefix;
    icms__user_admin_prefix(&prefix);
    assert_icms_ok(icms__tx_begin(db->store, ICMS_STORE_READ, &tx));
    assert_icms_ok(icms__tx_scan_prefix(&tx, &prefix, 0, on_admin_key, &count));
    icms__tx_rollback(&tx);
    return count;
}

/* Race `procs` processes; returns how many won. Others must have been told EEXISTS. */
static int race(const char *path, int procs, enum race_kind kind)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pids[8];
    for (int i = 0; i < procs; i++) {
        pids[i] = fork();
        assert_true(pids[i] >= 0);
        if (pids[i] == 0) {
            close(fds[1]);
            child(path, fds[0], i, kind);
        }
    }
    close(fds[0]);
    close(fds[1]); /* go */
    int wins = 0;
    for (int i = 0; i < procs; i++) {
        int status = 0;
        assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
        assert_true(WIFEXITED(status));
        int code = WEXITSTATUS(status);
        if (code == 0)
            wins++;
        else if (code != 1)
            fail_msg("a racer exited with %d (not success nor ICMS_EEXISTS)", code);
    }
    return wins;
}

static void test_exactly_one_bootstrap_wins(void **state)
{
    (void)state;
    for (int round = 0; round < ROUNDS; round++) {
        char name[64];
        snprintf(name, sizeof name, "users_race_%d", round);
        char path[4200];
        snprintf(path, sizeof path, "%s/icms.db", icms_test_tmpdir(name));
        /* Create the file first, so the racers race on the bootstrap, not on the format stamp. */
        icms_options options = ICMS_OPTIONS_INIT;
        options.path = path;
        icms_db *db = NULL;
        assert_icms_ok(icms_open(&db, &options));
        icms_close(db);

        int procs = 2 + round % 3; /* 2, 3 or 4 processes */
        assert_int_equal(race(path, procs, BOOTSTRAP), 1);

        assert_icms_ok(icms_open(&db, &options));
        assert_int_equal(count_admins(db), 1);
        icms_request host = ICMS_REQUEST_INIT;
        host.actor_kind = ICMS_ACTOR_HOST;
        assert_icms(ICMS_EEXISTS,
                    icms_user_bootstrap_admin(
                        db, &host, "{\"name\":\"Late\",\"email\":\"late@example.com\"}", NULL));
        icms_close(db);
    }
}

/* A bootstrap racing hosts that create admins the ordinary way: never two "first" admins. */
static void test_bootstrap_against_ordinary_admin_creation(void **state)
{
    (void)state;
    char path[4200];
    snprintf(path, sizeof path, "%s/icms.db", icms_test_tmpdir("users_race_mixed"));
    icms_options options = ICMS_OPTIONS_INIT;
    options.path = path;
    icms_db *db = NULL;
    assert_icms_ok(icms_open(&db, &options));
    icms_close(db);
    /* Two creators first (both succeed: creating admins is allowed), then bootstraps lose. */
    assert_int_equal(race(path, 2, CREATE_ADMIN), 2);
    assert_int_equal(race(path, 3, BOOTSTRAP), 0);
    assert_icms_ok(icms_open(&db, &options));
    assert_int_equal(count_admins(db), 2);
    icms_close(db);
}

/* Processes creating users with one address in different cases: exactly one gets it. */
static void test_one_email_one_user_across_processes(void **state)
{
    (void)state;
    for (int round = 0; round < 8; round++) {
        char name[64];
        snprintf(name, sizeof name, "users_race_email_%d", round);
        char path[4200];
        snprintf(path, sizeof path, "%s/icms.db", icms_test_tmpdir(name));
        icms_options options = ICMS_OPTIONS_INIT;
        options.path = path;
        icms_db *db = NULL;
        assert_icms_ok(icms_open(&db, &options));
        icms_close(db);
        assert_int_equal(race(path, 2 + round % 3, SAME_EMAIL), 1);
        /* And the file agrees: one owner of the address, found in any case. */
        assert_icms_ok(icms_open(&db, &options));
        icms_request host = ICMS_REQUEST_INIT;
        host.actor_kind = ICMS_ACTOR_HOST;
        assert_icms(ICMS_EEXISTS,
                    icms_user_create(db, &host,
                                     "{\"name\":\"Late\",\"email\":\"sAmE@example.com\"}", NULL));
        icms_close(db);
    }
}

/*
 * Write skew: two administrators, each in their own process, take ADMIN
 * from the other at the same instant. Each alone is allowed (another admin
 * remains); both together would leave none. Exactly one may win.
 */
static void mutual_child(const char *path, int start_fd, const char *actor, const char *target,
                         int deactivate)
{
    char buf;
    if (read(start_fd, &buf, 1) < 0)
        _exit(90);
    icms_options options = ICMS_OPTIONS_INIT;
    options.path = path;
    icms_db *db = NULL;
    if (icms_open(&db, &options) != ICMS_OK)
        _exit(91);
    icms_request req = ICMS_REQUEST_INIT;
    req.actor_id = actor;
    int rc = deactivate ? icms_user_deactivate(db, &req, target, NULL)
                        : icms_user_revoke_role(db, &req, target, "ADMIN", NULL);
    icms_close(db);
    /* The loser is refused as the last admin, or (once deactivated / demoted) as no admin. */
    _exit(rc == ICMS_OK                    ? 0
          : rc == ICMS_EINVALID_TRANSITION ? 1
          : rc == ICMS_EFORBIDDEN          ? 2
          : rc == ICMS_EUNAUTHENTICATED    ? 3
                                           : 100 + (-rc % 100));
}

static void test_two_admins_cannot_remove_each_other(void **state)
{
    (void)state;
    for (int round = 0; round < 8; round++) {
        char name[64];
        snprintf(name, sizeof name, "users_race_mutual_%d", round);
        char path[4200];
        snprintf(path, sizeof path, "%s/icms.db", icms_test_tmpdir(name));
        icms_options options = ICMS_OPTIONS_INIT;
        options.path = path;
        icms_db *db = NULL;
        assert_icms_ok(icms_open(&db, &options));
        icms_request host = ICMS_REQUEST_INIT;
        host.actor_kind = ICMS_ACTOR_HOST;
        char ids[2][37];
        for (int i = 0; i < 2; i++) {
            char json[100], *out = NULL;
            snprintf(json, sizeof json, "{\"name\":\"A%d\",\"email\":\"a%d@example.com\"}", i, i);
            assert_icms_ok(i == 0 ? icms_user_bootstrap_admin(db, &host, json, &out)
                                  : icms_user_create(db, &host, json, &out));
            cJSON *doc = uf_json(out);
            snprintf(ids[i], sizeof ids[i], "%s", uf_str(doc, "id"));
            cJSON_Delete(doc);
        }
        assert_icms_ok(icms_user_grant_role(db, &host, ids[1], "ADMIN", NULL));
        icms_close(db);

        int deactivate = round % 2;
        int fds[2];
        assert_int_equal(pipe(fds), 0);
        pid_t pids[2];
        for (int i = 0; i < 2; i++) {
            pids[i] = fork();
            assert_true(pids[i] >= 0);
            if (pids[i] == 0) {
                close(fds[1]);
                mutual_child(path, fds[0], ids[i], ids[1 - i], deactivate);
            }
        }
        close(fds[0]);
        close(fds[1]);
        int wins = 0;
        for (int i = 0; i < 2; i++) {
            int status = 0;
            assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
            assert_true(WIFEXITED(status));
            int code = WEXITSTATUS(status);
            if (code == 0)
                wins++;
            else if (code > 3)
                fail_msg("a racer exited with %d", code);
        }
        assert_int_equal(wins, 1);
        assert_icms_ok(icms_open(&db, &options));
        assert_int_equal(count_admins(db), 1);
        icms_close(db);
    }
}

static int setup(void **state)
{
    (void)state;
    return icms_init() > 0 ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    return icms_shutdown() >= 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exactly_one_bootstrap_wins),
        cmocka_unit_test(test_bootstrap_against_ordinary_admin_creation),
        cmocka_unit_test(test_one_email_one_user_across_processes),
        cmocka_unit_test(test_two_admins_cannot_remove_each_other),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
