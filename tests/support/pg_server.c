/* A throw-away PostgreSQL server for tests (pg_server.h). */
#define _GNU_SOURCE
#include "pg_server.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define RUN_AS "postgres"
#define PW_ROLE "icms_pw"
#define PW_SECRET "pw-secret-for-tests"

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

bool pg_server_find(char *bindir, size_t len, char *why, size_t why_len)
{
    const char *env = getenv("ICMS_PG_BINDIR");
    char path[600];
    if (env && *env) {
        snprintf(path, sizeof path, "%s/postgres", env);
        if (access(path, X_OK) != 0) {
            snprintf(why, why_len, "ICMS_PG_BINDIR=%s has no executable postgres", env);
            return false;
        }
        snprintf(bindir, len, "%s", env);
        return true;
    }
    DIR *d = opendir("/usr/lib/postgresql");
    if (!d) {
        snprintf(why, why_len,
                 "no /usr/lib/postgresql (apt-get install postgresql, or set ICMS_PG_BINDIR)");
        return false;
    }
    long best = -1;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        char *end;
        long v = strtol(e->d_name, &end, 10);
        if (*end || end == e->d_name)
            continue;
        snprintf(path, sizeof path, "/usr/lib/postgresql/%s/bin/initdb", e->d_name);
        char postgres[600];
        snprintf(postgres, sizeof postgres, "/usr/lib/postgresql/%s/bin/postgres", e->d_name);
        if (v > best && access(path, X_OK) == 0 && access(postgres, X_OK) == 0)
            best = v;
    }
    closedir(d);
    if (best < 0) {
        snprintf(why, why_len,
                 "no /usr/lib/postgresql/<N>/bin with initdb and postgres (apt-get install "
                 "postgresql, or set ICMS_PG_BINDIR)");
        return false;
    }
    snprintf(bindir, len, "/usr/lib/postgresql/%ld/bin", best);
    return true;
}

/* The user the server runs as: `postgres` when we are root, else ourselves. */
static int server_user(pg_server *s, uid_t *uid, gid_t *gid)
{
    if (geteuid() != 0) {
        *uid = geteuid();
        *gid = getegid();
        return 0;
    }
    struct passwd *pw = getpwnam(RUN_AS);
    if (!pw) {
        /* Debian's postgresql package creates the user; a machine without it gets one. */
        fprintf(stderr, "pg_server: no '" RUN_AS "' user: creating it as a system user\n");
        pid_t pid = fork();
        if (pid == 0) {
            execl("/usr/sbin/useradd", "useradd", "--system", "--user-group", "--no-create-home",
                  "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin", RUN_AS,
                  (char *)NULL);
            _exit(127);
        }
        int status = -1;
        if (pid > 0)
            while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        pw = getpwnam(RUN_AS);
    }
    if (!pw) {
        snprintf(s->error, sizeof s->error,
                 "running as root and there is no '" RUN_AS "' user to run PostgreSQL as, nor "
                 "could useradd create it (Debian's postgresql package creates it)");
        return -1;
    }
    *uid = pw->pw_uid;
    *gid = pw->pw_gid;
    return 0;
}

/* In a forked child: become the server user, send output to log, optionally die with the parent. */
static void child_setup(uid_t uid, gid_t gid, const char *log, bool die_with_parent,
                        const char *cwd)
{
    int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd >= 0) {
        dup2(fd, 1);
        dup2(fd, 2);
    }
    int null = open("/dev/null", O_RDONLY);
    if (null >= 0)
        dup2(null, 0);
    if (geteuid() == 0) {
        if (setgroups(0, NULL) != 0 || setgid(gid) != 0 || setuid(uid) != 0)
            _exit(126);
    }
    /* After setuid: changing credentials clears the parent-death signal. */
    if (die_with_parent)
        prctl(PR_SET_PDEATHSIG, SIGQUIT);
    if (chdir(cwd) != 0)
        _exit(126);
}

/* The last lines of a log, into s->error after a prefix. */
static void log_tail(pg_server *s, const char *prefix, const char *log)
{
    char buf[700] = "";
    FILE *f = fopen(log, "r");
    if (f) {
        fseek(f, 0, SEEK_END);
        long size = ftell(f);
        fseek(f, size > 600 ? size - 600 : 0, SEEK_SET);
        size_t n = fread(buf, 1, sizeof buf - 1, f);
        buf[n] = '\0';
        fclose(f);
    }
    snprintf(s->error, sizeof s->error, "%s (log %s): %s", prefix, log, buf);
}

