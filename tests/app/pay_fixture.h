/*
 * The world of the payment tests (test_payments.c, test_release.c): a
 * database with users, a fake gapcoind scenario, one small project of
 * TARGET base units whose owner gave a payout address, and the helpers
 * every scenario uses. Teardown runs icms_check and fails on a violation.
 */
#ifndef ICMS_TEST_PAY_FIXTURE_H
#define ICMS_TEST_PAY_FIXTURE_H

#include <stdbool.h>

#include <cjson/cJSON.h>

#include "chain_fixture.h"
#include "icms/sys/store.h"

#define TARGET 150000000LL /* 1 GAP of goods + 0.5 GAP freight */

typedef struct world {
    fx f;
    chain c;
    char project[37];
    char owner_address[64]; /* where the project's owner is paid, and its script (hex) */
    char owner_script[64];
    bool omit_payout_address;  /* publish_small_project leaves the owner's address out */
    icms_store *inner, *fault; /* when reopened with faults (borrowed: the handle owns them) */
} world;

/*
 * cmocka setup/teardown: a fresh world in the tmp folder prefix_<n> (each
 * suite its own prefix: suites run in parallel); icms_check clean at the end.
 */
int pay_setup_named(void **state, const char *prefix);
int pay_setup(void **state); /* prefix "payments" */
int pay_teardown(void **state);

/* Create (with the owner's payout address) and publish the project of TARGET. */
void publish_small_project(world *w);
/* An approved PROFIT participation of capital for user u; its id in id. */
void approved(world *w, fx_user *u, long long capital, char id[37]);
/* A payment initiated by u (amount 0: all that is outstanding), to the investors' address. */
cJSON *initiate(world *w, fx_user *u, const char *participation, const char *key, long long amount);
cJSON *verify(world *w, const char *payment);
const char *state_of(world *w, char buf[64]);
long long funded(world *w);
/* How many releases req lists with filter (NULL: none), or the error code. */
int releases_listed(world *w, const icms_request *req, const char *filter);

/*
 * Start the node with mempool (the chain's steps are the caller's), publish
 * the project, approve investor for all of TARGET and initiate a payment of
 * it with idempotency key `key`: the payment (cJSON_Delete;
 * "participation_id" names the participation).
 */
cJSON *one_initiated(world *w, const char *mempool, const char *test_name, const char *key);

/*
 * one_initiated with the investor's transaction "pay" of amount mined 6 deep
 * and submitted (key "k"); the node is at the step that confirms it, so
 * verify() confirms. The payment as initiated (cJSON_Delete).
 */
cJSON *one_submitted(world *w, const char *test_name, long long amount);

/*
 * Publish the project, approve investor (1 GAP) and investor2 (0.5 GAP) for
 * PROFIT, and initiate a payment of all each owes (keys "k-a", "k-b"): the
 * payments in *pa and *pb (cJSON_Delete; "participation_id" names each one's
 * participation). The chain is the caller's (chain_start, chain_attach first).
 */
void two_approved(world *w, cJSON **pa, cJSON **pb);

/*
 * two_approved, the payments submitted with transactions "a" and "b" paying
 * each in full, mined 6 deep but not yet verified: the node is at the step
 * that mines them. more_steps (may be NULL) adds the scenario's later steps
 * (chain_step_*) after that one.
 */
void paid_by_two(world *w, const char *test_name, void (*more_steps)(world *w), cJSON **pa,
                 cJSON **pb);

/* paid_by_two, both payments verified (confirmed): the project is PENDING_ADMIN_APPROVAL. */
void funded_by_two(world *w, const char *test_name, void (*more_steps)(world *w));
/* APPROVED -> IN_TRANSIT -> COMPLETED, as an admin. */
void ship_and_complete(world *w);

/* Reopen the same file through a fault-injecting store, still verifying against the node. */
void reopen_with_faults(world *w);

/*
 * The full treatment for a command, against the store reopen_with_faults made:
 *  1. every allocation it makes fails in turn, with its final commit refused
 *     so that a run that gets through the allocations changes nothing either
 *     (commits: the number of store commits the call makes, the last being
 *     its write);
 *  2. every store call (begin, get, put, del, scan, commit: counted together)
 *     fails in turn with each code a store gives;
 *  3. it runs unfaulted and succeeds.
 * After each failure the store must be byte-for-byte what it was.
 */
void fail_everywhere(world *w, int (*call)(world *, void *), void *arg, unsigned long commits);

#endif
