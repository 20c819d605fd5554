/*
 * icms demo: the seed's story on a fresh SQLite database, against a
 * simulated Gapcoin node, with the library deciding every step. Each step
 * states the outcome it expects (success, or the refusal the rules demand);
 * the demo exits 1 when any outcome differs, so a test can run it.
 */
#include "demo.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "icms/audit.h"
#include "icms/events.h"
#include "icms/participations.h"
#include "icms/projects.h"
#include "icms/rpc.h"
#include "icms/sys/store.h"
#include "icms/users.h"
#include "icms/util.h"

#define DAY_MS (24LL * 60 * 60 * 1000)
#define BAR 20

void demo_gap(int64_t units, char *buf, size_t size)
{
    const char *sign = units < 0 ? "-" : "";
    uint64_t u = units < 0 ? (uint64_t)0 - (uint64_t)units : (uint64_t)units;
    char frac[16];
    snprintf(frac, sizeof frac, "%08" PRIu64, u % (uint64_t)ICMS_BASE_UNITS_PER_GAP);
    size_t n = strlen(frac);
    while (n > 0 && frac[n - 1] == '0')
        frac[--n] = '\0';
    snprintf(buf, size, "%s%" PRIu64 "%s%s", sign, u / (uint64_t)ICMS_BASE_UNITS_PER_GAP,
             n ? "." : "", frac);
}

void demo_copy(const jval *v, const char *field, char *buf, size_t size)
{
    const char *s = jstr(v, field);
    snprintf(buf, size, "%s", s ? s : "");
}

/* The project as the admin sees it now: state, funded and target; false before it exists. */
static bool project_figures(demo *d, char *state, size_t size, int64_t *funded, int64_t *target)
{
    if (!d->project_id[0])
        return false;
    char *out = NULL;
    if (icms_project_get(d->db, &d->admin.req, d->project_id, &out) != ICMS_OK)
        return false;
    jval *p = jread_parse(out, strlen(out));
    icms_free(out);
    bool ok = p && ji64(p, "funded", funded) && ji64(p, "total_cost", target);
    demo_copy(p, "state", state, size);
    jread_free(p);
    return ok;
}

static void bar(int64_t funded, int64_t target, char *buf, size_t size)
{
    /* integer arithmetic on the amounts: a fraction of the target per cell */
    int64_t cell = target / BAR, pct_unit = target / 100;
    int64_t cells = cell > 0 ? funded / cell : (funded > 0 ? BAR : 0);
    int64_t pct = pct_unit > 0 ? funded / pct_unit : 0;
    if (cells > BAR)
        cells = BAR;
    char fill[BAR + 1];
    for (int i = 0; i < BAR; i++)
        fill[i] = i < cells ? '#' : '.';
    fill[BAR] = '\0';
    char f[32], t[32];
    demo_gap(funded, f, sizeof f);
    demo_gap(target, t, sizeof t);
    snprintf(buf, size, "[%s] %3" PRId64 "%% %s/%s GAP", fill, pct, f, t);
}

