/*
 * Shared by the users suites: a database on a real SQLite file with a fake
 * clock, request contexts for each kind of actor, and short ways to run the
 * users commands and read their JSON answers.
 */
#ifndef ICMS_TEST_USERS_FIXTURE_H
#define ICMS_TEST_USERS_FIXTURE_H

#include <stdbool.h>

#include <cjson/cJSON.h>

#include "icms/db.h"
#include "icms/request.h"
#include "icms/sys/clock.h"
#include "icms/sys/store.h"
#include "icms/users.h"

#define UF_NOW 1767225600000LL /* 2026-01-01T00:00:00Z */

typedef struct uf_user {
    char id[37];
    char email[64];
    icms_request req; /* acting as this user */
} uf_user;

typedef struct uf {
    icms_db *db;
    icms_clock *clock; /* borrowed: the db owns it */
    char path[4200];
    icms_request host, anonymous, system;
    uf_user admin; /* bootstrapped */
} uf;

/* A fresh database file in the test's tmp folder, with a bootstrapped admin. */
void uf_open(uf *f, const char *name);
/* The same over a store of the caller's (the handle owns it); no admin is bootstrapped. */
void uf_open_store(uf *f, icms_store *store, unsigned retry_attempts);
void uf_close(uf *f);

/* The store under the handle (borrowed). */
icms_store *uf_store(const uf *f);

/* Create a user as the host with roles (a JSON array text, or NULL for the default). */
void uf_create(uf *f, uf_user *u, const char *name, const char *email, const char *roles);

/* Parse JSON output (freeing the text); caller frees with cJSON_Delete. */
cJSON *uf_json(char *text_to_free);
const char *uf_str(const cJSON *doc, const char *field);
bool uf_has(const cJSON *doc, const char *field);

/* icms_user_get as req: the answer as a tree, or NULL with *rc set. */
cJSON *uf_get(uf *f, const icms_request *req, const char *id, int *rc);

/* True when needle occurs anywhere in the len bytes at hay. */
bool uf_contains(const uint8_t *hay, size_t len, const char *needle);

/*
 * The last outbox event of type (NULL: of any type) as a tree, or NULL when
 * there is none; *count (may be NULL) gets how many events of that type exist.
 */
cJSON *uf_last_event(uf *f, const char *type, int *count);
/* The last audit entry as a tree; *count (may be NULL) gets the number of entries. */
cJSON *uf_last_audit(uf *f, int *count);
#endif
