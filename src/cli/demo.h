/*
 * icms demo: shared state of the demo's steps (demo.c runs the story; the
 * payment chapter lives in demo_pay.c).
 */
#ifndef ICMS_CLI_DEMO_H
#define ICMS_CLI_DEMO_H

#include "cli.h"
#include "jbuf.h"
#include "jread.h"
#include "sim.h"

typedef struct demo_user {
    const char *label; /* "owner", "investor A", ... */
    char id[40];
    icms_request req;
} demo_user;

typedef struct demo {
    cli *c;
    bool json;
    icms_db *db;
    icms_clock *clock; /* the fake clock, owned by db */
    sim_chain *chain;
    unsigned confirmations;
    jbuf steps; /* --json: the steps array */
    int n;
    int unexpected;
    const char *show; /* the field the next step shows as its result, when not state/status */
    demo_user host, admin, owner, inv_a, inv_b;
    char project_id[40];
    char product_oil[40], product_olives[40];
    char part_a[40], part_b[40];
    int64_t commit_a, commit_b;
    char path[4200]; /* the database file */
    char *events;    /* --json: the event log, as the library answered it */
} demo;

/*
 * Record one step: who did what, the code the library answered and the one
 * expected. out (library JSON, may be NULL) is consumed; its parsed form is
 * returned when the call succeeded (free with jread_free), else NULL.
 * detail (may be NULL) is a short note for the line.
 */
jval *demo_step(demo *d, const demo_user *actor, const char *action, int expected, int rc,
                char *out, const char *detail);

/* Copy a string field of v into buf (empty when missing). */
void demo_copy(const jval *v, const char *field, char *buf, size_t size);

/* The payment chapter: run when payments are available; false if a step went wrong. */
void demo_payments(demo *d);

/* Format base units as GAP ("12.5" / "0.00000001"). */
void demo_gap(int64_t units, char *buf, size_t size);

#endif