jval *demo_step(demo *d, const demo_user *actor, const char *action, int expected, int rc,
                char *out, const char *detail)
{
    const icms_error *e = icms_error_last();
    char message[512];
    snprintf(message, sizeof message, "%s", rc && e->code == rc ? e->message : "");
    jval *v = NULL;
    if (rc == ICMS_OK && out)
        v = jread_parse(out, strlen(out));
    icms_free(out);
    d->n++;
    bool ok = rc == expected;
    if (!ok)
        d->unexpected++;
    char state[40] = "";
    if (rc == ICMS_OK) {
        const char *s = d->show ? jstr(v, d->show) : NULL;
        if (!s)
            s = jstr(v, "state");
        if (!s)
            s = jstr(v, "status");
        if (!s)
            s = "ok";
        snprintf(state, sizeof state, "%s", s);
    } else {
        snprintf(state, sizeof state, "refused");
    }
    d->show = NULL;
    /* the story takes its time: half a minute a step on the fake clock */
    icms_clock_fake_advance(d->clock, 30 * 1000);
    char pstate[40] = "";
    int64_t funded = 0, target = 0;
    bool have_project = project_figures(d, pstate, sizeof pstate, &funded, &target);

    if (d->json) {
        jbuf *b = &d->steps;
        jbuf_obj_open(b);
        jbuf_ki64(b, "n", d->n);
        jbuf_kstr(b, "actor", actor->label);
        jbuf_kstr(b, "action", action);
        jbuf_kstr(b, "expected", icms_error_name(expected));
        jbuf_kstr(b, "outcome", icms_error_name(rc));
        jbuf_kstr(b, "state", state);
        if (rc)
            jbuf_kstr(b, "message", message);
        if (detail)
            jbuf_kstr(b, "detail", detail);
        if (have_project) {
            jbuf_kstr(b, "project_state", pstate);
            jbuf_ki64(b, "funded", funded);
            jbuf_ki64(b, "target", target);
        }
        jbuf_kbool(b, "ok", ok);
        jbuf_obj_close(b);
    } else {
        char progress[256] = ""; /* a state name, a space and the bar */
        if (have_project) {
            char cells[96];
            bar(funded, target, cells, sizeof cells);
            snprintf(progress, sizeof progress, "%-22s %s", pstate, cells);
        }
        printf("%3d  %-10s %-44s %-24s %s\n", d->n, actor->label, action,
               rc ? icms_error_name(rc) : state, progress);
        if (detail)
            printf("     %-10s %s\n", "", detail);
        if (rc && ok)
            printf("     %-10s refused as expected: %s\n", "", message);
        if (!ok)
            printf("     %-10s UNEXPECTED: expected %s, got %s %s\n", "", icms_error_name(expected),
                   icms_error_name(rc), message);
    }
    return v;
}

