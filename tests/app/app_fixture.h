/*
 * A database with users in it, for the application tests. Users are written
 * straight into the store so that these tests do not depend on the users
 * commands they are not about.
 */
#ifndef ICMS_TEST_APP_FIXTURE_H
#define ICMS_TEST_APP_FIXTURE_H

#include <cjson/cJSON.h>

#include "icms/db.h"
#include "icms/request.h"
#include "icms/sys/clock.h"

#define FX_NOW 1767225600000LL /* 2026-01-01T00:00:00Z */
#define FX_DAY (24LL * 60 * 60 * 1000)

typedef struct fx_user {
    char id[37];
    icms_request req; /* acting as this user */
} fx_user;

typedef struct fx {
    icms_db *db;
    icms_clock *clock; /* borrowed: the db owns it */
    char path[4096];
    fx_user admin, owner, investor, investor2, stranger;
    icms_request host, anonymous;
} fx;

/* A fresh SQLite database in the test's tmp folder, with the users above. */
void fx_open(fx *f, const char *name);
void fx_close(fx *f);

/*
 * cmocka setup and teardown around fx_open/fx_close: a fresh fx in the tmp
 * folder prefix_<n> (each suite its own prefix: suites run in parallel).
 */
int fx_setup_named(void **state, const char *prefix);
int fx_teardown(void **state);

/*
 * Reopen the database with more options (a Gapcoin node, say); the clock
 * keeps its time. Ownership of what options hold passes as for icms_open.
 */
void fx_reopen(fx *f, icms_options *options);

/* Write a user with role bits and a KYC status name into the store. */
void fx_add_user(fx *f, fx_user *u, unsigned roles, const char *kyc);

/* A digest of the whole store behind f->db (support/fault_store.h), to show a call changed nothing. */
uint64_t fx_digest(fx *f);

/* The ledger's cached balance of account kind:id (id NULL: the account is kind alone). */
long long fx_balance(fx *f, const char *kind, const char *id);

/* Parse JSON output, failing the test when it is not JSON; caller frees with cJSON_Delete. */
cJSON *fx_json(char *text_to_free);
const char *fx_str(const cJSON *doc, const char *field);
long long fx_int(const cJSON *doc, const char *field);

/* A project JSON with two products and shipping costs, due in `days` days. */
const char *fx_project_json(int days);

/* Create and publish that project as f->owner; returns its id in id_out (37 bytes). */
void fx_published_project(fx *f, char *id_out);

/* u's PROFIT participation request of capital in project; its id in id (37 bytes). */
void fx_request_profit(fx *f, fx_user *u, const char *project, long long capital, char id[37]);

/* The same request, approved by f->owner. */
void fx_approved_profit(fx *f, fx_user *u, const char *project, long long capital, char id[37]);

#endif