static int run_wait(pg_server *s, uid_t uid, gid_t gid, const char *log, char *const argv[])
{
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(s->error, sizeof s->error, "fork: %s", strerror(errno));
        return -1;
    }
    if (pid == 0) {
        child_setup(uid, gid, log, true, s->dir);
        execv(argv[0], argv);
        _exit(127);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        char what[128];
        snprintf(what, sizeof what, "%s failed (status %d)", argv[0], status);
        log_tail(s, what, log);
        return -1;
    }
    return 0;
}

static int write_file(pg_server *s, const char *path, const char *text, uid_t uid, gid_t gid)
{
    FILE *f = fopen(path, "w");
    if (!f || fputs(text, f) < 0 || fclose(f) != 0) {
        snprintf(s->error, sizeof s->error, "cannot write %s: %s", path, strerror(errno));
        return -1;
    }
    if (geteuid() == 0 && chown(path, uid, gid) != 0) {
        snprintf(s->error, sizeof s->error, "chown %s: %s", path, strerror(errno));
        return -1;
    }
    chmod(path, 0600);
    return 0;
}

int pg_server_restart(pg_server *s)
{
    uid_t uid;
    gid_t gid;
    if (server_user(s, &uid, &gid) != 0)
        return -1;
    char postgres[600], data[300], log[300];
    snprintf(postgres, sizeof postgres, "%s/postgres", s->bindir);
    snprintf(data, sizeof data, "%s/data", s->dir);
    snprintf(log, sizeof log, "%s/postgres.log", s->dir);
    char *argv[] = {postgres,
                    "-D",
                    data,
                    "-k",
                    s->dir,
                    "-c",
                    "listen_addresses=",
                    "-c",
                    s->fsync ? "fsync=on" : "fsync=off",
                    "-c",
                    "max_connections=60",
                    "-c",
                    "max_pred_locks_per_transaction=256",
                    NULL};
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(s->error, sizeof s->error, "fork: %s", strerror(errno));
        return -1;
    }
    if (pid == 0) {
        child_setup(uid, gid, log, true, s->dir);
        execv(argv[0], argv);
        _exit(127);
    }
    s->pid = pid;
    /* Ready when psql's trivial query answers; give up after 60 s or when the postmaster exits. */
    char isready[600];
    snprintf(isready, sizeof isready, "%s/pg_isready", s->bindir);
    for (int i = 0; i < 3000; i++) {
        int status;
        if (waitpid(pid, &status, WNOHANG) == pid) {
            s->pid = 0;
            log_tail(s, "postgres exited at start", log);
            return -1;
        }
        pid_t p = fork();
        if (p == 0) {
            int null = open("/dev/null", O_WRONLY);
            dup2(null, 1);
            dup2(null, 2);
            execl(isready, "pg_isready", "-q", "-h", s->dir, "-U", "postgres", (char *)NULL);
            _exit(127);
        }
        int st = -1;
        if (p > 0)
            while (waitpid(p, &st, 0) < 0 && errno == EINTR)
                ;
        if (p > 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0)
            return 0;
        sleep_ms(20);
    }
    log_tail(s, "postgres did not become ready in 60 s", log);
    pg_server_kill(s);
    return -1;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw);

/*
 * Remove the folders of servers whose test process died without cleaning up
 * (a crash: the postmaster got SIGQUIT then, but the folder stayed). Each
 * folder names its owner in the file "owner"; a live owner's is left alone.
 */
static void remove_orphans(void)
{
    DIR *d = opendir("/tmp");
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, "icms-pg-", 8) != 0)
            continue;
        char path[300], owner[320];
        snprintf(path, sizeof path, "/tmp/%s", e->d_name);
        snprintf(owner, sizeof owner, "%s/owner", path);
        FILE *f = fopen(owner, "r");
        long pid = 0;
        if (f) {
            if (fscanf(f, "%ld", &pid) != 1)
                pid = 0;
            fclose(f);
        }
        if (pid > 0 && kill((pid_t)pid, 0) != 0 && errno == ESRCH)
            nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    }
    closedir(d);
}

