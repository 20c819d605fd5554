/* Renders the read and lateness rules by asking the domain for every cell (read_tables.h). */
#include "read_tables.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "domain/domain.h"

struct out {
    char *buf;
    size_t len, used;
    int failed;
};

static void put(struct out *o, const char *fmt, ...)
{
    if (o->failed)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(o->buf + o->used, o->len - o->used, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= o->len - o->used)
        o->failed = 1;
    else
        o->used += (size_t)n;
}

static int finish(const struct out *o)
{
    return o->failed ? -1 : 0;
}

static const struct persona {
    const char *who;
    icms__viewer viewer;
} personas[] = {
    {"not signed in", {ICMS_ACTOR_USER, true, 0, false}},
    {"a user (an investor, another project's owner)",
     {ICMS_ACTOR_USER, false, ICMS_ROLE_OWNER | ICMS_ROLE_INVESTOR, false}},
    {"the project's owner", {ICMS_ACTOR_USER, false, ICMS_ROLE_OWNER, true}},
    {"the project's owner, OWNER role since removed", {ICMS_ACTOR_USER, false, 0, true}},
    {"a user with the ADMIN role", {ICMS_ACTOR_USER, false, ICMS_ROLE_ADMIN, false}},
    {"the host", {ICMS_ACTOR_HOST, false, ICMS_ROLE_ALL, false}},
    {"the library (system)", {ICMS_ACTOR_SYSTEM, false, 0, false}},
};

int icms_test_visibility_table(char *buf, size_t len)
{
    struct out o = {buf, len, 0, 0};
    put(&o, "| viewer | DRAFT | every other state |\n|---|---|---|\n");
    for (size_t p = 0; p < sizeof personas / sizeof personas[0]; p++) {
        const icms__viewer *v = &personas[p].viewer;
        size_t seen = 0, others = 0;
        for (int s = 0; s < ICMS_PROJECT_STATE_COUNT; s++) {
            if (s == ICMS_PROJECT_DRAFT)
                continue;
            others++;
            seen += icms__project_visible_to((icms_project_state_t)s, v);
        }
        put(&o, "| %s | %s | %s |\n", personas[p].who,
            icms__project_visible_to(ICMS_PROJECT_DRAFT, v) ? "yes" : "no",
            seen == others ? "yes" : seen == 0 ? "no" : "some");
    }
    return finish(&o);
}

/* A cell: what the viewer gets; `name_what` says what an admin must name. */
static const char *scope_words(int rc, icms__list_scope_t scope, const char *name_what)
{
    static char invalid[96];
    if (rc == ICMS_EFORBIDDEN)
        return "refused (`ICMS_EFORBIDDEN`)";
    if (rc == ICMS_EINVALID) {
        snprintf(invalid, sizeof invalid, "refused (`ICMS_EINVALID`: name %s)", name_what);
        return invalid;
    }
    if (rc != ICMS_OK)
        return "error";
    switch (scope) {
    case ICMS__LIST_PROJECT:
        return "the project's";
    case ICMS__LIST_INVESTOR:
        return "that investor's";
    case ICMS__LIST_OWN:
        return "their own";
    case ICMS__LIST_OWNER:
        return "that owner's";
    case ICMS__LIST_STATUS:
        return "all in that status";
    }
    return "?";
}

/* One column per kind of viewer (the owner-without-role column would repeat the owner's). */
static const size_t columns[] = {0, 1, 2, 4, 5, 6};

static void put_header(struct out *o)
{
    put(o, "| filter |");
    for (size_t c = 0; c < sizeof columns / sizeof columns[0]; c++)
        put(o, " %s |", personas[columns[c]].who);
    put(o, "\n|---|");
    for (size_t c = 0; c < sizeof columns / sizeof columns[0]; c++)
        put(o, "---|");
    put(o, "\n");
}

/* A row of a listing table: what the filter names. */
struct filter_row {
    const char *filter;
    bool project, party, self, status; /* party: investor_id or owner_id; self: it is the viewer */
};

/* The rule a listing table renders, for one viewer and row. */
typedef int (*scope_fn)(const icms__viewer *viewer, const struct filter_row *row,
                        icms__list_scope_t *scope);

static int records_scope(const icms__viewer *viewer, const struct filter_row *row,
                         icms__list_scope_t *scope)
{
    icms__list_facts facts = {*viewer, row->project, row->party, row->self};
    return icms__list_scope("payment", &facts, scope);
}

static int releases_scope(const icms__viewer *viewer, const struct filter_row *row,
                          icms__list_scope_t *scope)
{
    icms__release_list_facts facts = {*viewer, row->project, row->party, row->self, row->status};
    return icms__release_list_scope(&facts, scope);
}

