/*
 * The Database's promise-returning commands (db.payment_verify_async(...)
 * and the like, db.tick_async()): part of async.node, included by async.c.
 *
 * Every command of the Database is icms_<name>(db, req, 0 to 3 strings, &out)
 * (the table below, checked against the headers by the compiler); it runs on
 * a libuv worker like the network calls. Unlike a publisher or an RPC
 * client, a database handle may be used by many threads at once (the
 * library's rule, docs/architecture.md "Threads"), so commands are not
 * queued: several run side by side and the store orders their writes.
 * lib/icms.js keeps the database open until the last has settled.
 *
 * The request is copied field by field on the loop thread (the Request's
 * strings may be collected while the worker runs).
 */

typedef int (*cmd0_fn)(icms_db *, const icms_request *, char **);
typedef int (*cmd1_fn)(icms_db *, const icms_request *, const char *, char **);
typedef int (*cmd2_fn)(icms_db *, const icms_request *, const char *, const char *, char **);
typedef int (*cmd3_fn)(icms_db *, const icms_request *, const char *, const char *, const char *,
                       char **);

static int run(command_job *c, char **out);

typedef struct command {
    const char *name;
    int arity; /* strings between the request and the answer */
    union {
        cmd0_fn c0;
        cmd1_fn c1;
        cmd2_fn c2;
        cmd3_fn c3;
    } fn;
} command;

#define C0(n) {#n, 0, {.c0 = icms_##n}}
#define C1(n) {#n, 1, {.c1 = icms_##n}}
#define C2(n) {#n, 2, {.c2 = icms_##n}}
#define C3(n) {#n, 3, {.c3 = icms_##n}}

/* lib/icms.js's COMMANDS, each with its shape. */
static const command commands[] = {
    C1(user_bootstrap_admin), C1(user_create), C1(user_get), C2(user_update),
    C2(user_grant_role), C2(user_revoke_role), C3(user_set_kyc), C1(user_deactivate),
    C1(user_erase), C1(user_history), C1(project_create), C2(project_update), C1(project_get),
    C1(project_list), C1(project_publish), C2(project_set_payout_address), C1(project_approve),
    C2(project_ship), C1(project_complete), C2(project_cancel), C2(product_add),
    C3(product_update), C2(product_remove), C2(participation_request), C1(participation_approve),
    C2(participation_reject), C1(participation_withdraw), C1(participation_get),
    C1(participation_list), C2(payment_initiate), C2(payment_submit), C1(payment_verify),
    C1(payment_get), C1(payment_list), C1(refund_list), C2(refund_record),
    C2(project_distribute), C1(payout_list), C2(payout_record), C1(release_get),
    C1(release_list), C2(release_record), C0(check), C0(events_consumers),
    C1(notify_prefs_get), C2(notify_prefs_set), C2(notify_list), C1(notify_retry),
    C1(auth_sessions), C1(auth_logout), C1(auth_logout_all),
};

#define REQUEST_STRINGS 8 /* actor_id .. access_token, in icms_request's order */

typedef struct command_job {
    const command *cmd; /* NULL: icms_tick */
    icms_db *db;        /* borrowed: lib/icms.js closes it only once every call settled */
    int actor_kind;
    char *request[REQUEST_STRINGS];
    char *args[3];
} command_job;

static void command_job_free(command_job *c)
{
    if (!c)
        return;
    for (int i = 0; i < REQUEST_STRINGS; i++)
        free(c->request[i]);
    for (int i = 0; i < 3; i++)
        free(c->args[i]);
    free(c);
}

/* On the worker. *out is the library's (icms_free: job_free knows, by the job's kind). */
static int64_t command_run(command_job *c, char **out)
{
    if (!c->cmd)
        return icms_tick(c->db, out);
    return run(c, out);
}

static int run(command_job *c, char **out)
{
    icms_request req = ICMS_REQUEST_INIT;
    req.actor_kind = (icms_actor_kind_t)c->actor_kind;
    req.actor_id = c->request[0];
    req.idempotency_key = c->request[1];
    req.correlation_id = c->request[2];
    req.trace_id = c->request[3];
    req.span_id = c->request[4];
    req.request_id = c->request[5];
    req.source = c->request[6];
    req.access_token = c->request[7];
    char **a = c->args;
    switch (c->cmd->arity) {
    case 0:
        return c->cmd->fn.c0(c->db, &req, out);
    case 1:
        return c->cmd->fn.c1(c->db, &req, a[0], out);
    case 2:
        return c->cmd->fn.c2(c->db, &req, a[0], a[1], out);
    default:
        return c->cmd->fn.c3(c->db, &req, a[0], a[1], a[2], out);
    }
}