int pg_server_start(pg_server *s)
{
    s->error[0] = '\0';
    s->pid = 0;
    char why[256];
    if (!pg_server_find(s->bindir, sizeof s->bindir, why, sizeof why)) {
        snprintf(s->error, sizeof s->error, "%s", why);
        return -1;
    }
    uid_t uid;
    gid_t gid;
    if (server_user(s, &uid, &gid) != 0)
        return -1;
    remove_orphans();
    snprintf(s->dir, sizeof s->dir, "/tmp/icms-pg-XXXXXX");
    if (!mkdtemp(s->dir)) {
        snprintf(s->error, sizeof s->error, "mkdtemp: %s", strerror(errno));
        s->dir[0] = '\0';
        return -1;
    }
    char owner[320], pid[32];
    snprintf(owner, sizeof owner, "%s/owner", s->dir);
    snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (write_file(s, owner, pid, uid, gid) != 0)
        return -1;
    if (geteuid() == 0 && chown(s->dir, uid, gid) != 0) {
        snprintf(s->error, sizeof s->error, "chown %s: %s", s->dir, strerror(errno));
        return -1;
    }
    char initdb[600], data[300], log[300];
    snprintf(initdb, sizeof initdb, "%s/initdb", s->bindir);
    snprintf(data, sizeof data, "%s/data", s->dir);
    snprintf(log, sizeof log, "%s/initdb.log", s->dir);
    char *argv[] = {initdb, "-D",   data,          "-U",        "postgres", "--auth=trust",
                    "-E",   "UTF8", "--no-locale", "--no-sync", NULL};
    if (run_wait(s, uid, gid, log, argv) != 0)
        return -1;
    char hba[320];
    snprintf(hba, sizeof hba, "%s/pg_hba.conf", data);
    if (write_file(s, hba, "local all " PW_ROLE " scram-sha-256\nlocal all all trust\n", uid, gid))
        return -1;
    if (pg_server_restart(s) != 0)
        return -1;
    snprintf(s->conninfo, sizeof s->conninfo, "host=%s user=postgres dbname=postgres", s->dir);
    if (pg_server_psql(s, "CREATE ROLE " PW_ROLE " LOGIN PASSWORD '" PW_SECRET "'") != 0) {
        pg_server_stop(s);
        return -1;
    }
    return 0;
}

static void stop_with(pg_server *s, int sig)
{
    if (s->pid <= 0)
        return;
    kill(s->pid, sig);
    int status;
    for (int i = 0; i < 3000; i++) {
        pid_t r = waitpid(s->pid, &status, WNOHANG);
        if (r == s->pid || (r < 0 && errno == ECHILD)) {
            s->pid = 0;
            return;
        }
        sleep_ms(10);
    }
    /* Did not stop in 30 s: kill it (its children notice the postmaster's death and exit). */
    kill(s->pid, SIGKILL);
    waitpid(s->pid, &status, 0);
    s->pid = 0;
}

void pg_server_stop(pg_server *s)
{
    stop_with(s, SIGINT); /* PostgreSQL's "fast" shutdown */
}

void pg_server_kill(pg_server *s)
{
    stop_with(s, SIGQUIT); /* "immediate": backends die without cleanup, recovery at restart */
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    remove(path);
    return 0;
}

static pg_server *started_for_test; /* destroyed at exit, however the test ends */

static void destroy_at_exit(void)
{
    if (started_for_test)
        pg_server_destroy(started_for_test);
}

int pg_server_start_for_test(pg_server *s, const char *test_name)
{
    char why[256];
    if (!pg_server_find(s->bindir, sizeof s->bindir, why, sizeof why)) {
        const char *ci = getenv("CI");
        if (ci && strcmp(ci, "true") == 0) {
            fprintf(stderr,
                    "FAIL %s: no PostgreSQL server binaries: %s "
                    "(CI=true requires them: scripts/install-deps.sh)\n",
                    test_name, why);
            return 1;
        }
        fprintf(stderr, "SKIP %s: no PostgreSQL server binaries: %s\n", test_name, why);
        return 77;
    }
    if (pg_server_start(s) != 0) {
        fprintf(stderr, "FAIL %s: cannot start PostgreSQL: %s\n", test_name, s->error);
        pg_server_destroy(s);
        return 1;
    }
    started_for_test = s;
    atexit(destroy_at_exit);
    return 0;
}

void pg_server_destroy(pg_server *s)
{
    pg_server_stop(s);
    if (s->dir[0] && strncmp(s->dir, "/tmp/icms-pg-", 13) == 0)
        nftw(s->dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    s->dir[0] = '\0';
}

int pg_server_psql(pg_server *s, const char *sql)
{
    char psql[600], log[300];
    snprintf(psql, sizeof psql, "%s/psql", s->bindir);
    snprintf(log, sizeof log, "%s/psql.log", s->dir);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        execl(psql, "psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", s->dir, "-U", "postgres",
              "-d", "postgres", "-c", sql, (char *)NULL);
        _exit(127);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return 0;
    log_tail(s, "psql failed", log);
    return -1;
}