static int listing_table(char *buf, size_t len, const struct filter_row *rows, size_t count,
                         scope_fn rule, const char *name_what)
{
    struct out o = {buf, len, 0, 0};
    put_header(&o);
    for (size_t f = 0; f < count; f++) {
        put(&o, "| %s |", rows[f].filter);
        for (size_t c = 0; c < sizeof columns / sizeof columns[0]; c++) {
            icms__list_scope_t scope = ICMS__LIST_OWN;
            int rc = rule(&personas[columns[c]].viewer, &rows[f], &scope);
            put(&o, " %s |", scope_words(rc, scope, name_what));
        }
        put(&o, "\n");
    }
    return finish(&o);
}

int icms_test_listing_table(char *buf, size_t len)
{
    static const struct filter_row rows[] = {
        {"`project_id`", true, false, false, false},
        {"`investor_id`: the viewer's own", false, true, true, false},
        {"`investor_id`: someone else's", false, true, false, false},
        {"neither", false, false, false, false},
    };
    return listing_table(buf, len, rows, sizeof rows / sizeof rows[0], records_scope,
                         "a project or investor");
}

int icms_test_release_listing_table(char *buf, size_t len)
{
    static const struct filter_row rows[] = {
        {"`project_id`", true, false, false, false},
        {"`owner_id`: the viewer's own", false, true, true, false},
        {"`owner_id`: someone else's", false, true, false, false},
        {"`status` alone", false, false, false, true},
        {"none", false, false, false, false},
    };
    return listing_table(buf, len, rows, sizeof rows / sizeof rows[0], releases_scope,
                         "a project, owner or status");
}

/* Instants relative to the payment's expires_at: before (-1 ms), at (0), after (+1 ms). */
typedef struct instants {
    int64_t offset[3];
    size_t count;
} instants;

#define LATE_EXPIRES_AT 1767225600000LL

/*
 * "late", "on time" or "some late": is_late over every pair of (attached,
 * now) instants; attached NULL: the transaction is being attached now.
 */
static const char *late_words(icms_payment_status_t status, bool marked,
                              icms_project_state_t project, const instants *attached,
                              const instants *now)
{
    size_t late = 0, asked = 0;
    for (size_t i = 0; i < (attached ? attached->count : 1); i++)
        for (size_t j = 0; j < now->count; j++) {
            icms__payment_late_facts f = {
                status, marked, project, LATE_EXPIRES_AT + now->offset[j], LATE_EXPIRES_AT,
                attached ? LATE_EXPIRES_AT + attached->offset[i] : 0};
            late += icms__payment_is_late(&f);
            asked++;
        }
    return late == asked ? "late" : late == 0 ? "on time" : "some late";
}

int icms_test_lateness_table(char *buf, size_t len)
{
    static const instants before = {{-1}, 1}, at_or_after = {{0, 1}, 2}, any = {{-1, 0, 1}, 3};
    static const struct {
        const char *when;
        icms_payment_status_t status;
        bool marked;
        const instants *attached, *now; /* attached NULL: attached now */
    } rows[] = {
        {"transaction attached to a PENDING payment before its `expires_at`",
         ICMS_PAYMENT_PENDING, false, NULL, &before},
        {"transaction attached to a PENDING payment at or after its `expires_at` (not yet swept)",
         ICMS_PAYMENT_PENDING, false, NULL, &at_or_after},
        {"transaction attached to an EXPIRED payment", ICMS_PAYMENT_EXPIRED, false, NULL, &any},
        {"confirmed before or after `expires_at`, attached before it, not marked late",
         ICMS_PAYMENT_SUBMITTED, false, &before, &any},
        {"confirmed, attached at or after `expires_at`", ICMS_PAYMENT_SUBMITTED, false,
         &at_or_after, &at_or_after},
        {"confirmed, marked late", ICMS_PAYMENT_SUBMITTED, true, &any, &any},
    };
    struct out o = {buf, len, 0, 0};
    put(&o, "| moment | project in any other state | project CANCELLED | project EXPIRED |\n"
            "|---|---|---|---|\n");
    for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
        size_t late = 0, on_time = 0;
        for (int s = 0; s < ICMS_PROJECT_STATE_COUNT; s++) {
            if (s == ICMS_PROJECT_CANCELLED || s == ICMS_PROJECT_EXPIRED)
                continue;
            const char *w = late_words(rows[r].status, rows[r].marked, (icms_project_state_t)s,
                                       rows[r].attached, rows[r].now);
            late += strcmp(w, "late") == 0;
            on_time += strcmp(w, "on time") == 0;
        }
        size_t others = ICMS_PROJECT_STATE_COUNT - 2;
        put(&o, "| %s | %s | %s | %s |\n", rows[r].when,
            late == others ? "late" : on_time == others ? "on time" : "some late",
            late_words(rows[r].status, rows[r].marked, ICMS_PROJECT_CANCELLED, rows[r].attached,
                       rows[r].now),
            late_words(rows[r].status, rows[r].marked, ICMS_PROJECT_EXPIRED, rows[r].attached,
                       rows[r].now));
    }
    return finish(&o);
}