static const command *command_named(const char *name)
{
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

/* The Request's fields: [actorKind, actorId, idempotencyKey, ..., accessToken]. */
static int request_arg(napi_env env, napi_value v, command_job *c)
{
    bool is_array = false;
    uint32_t len = 0;
    napi_value kind;
    int64_t actor_kind = 0;
    if (napi_is_array(env, v, &is_array) != napi_ok || !is_array ||
        napi_get_array_length(env, v, &len) != napi_ok || len != 1 + REQUEST_STRINGS ||
        napi_get_element(env, v, 0, &kind) != napi_ok ||
        napi_get_value_int64(env, kind, &actor_kind) != napi_ok || actor_kind < 0 ||
        actor_kind > INT32_MAX) {
        napi_throw_type_error(env, NULL, "the request is [actorKind, 8 strings or nulls]");
        return -1;
    }
    c->actor_kind = (int)actor_kind;
    for (uint32_t i = 0; i < REQUEST_STRINGS; i++) {
        napi_value field;
        if (napi_get_element(env, v, i + 1, &field) != napi_ok ||
            str_arg(env, field, "a request field is a string or null", &c->request[i]) != 0)
            return -1;
    }
    return 0;
}

/* A JOB_COMMAND job on db running cmd (NULL: the tick); NULL after throwing. */
static job *command_job_new(napi_env env, void *db, const command *cmd)
{
    job *j = job_new(env, JOB_COMMAND);
    if (!j)
        return NULL;
    j->command = calloc(1, sizeof *j->command);
    if (!j->command) {
        job_free(j);
        napi_throw_error(env, NULL, "out of memory");
        return NULL;
    }
    j->command->cmd = cmd;
    j->command->db = db;
    return j;
}

/* command(databaseAddress, name, request, [strings]) -> Promise<[rc, json, message]>. */
static napi_value js_command(napi_env env, napi_callback_info info)
{
    size_t argc = 4;
    napi_value argv[4];
    if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 4) {
        napi_throw_type_error(env, NULL, "command(databaseAddress, name, request, args)");
        return NULL;
    }
    char *name = NULL;
    void *db = NULL;
    if (handle_arg(env, argv[0], &db) != 0 || str_arg(env, argv[1], "name is a string", &name))
        return NULL;
    const command *cmd = name ? command_named(name) : NULL;
    free(name);
    if (!cmd) {
        napi_throw_type_error(env, NULL, "not a command of the database");
        return NULL;
    }
    uint32_t n = 0;
    bool is_array = false;
    if (napi_is_array(env, argv[3], &is_array) != napi_ok || !is_array ||
        napi_get_array_length(env, argv[3], &n) != napi_ok || n != (uint32_t)cmd->arity) {
        napi_throw_type_error(env, NULL, "wrong number of arguments for this command");
        return NULL;
    }
    job *j = command_job_new(env, db, cmd);
    if (!j)
        return NULL;
    if (request_arg(env, argv[2], j->command) != 0) {
        job_free(j);
        return NULL;
    }
    for (uint32_t i = 0; i < n; i++) {
        napi_value a;
        if (napi_get_element(env, argv[3], i, &a) != napi_ok ||
            str_arg(env, a, "a command argument is a string or null", &j->command->args[i]) != 0) {
            job_free(j);
            return NULL;
        }
    }
    return start(env, j, "icms.command");
}

/* tick(databaseAddress) -> Promise<[rc, json, message]>. */
static napi_value js_tick(napi_env env, napi_callback_info info)
{
    size_t argc = 1;
    napi_value argv[1];
    void *db = NULL;
    if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 1) {
        napi_throw_type_error(env, NULL, "tick(databaseAddress)");
        return NULL;
    }
    if (handle_arg(env, argv[0], &db) != 0)
        return NULL;
    job *j = command_job_new(env, db, NULL);
    return j ? start(env, j, "icms.tick") : NULL;
}
