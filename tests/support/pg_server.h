/*
 * A throw-away PostgreSQL server for tests: initdb into a fresh directory
 * under /tmp, the postmaster on a unix socket in that directory (no TCP), as
 * the `postgres` system user when the test runs as root (PostgreSQL refuses
 * to run as root; the user is created with useradd if the machine lacks it). The postmaster is our child and gets SIGQUIT (immediate
 * shutdown) if the test process dies, so a crashed test leaves no server;
 * its folder is removed by the next start (the folder names its owner's pid).
 *
 * Binaries: $ICMS_PG_BINDIR, else the newest /usr/lib/postgresql/<N>/bin
 * (Debian's layout; PATH is not consulted). No cmocka here: callers decide
 * whether a missing server skips or fails.
 */
#ifndef ICMS_TESTS_PG_SERVER_H
#define ICMS_TESTS_PG_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

typedef struct pg_server {
    char bindir[512];
    char dir[256];      /* data in dir/data, the socket and logs in dir */
    char conninfo[512]; /* superuser "postgres", trust authentication */
    char error[1024];   /* why the last call failed */
    pid_t pid;          /* the postmaster, 0 when stopped */
    bool fsync;         /* false (default): -c fsync=off, for speed in tests */
} pg_server;

/* The binaries' folder; false with the reason in why when there is none. */
bool pg_server_find(char *bindir, size_t len, char *why, size_t why_len);

/*
 * initdb and start. The cluster has a role "icms_pw" with password
 * "pw-secret-for-tests" that must log in with SCRAM (for tests of password
 * handling); everyone else is trusted on the socket. 0, or -1 with s->error.
 */
int pg_server_start(pg_server *s);

/*
 * For a test's main: find the binaries and start s, to be destroyed at exit
 * (one server per process). 0 when it runs; else the exit code, with the
 * reason on stderr under `test_name`: 77 (skipped) when there are no
 * binaries, 1 (failed) when CI=true requires them or the server does not
 * start.
 */
int pg_server_start_for_test(pg_server *s, const char *test_name);

/* Start the postmaster again on the existing data (after stop or kill). */
int pg_server_restart(pg_server *s);

/* Fast shutdown (clients are disconnected) and wait. No-op when stopped. */
void pg_server_stop(pg_server *s);

/* Immediate shutdown (SIGQUIT: every backend dies at once, as in a crash) and wait. */
void pg_server_kill(pg_server *s);

/* Stop and remove the directory. */
void pg_server_destroy(pg_server *s);

/* Run SQL as the superuser through psql; 0 when it succeeded (output in s->error on failure). */
int pg_server_psql(pg_server *s, const char *sql);

#endif