/* A folder for the database: --dir (created if absent, must be empty) or a fresh temporary one. */
static int make_dir(demo *d, char *path, size_t size)
{
    if (d->c->dir) {
        snprintf(path, size, "%s", d->c->dir);
        if (mkdir(path, 0700) != 0 && errno != EEXIST)
            return cli_usage(d->c, "cannot create %s: %s", path, strerror(errno));
        char db[4200];
        snprintf(db, sizeof db, "%s/demo.db", path);
        if (access(db, F_OK) == 0)
            return cli_usage(d->c, "%s already holds a demo database; give an empty folder", path);
        return CLI_EXIT_OK;
    }
    const char *tmp = getenv("TMPDIR");
    snprintf(path, size, "%s/icms-demo-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(path))
        return cli_fail(ICMS_ESTORAGE, "cannot create a temporary folder");
    return CLI_EXIT_OK;
}

static void user_init(demo_user *u, const char *label)
{
    u->label = label;
    u->req = (icms_request)ICMS_REQUEST_INIT;
    u->req.source = "icms-demo";
}

/* Create a user as the admin and keep the id. */
static void create_user(demo *d, demo_user *u, const char *name, const char *email,
                        const char *role)
{
    char doc[256], action[96];
    snprintf(doc, sizeof doc, "{\"name\":\"%s\",\"email\":\"%s\",\"roles\":[\"%s\"]}", name, email,
             role);
    snprintf(action, sizeof action, "create %s %s", role, name);
    char *out = NULL;
    int rc = icms_user_create(d->db, &d->admin.req, doc, &out);
    jval *v = demo_step(d, &d->admin, action, ICMS_OK, rc, out, NULL);
    demo_copy(v, "id", u->id, sizeof u->id);
    u->req.actor_id = u->id;
    jread_free(v);
}

static void kyc(demo *d, demo_user *u)
{
    char action[96], *out = NULL;
    snprintf(action, sizeof action, "submit KYC documents");
    d->show = "kyc_status";
    int rc = icms_user_set_kyc(d->db, &u->req, u->id, "PENDING",
                               "{\"document\":\"passport\",\"country\":\"DE\"}", &out);
    jread_free(demo_step(d, u, action, ICMS_OK, rc, out, NULL));
    snprintf(action, sizeof action, "verify KYC of %s", u->label);
    d->show = "kyc_status";
    rc = icms_user_set_kyc(d->db, &d->admin.req, u->id, "VERIFIED", "{\"note\":\"checked\"}", &out);
    jval *v = demo_step(d, &d->admin, action, ICMS_OK, rc, out, NULL);
    jread_free(v);
}

static void create_project(demo *d)
{
    char expiry[ICMS_TIME_STRING_SIZE];
    icms_time_format(icms_clock_now(d->clock) + 30 * DAY_MS, expiry, sizeof expiry);
    char doc[2048];
    snprintf(doc, sizeof doc,
             "{\"title\":\"Olive oil from Crete\",\"description\":\"One 20ft container\","
             "\"expiry_date\":\"%s\",\"confirmations\":%u,"
             "\"exporter\":{\"name\":\"Kritsa Oils\",\"country\":\"GR\"},"
             "\"shipping_costs\":{\"freight\":30000000000,\"transport\":5000000000,"
             "\"international_fees\":2500000000},"
             "\"products\":[{\"name\":\"Olive oil 5l\",\"unit\":\"can\",\"quantity\":100,"
             "\"unit_price\":2500000000},"
             "{\"name\":\"Olives 1kg\",\"unit\":\"jar\",\"quantity\":300,"
             "\"unit_price\":700000000}]}",
             expiry, d->confirmations);
    char *out = NULL;
    int rc = icms_project_create(d->db, &d->owner.req, doc, &out);
    jval *v = demo_step(d, &d->owner, "create project (2 products, shipping costs)", ICMS_OK, rc,
                        out, NULL);
    demo_copy(v, "id", d->project_id, sizeof d->project_id);
    demo_copy(jat(jget(v, "products"), 0), "id", d->product_oil, sizeof d->product_oil);
    demo_copy(jat(jget(v, "products"), 1), "id", d->product_olives, sizeof d->product_olives);
    jread_free(v);
}

static void participations(demo *d)
{
    char doc[512], detail[128], *out = NULL;
    snprintf(doc, sizeof doc,
             "{\"type\":\"PRODUCTS\",\"items\":[{\"product_id\":\"%s\",\"units\":40},"
             "{\"product_id\":\"%s\",\"units\":100}]}",
             d->product_oil, d->product_olives);
    int rc = icms_participation_request(d->db, &d->inv_a.req, d->project_id, doc, &out);
    jval *v =
        demo_step(d, &d->inv_a, "request PRODUCTS: 40 cans, 100 jars", ICMS_OK, rc, out, NULL);
    demo_copy(v, "id", d->part_a, sizeof d->part_a);
    ji64(v, "commitment", &d->commit_a);
    jread_free(v);

    /* B takes the rest of the target as capital, so the two fund it exactly. */
    char pstate[40];
    int64_t funded = 0, target = 0;
    project_figures(d, pstate, sizeof pstate, &funded, &target);
    d->commit_b = target - d->commit_a;
    char gap[32];
    demo_gap(d->commit_b, gap, sizeof gap);
    snprintf(doc, sizeof doc, "{\"type\":\"PROFIT\",\"capital\":%" PRId64 "}", d->commit_b);
    snprintf(detail, sizeof detail, "capital %s GAP for a share of the profit", gap);
    rc = icms_participation_request(d->db, &d->inv_b.req, d->project_id, doc, &out);
    v = demo_step(d, &d->inv_b, "request PROFIT", ICMS_OK, rc, out, detail);
    demo_copy(v, "id", d->part_b, sizeof d->part_b);
    jread_free(v);

    rc = icms_participation_approve(d->db, &d->inv_b.req, d->part_b, &out);
    jread_free(demo_step(d, &d->inv_b, "approve own request (owner's act)", ICMS_EFORBIDDEN, rc,
                         out, NULL));

    demo_gap(d->commit_a, gap, sizeof gap);
    snprintf(detail, sizeof detail, "commitment fixed: %s GAP at landed cost", gap);
    rc = icms_participation_approve(d->db, &d->owner.req, d->part_a, &out);
    jread_free(demo_step(d, &d->owner, "approve investor A", ICMS_OK, rc, out, detail));
    rc = icms_participation_approve(d->db, &d->owner.req, d->part_b, &out);
    jread_free(demo_step(d, &d->owner, "approve investor B", ICMS_OK, rc, out, NULL));
}

/* The audit chain, checked against a checkpoint signed with a fresh key. */
static void audit(demo *d)
{
    uint8_t pk[ICMS_AUDIT_PUBLIC_KEY_BYTES], sk[ICMS_AUDIT_SECRET_KEY_BYTES];
    char *checkpoint = NULL, *report = NULL;
    int rc = icms_audit_keypair(pk, sizeof pk, sk, sizeof sk);
    if (rc == ICMS_OK)
        rc = icms_audit_checkpoint(d->db, sk, sizeof sk, &checkpoint);
    memset(sk, 0, sizeof sk);
    jread_free(demo_step(d, &d->admin, "sign an audit checkpoint (key kept outside)", ICMS_OK, rc,
                         NULL, NULL));
    rc = icms_audit_verify(d->db, checkpoint, pk, sizeof pk, &report);
    icms_free(checkpoint);
    char detail[256] = "";
    jval *r = report ? jread_parse(report, strlen(report)) : NULL;
    int64_t entries = 0;
    ji64(r, "entries", &entries);
    snprintf(detail, sizeof detail, "%" PRId64 " entries, hash chain intact up to the checkpoint",
             entries);
    jread_free(r);
    jread_free(demo_step(d, &d->admin, "audit verify", ICMS_OK, rc, report, detail));
}

/* The outbox as a durable consumer reads it: every event the story wrote, in commit order. */
static void event_log(demo *d)
{
    char *out = NULL;
    int rc = icms_events_read(d->db, &d->host.req, "icms-demo", 0, ICMS_EVENTS_READ_MAX, &out);
    jval *v = rc == ICMS_OK && out ? jread_parse(out, strlen(out)) : NULL;
    const jval *events = jget(v, "events");
    char detail[96];
    snprintf(detail, sizeof detail, "%zu events in the outbox", jlen(events));
    if (d->json)
        d->events = out ? strdup(out) : NULL;
    jread_free(demo_step(d, &d->host, "read the event log (consumer icms-demo)", ICMS_OK, rc, out,
                         v ? detail : NULL));
    if (!d->json && events) {
        printf("\nEvent log:\n");
        for (const jval *e = events->child; e; e = e->next) {
            int64_t seq = 0;
            ji64(e, "seq", &seq);
            const char *type = jstr(e, "type");
            const char *at = jstr(e, "occurred_at");
            const char *subject = jstr(e, "subject");
            printf("  %4" PRId64 "  %-26s %s  %s\n", seq, type ? type : "?", at ? at : "",
                   subject ? subject : "");
        }
        printf("\n");
    }
    jread_free(v);
}

int cli_demo(cli *c)
{
    demo d;
    memset(&d, 0, sizeof d);
    d.c = c;
    d.json = c->json_flag;
    d.confirmations = 3;
    jbuf_init(&d.steps);
    char dir[4096], path[4200];
    int status = make_dir(&d, dir, sizeof dir);
    if (status)
        return status;
    snprintf(path, sizeof path, "%s/demo.db", dir);
    snprintf(d.path, sizeof d.path, "%s", path);

    icms_options o = ICMS_OPTIONS_INIT;
    o.path = path;
    o.sqlite_sync = ICMS_SQLITE_SYNC_NORMAL;
    int rc = icms_clock_fake_new(icms_clock_now(NULL), &o.clock);
    if (rc)
        return cli_finish(rc, NULL);
    d.clock = o.clock;
    d.chain = sim_new(ICMS_GAPCOIN_MAIN);
    icms_transport *transport = NULL;
    rc = d.chain ? sim_transport(d.chain, &transport) : ICMS_ENOMEM;
    if (rc == ICMS_OK)
        rc = icms_rpc_client_new(&o.gapcoin, transport, "http://simulated-gapcoind.invalid:8332/",
                                 NULL);
    if (rc) {
        icms_clock_free(o.clock);
        sim_free(d.chain);
        return cli_finish(rc, NULL);
    }
    o.gapcoin_network = ICMS_GAPCOIN_MAIN;
    rc = icms_open(&d.db, &o);
    if (rc) {
        sim_free(d.chain);
        return cli_finish(rc, NULL);
    }

    if (!d.json) {
        printf("libicms demo: database %s\n", path);
        printf("  a simulated Gapcoin node (real transaction and header format) verifies "
               "payments at %u confirmations\n\n",
               d.confirmations);
        printf(
            "  #  actor      action                                       result                   "
            "project                funding\n");
    } else {
        jbuf_arr_open(&d.steps);
    }

    user_init(&d.host, "host");
    d.host.req.actor_kind = ICMS_ACTOR_HOST;
    user_init(&d.admin, "admin");
    user_init(&d.owner, "owner");
    user_init(&d.inv_a, "investor A");
    user_init(&d.inv_b, "investor B");

    char *out = NULL;
    rc = icms_user_bootstrap_admin(d.db, &d.host.req,
                                   "{\"name\":\"Ada Admin\",\"email\":\"ada@example.com\"}", &out);
    jval *v = demo_step(&d, &d.host, "bootstrap the first admin (Ada)", ICMS_OK, rc, out, NULL);
    demo_copy(v, "id", d.admin.id, sizeof d.admin.id);
    d.admin.req.actor_id = d.admin.id;
    jread_free(v);

    create_user(&d, &d.owner, "Olga Owner", "olga@example.com", "OWNER");
    create_user(&d, &d.inv_a, "Ivan Investor", "ivan@example.com", "INVESTOR");
    create_user(&d, &d.inv_b, "Iris Investor", "iris@example.com", "INVESTOR");
    kyc(&d, &d.inv_a);
    kyc(&d, &d.inv_b);

    create_project(&d);
    rc = icms_project_publish(d.db, &d.owner.req, d.project_id, &out);
    jread_free(demo_step(&d, &d.owner, "publish the project", ICMS_OK, rc, out, NULL));
    rc = icms_project_approve(d.db, &d.admin.req, d.project_id, &out);
    jread_free(demo_step(&d, &d.admin, "approve a project still PUBLISHED",
                         ICMS_EINVALID_TRANSITION, rc, out, NULL));

    participations(&d);
    demo_payments(&d);
    event_log(&d);
    audit(&d);

    int exit_status = d.unexpected ? CLI_EXIT_REFUSED : CLI_EXIT_OK;
    if (d.json) {
        jbuf_arr_close(&d.steps);
        char *steps = jbuf_take(&d.steps);
        jbuf b;
        jbuf_init(&b);
        jbuf_obj_open(&b);
        jbuf_kstr(&b, "database", path);
        jbuf_kjson(&b, "steps", steps ? steps : "[]");
        jbuf_kjson(&b, "event_log", d.events ? d.events : "null");
        jbuf_ki64(&b, "unexpected", d.unexpected);
        jbuf_kbool(&b, "ok", d.unexpected == 0);
        jbuf_obj_close(&b);
        free(steps);
        char *text = jbuf_take(&b);
        printf("%s\n", text ? text : "{}");
        free(text);
    } else {
        jbuf_free(&d.steps);
        printf("\n%d steps, %d unexpected: %s\n", d.n, d.unexpected,
               d.unexpected ? "the demo FAILED" : "every outcome as expected");
        printf("The database stays at %s: try `icms --db %s --as %s project get %s`\n", path, path,
               d.admin.id, d.project_id);
    }
    free(d.events);
    icms_close(d.db);
    sim_free(d.chain);
    return exit_status;
}
