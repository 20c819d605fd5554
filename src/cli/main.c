/*
 * icms: the libicms command-line tool. Parses the command line, opens the
 * database, makes one library call and prints its answer (docs/cli.md).
 */
#include "cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "icms/gapcoin.h"
#include "icms/rpc.h"
#include "icms/util.h"
#include "jbuf.h"

static const char global_usage[] =
    "usage: icms [--db PATH] [--as USER_ID | --host | --token T] [--idempotency-key K]\n"
    "            [--correlation-id C] <noun> <verb> [args] [--json FILE|- | --data JSON]\n"
    "       icms demo [--json] [--dir DIR]\n"
    "       icms <noun> --help | icms <noun> <verb> --help\n";

static const char global_help[] =
    "Drive a libicms database from the shell: JSON on stdout, one error object\n"
    "on stderr, exit 0 success, 1 refused, 2 usage, 3 storage or node failure.\n"
    "\n"
    "Options (anywhere on the line):\n"
    "  --db PATH               the SQLite database (default $ICMS_DB, else ./icms.db)\n"
    "  --as USER_ID            act as this user (the host vouches for them)\n"
    "  --host                  act as the trusted host (an admin's rights)\n"
    "  --token ACCESS_TOKEN    act as the user of a verified access token (auth login)\n"
    "  --idempotency-key K     make a command safe to retry (same key, same answer)\n"
    "  --correlation-id C      tie audit entries and events to your request\n"
    "  --json FILE|-           the command's JSON document, from a file or stdin\n"
    "  --data JSON             the command's JSON document, inline\n"
    "  --now RFC3339           pretend it is this time (a fixed clock)\n"
    "  --network main|test     the Gapcoin network (default main)\n"
    "  --retries N             attempts when the database is busy (default 3)\n"
    "  --kyc-optional          open the database with KYC not required\n"
    "  --rpc-url URL           Gapcoin node JSON-RPC (or $ICMS_RPC_URL)\n"
    "  --rpc-user USER         its user (or $ICMS_RPC_USER)\n"
    "  --rpc-password-file F   file holding its password (or $ICMS_RPC_PASSWORD_FILE);\n"
    "                          never put a password on the command line\n"
    "  --spv                   verify payments in SPV mode (merkle proof, proof of work,\n"
    "                          header chain) instead of trusting the node\n"
    "  --help, -h              help for the tool, a noun or a command\n"
    "\n"
    "Examples:\n"
    "  icms demo\n"
    "  icms --db shop.db init --data '{\"name\":\"Ada\",\"email\":\"ada@example.com\"}'\n"
    "  icms --db shop.db --as $OWNER project create --json project.json\n"
    "  icms gapcoin decode-header 0200...\n"
    "\n";

/* Options that take a value, and where it goes. */
typedef struct option_def {
    const char *name;
    size_t field; /* offset of the const char * in cli, or SIZE_MAX for a flag */
    unsigned opt; /* OPT_* bit when command specific, 0 when global */
} option_def;

#define FIELD(f) offsetof(cli, f)
static const option_def options[] = {
    {"--db", FIELD(db_path), 0},
    {"--as", FIELD(as_user), 0},
    {"--token", FIELD(token), 0},
    {"--idempotency-key", FIELD(idempotency_key), 0},
    {"--correlation-id", FIELD(correlation_id), 0},
    {"--json", FIELD(json_file), OPT_DOC},
    {"--data", FIELD(data), OPT_DOC},
    {"--now", FIELD(now), 0},
    {"--network", FIELD(network), 0},
    {"--reason", FIELD(reason), OPT_REASON},
    {"--rpc-url", FIELD(rpc_url), 0},
    {"--rpc-user", FIELD(rpc_user), 0},
    {"--rpc-password-file", FIELD(rpc_password_file), 0},
    {"--checkpoint", FIELD(checkpoint_file), OPT_CHECKPOINT},
    {"--public-key", FIELD(public_key), OPT_CHECKPOINT},
    {"--secret-key-file", FIELD(secret_key_file), OPT_SECRET},
    {"--dir", FIELD(dir), OPT_DIR},
    {"--first-height", FIELD(first_height), OPT_DEPTH},
    {"--node", FIELD(node), OPT_NODE},
    {"--after", FIELD(after), OPT_EVENTS},
    {"--master-key-file", FIELD(master_key_file), OPT_AUTH},
    {"--issuer", FIELD(issuer), OPT_AUTH},
    {"--audience", FIELD(audience), OPT_AUTH},
    {"--device", FIELD(device), OPT_AUTH},
    {"--password-file", FIELD(password_file), OPT_SECRET_IN},
    {"--refresh-token-file", FIELD(refresh_token_file), OPT_SECRET_IN},
    {"--max", FIELD(max), OPT_EVENTS},
    {"--state-file", FIELD(state_file), OPT_OAUTH},
    {"--verifier-file", FIELD(verifier_file), OPT_OAUTH},
    {"--url", FIELD(nats_url), OPT_NATS},
    {"--stream", FIELD(nats_stream), OPT_NATS},
    {"--subject-prefix", FIELD(subject_prefix), OPT_NATS},
    {"--consumer", FIELD(nats_consumer), OPT_NATS},
    {"--follow", FIELD(follow), OPT_NATS},
    {"--spool", FIELD(spool), OPT_SPOOL},
};

static void print_command_usage(FILE *f, const command *cmd)
{
    fprintf(f, "usage: icms [options] %s%s%s%s%s", cmd->noun, cmd->verb ? " " : "",
            cmd->verb ? cmd->verb : "", cmd->args && *cmd->args ? " " : "",
            cmd->args ? cmd->args : "");
    if (cmd->opts & OPT_DOC)
        fprintf(f, (cmd->flags & CMD_DOC_REQ) ? " (--json FILE|- | --data JSON)"
                                              : " [--json FILE|- | --data JSON]");
    if (cmd->opts & OPT_REASON)
        fprintf(f, " --reason TEXT");
    fprintf(f, "\n");
}

static const command *find_noun(const char *noun)
{
    for (size_t i = 0; i < cli_command_count; i++)
        if (strcmp(cli_commands[i].noun, noun) == 0)
            return &cli_commands[i];
    return NULL;
}

static const command *find_command(const char *noun, const char *verb)
{
    for (size_t i = 0; i < cli_command_count; i++) {
        const command *cmd = &cli_commands[i];
        if (strcmp(cmd->noun, noun) != 0)
            continue;
        if (!cmd->verb || (verb && strcmp(cmd->verb, verb) == 0))
            return cmd;
    }
    return NULL;
}

static void print_noun_help(FILE *f, const char *noun)
{
    fprintf(f, "usage: icms [options] %s <verb> [args]\n\nverbs:\n", noun);
    for (size_t i = 0; i < cli_command_count; i++) {
        const command *cmd = &cli_commands[i];
        if (strcmp(cmd->noun, noun) == 0 && cmd->verb)
            fprintf(f, "  %-14s %s\n", cmd->verb, cmd->summary);
    }
    fprintf(f, "\n`icms %s <verb> --help` shows a verb's arguments and examples.\n", noun);
}

static void print_global_help(FILE *f)
{
    fputs(global_usage, f);
    fputs("\n", f);
    fputs(global_help, f);
    fputs("Commands:\n", f);
    const char *last = "";
    for (size_t i = 0; i < cli_command_count; i++) {
        const command *cmd = &cli_commands[i];
        if (!cmd->verb) {
            fprintf(f, "  %-30s %s\n", cmd->noun, cmd->summary);
        } else if (strcmp(cmd->noun, last) != 0) {
            char verbs[512] = "";
            for (size_t j = i;
                 j < cli_command_count && strcmp(cli_commands[j].noun, cmd->noun) == 0; j++) {
                if (verbs[0])
                    strncat(verbs, "|", sizeof verbs - strlen(verbs) - 1);
                strncat(verbs, cli_commands[j].verb, sizeof verbs - strlen(verbs) - 1);
            }
            fprintf(f, "  %s %s\n", cmd->noun, verbs);
        }
        last = cmd->noun;
    }
    fputs("\ndocs/cli.md describes every command.\n", f);
}

int cli_usage(const cli *c, const char *fmt, ...)
{
    va_list ap;
    fputs("icms: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs("\n", stderr);
    if (c && c->cmd)
        print_command_usage(stderr, c->cmd);
    else
        fputs(global_usage, stderr);
    return CLI_EXIT_USAGE;
}

int cli_exit_code(int rc)
{
    switch (rc) {
    case ICMS_OK:
        return CLI_EXIT_OK;
    case ICMS_EINVALID:
    case ICMS_ENOTFOUND:
    case ICMS_EEXISTS:
    case ICMS_EINVALID_TRANSITION:
    case ICMS_EFORBIDDEN:
    case ICMS_ECONFLICT:
    case ICMS_EBUFS:
    case ICMS_EIDEMPOTENCY:
    case ICMS_EUNAUTHENTICATED:
    case ICMS_ELIMIT:
        return CLI_EXIT_REFUSED;
    default: /* ESTORAGE, ETRANSPORT, EBUSY, ECORRUPT, EVERSION, ENOMEM, ERROR, EUSER */
        return CLI_EXIT_FAILURE;
    }
}

int cli_fail(int code, const char *message)
{
    jbuf b;
    jbuf_init(&b);
    jbuf_obj_open(&b);
    jbuf_key(&b, "error");
    jbuf_obj_open(&b);
    jbuf_kstr(&b, "code", icms_error_name(code));
    jbuf_kstr(&b, "message", message ? message : icms_strerror(code));
    jbuf_obj_close(&b);
    jbuf_obj_close(&b);
    char *text = jbuf_take(&b);
    fprintf(stderr, "%s\n",
            text ? text : "{\"error\":{\"code\":\"ICMS_ENOMEM\",\"message\":\"out of memory\"}}");
    free(text);
    return cli_exit_code(code);
}

int cli_finish(int rc, char *out)
{
    if (rc == ICMS_OK) {
        if (out)
            printf("%s\n", out);
        icms_free(out);
        return fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAILURE;
    }
    icms_free(out);
    const icms_error *e = icms_error_last();
    return cli_fail(rc, e->code == rc ? e->message : icms_strerror(rc));
}

int cli_read_file(const char *path, char **out, size_t *len)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f)
        return -errno;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    int err = 0;
    while (buf) {
        if (n + 1 >= cap) {
            char *bigger = cap < ((size_t)64 << 20) ? realloc(buf, cap * 2) : NULL;
            if (!bigger) {
                err = -EFBIG;
                break;
            }
            buf = bigger;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0) {
            if (ferror(f))
                err = -EIO;
            break;
        }
    }
    if (f != stdin)
        fclose(f);
    if (!buf)
        return -ENOMEM;
    if (err) {
        free(buf);
        return err;
    }
    buf[n] = '\0';
    if (strlen(buf) != n) {
        free(buf);
        return -EILSEQ; /* a NUL byte: not text */
    }
    *out = buf;
    if (len)
        *len = n;
    return 0;
}

/* The JSON document of --json/--data in *out (malloc'd), or NULL when none was given. */
static int read_doc(cli *c, char **out)
{
    *out = NULL;
    if (c->data) {
        *out = strdup(c->data);
        return *out ? CLI_EXIT_OK : cli_fail(ICMS_ENOMEM, NULL);
    }
    if (!c->json_file)
        return CLI_EXIT_OK;
    int err = cli_read_file(c->json_file, out, NULL);
    if (err)
        return cli_usage(c, "cannot read %s: %s", c->json_file, strerror(-err));
    return CLI_EXIT_OK;
}

bool cli_network(const cli *c, unsigned *out)
{
    if (!c->network || strcmp(c->network, "main") == 0) {
        *out = ICMS_GAPCOIN_MAIN;
        return true;
    }
    if (strcmp(c->network, "test") == 0) {
        *out = ICMS_GAPCOIN_TEST;
        return true;
    }
    return false;
}

/* The node client from --rpc-* or ICMS_RPC_*; *out stays NULL when no URL is given. */
static int open_rpc(cli *c, icms_rpc_client **out)
{
    *out = NULL;
    const char *url = c->rpc_url ? c->rpc_url : getenv("ICMS_RPC_URL");
    const char *user = c->rpc_user ? c->rpc_user : getenv("ICMS_RPC_USER");
    const char *pwfile =
        c->rpc_password_file ? c->rpc_password_file : getenv("ICMS_RPC_PASSWORD_FILE");
    if (!url || !*url)
        return CLI_EXIT_OK;
    char *password = NULL;
    if (pwfile && *pwfile) {
        int err = cli_read_file(pwfile, &password, NULL);
        if (err)
            return cli_usage(c, "cannot read the RPC password file %s: %s", pwfile, strerror(-err));
        password[strcspn(password, "\r\n")] = '\0'; /* one line */
    }
    icms_transport_curl_options topt = ICMS_TRANSPORT_CURL_OPTIONS_INIT;
    topt.username = user;
    topt.password = password;
    icms_transport *transport = NULL;
    int rc = icms_transport_curl_new(&transport, &topt);
    if (password) {
        memset(password, 0, strlen(password));
        free(password);
    }
    if (rc == ICMS_OK)
        rc = icms_rpc_client_new(out, transport, url, NULL);
    return rc == ICMS_OK ? CLI_EXIT_OK : cli_finish(rc, NULL);
}

int cli_open_db(cli *c)
{
    icms_options o = ICMS_OPTIONS_INIT;
    o.path = c->db_path;
    o.kyc_optional = c->kyc_optional;
    o.retry_attempts = (unsigned)c->retries;
    unsigned network;
    if (!cli_network(c, &network))
        return cli_usage(c, "--network must be main or test, not '%s'", c->network);
    o.gapcoin_network = network;
    o.gapcoin_spv = c->spv;
    if (c->now) {
        int64_t ms;
        if (icms_time_parse(c->now, &ms) != ICMS_OK)
            return cli_usage(c, "--now: %s", icms_error_last()->message);
        int rc = icms_clock_fake_new(ms, &o.clock);
        if (rc)
            return cli_finish(rc, NULL);
    }
    int status = open_rpc(c, &o.gapcoin);
    if (status) {
        icms_clock_free(o.clock);
        return status;
    }
    int rc = icms_open(&c->db, &o);
    return rc == ICMS_OK ? CLI_EXIT_OK : cli_finish(rc, NULL);
}

/* The generic commands: one library call with ids from the arguments and maybe a document. */
static int run_generic(cli *c)
{
    const command *cmd = c->cmd;
    const char *text = c->doc;
    if (cmd->opts & OPT_REASON)
        text = c->reason;
    char *out = NULL;
    int rc;
    const char *a = c->argc > 0 ? c->argv[0] : NULL;
    const char *b = c->argc > 1 ? c->argv[1] : NULL;
    if (cmd->doc_fn)
        rc = cmd->doc_fn(c->db, &c->req, text, &out);
    else if (cmd->id_fn)
        rc = cmd->id_fn(c->db, &c->req, a, &out);
    else if (cmd->id_doc_fn)
        rc = cmd->id_doc_fn(c->db, &c->req, a, b ? b : text, &out);
    else if (cmd->id2_fn)
        rc = cmd->id2_fn(c->db, &c->req, a, b, &out);
    else
        rc = cmd->id2_doc_fn(c->db, &c->req, a, b, text, &out);
    return cli_finish(rc, out);
}

static const option_def *find_option(const char *arg)
{
    for (size_t i = 0; i < sizeof options / sizeof options[0]; i++)
        if (strcmp(options[i].name, arg) == 0)
            return &options[i];
    return NULL;
}

/* Parse argv into c; returns -1 to go on, or an exit status. */
static int parse(cli *c, int argc, char **argv, char **positional, int *npos)
{
    bool only_positional = false;
    *npos = 0;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (only_positional || arg[0] != '-' || strcmp(arg, "-") == 0) {
            positional[(*npos)++] = argv[i];
            continue;
        }
        if (strcmp(arg, "--") == 0) {
            only_positional = true;
        } else if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            c->help = true;
        } else if (strcmp(arg, "--host") == 0) {
            c->host = true;
        } else if (strcmp(arg, "--kyc-optional") == 0) {
            c->kyc_optional = true;
        } else if (strcmp(arg, "--spv") == 0) {
            c->spv = true;
        } else if (strcmp(arg, "--create-stream") == 0) {
            c->create_stream = true;
            c->opts_seen |= OPT_NATS;
        } else if (strcmp(arg, "--json") == 0 && *npos >= 1 && strcmp(positional[0], "demo") == 0) {
            c->json_flag = true; /* `icms demo --json`: machine-readable steps */
        } else if (strcmp(arg, "--retries") == 0) {
            if (i + 1 >= argc)
                return cli_usage(c, "--retries needs a value");
            char *end = NULL;
            errno = 0;
            c->retries = strtol(argv[++i], &end, 10);
            if (errno || *end || c->retries < 1 || c->retries > 100)
                return cli_usage(c, "--retries must be a number from 1 to 100");
        } else {
            const option_def *o = find_option(arg);
            if (!o)
                return cli_usage(c, "unknown option %s", arg);
            if (i + 1 >= argc)
                return cli_usage(c, "%s needs a value", arg);
            *(const char **)((char *)c + o->field) = argv[++i];
            c->opts_seen |= o->opt;
        }
    }
    return -1;
}

int main(int argc, char **argv)
{
    cli c;
    memset(&c, 0, sizeof c);
    c.retries = 3;
    char **positional = calloc((size_t)argc + 1, sizeof *positional);
    if (!positional)
        return CLI_EXIT_FAILURE;
    int npos = 0;
    int status = parse(&c, argc, argv, positional, &npos);
    if (status >= 0)
        goto done;
    if (npos == 0) {
        if (c.help) {
            print_global_help(stdout);
            status = CLI_EXIT_OK;
        } else {
            status = cli_usage(&c, "no command given (icms --help lists them)");
        }
        goto done;
    }
    if (!find_noun(positional[0])) {
        status = cli_usage(&c, "unknown command '%s' (icms --help lists them)", positional[0]);
        goto done;
    }
    c.cmd = find_command(positional[0], npos > 1 ? positional[1] : NULL);
    if (!c.cmd) {
        if (c.help || npos == 1) {
            print_noun_help(c.help ? stdout : stderr, positional[0]);
            status = c.help ? CLI_EXIT_OK : CLI_EXIT_USAGE;
            if (!c.help)
                fprintf(stderr, "icms: %s needs a verb\n", positional[0]);
        } else {
            status = cli_usage(&c, "unknown verb '%s' for %s", positional[1], positional[0]);
        }
        goto done;
    }
    if (c.help) {
        print_command_usage(stdout, c.cmd);
        printf("\n%s\n%s", c.cmd->summary, c.cmd->help ? c.cmd->help : "");
        status = CLI_EXIT_OK;
        goto done;
    }
    int skip = c.cmd->verb ? 2 : 1;
    c.argc = npos - skip;
    c.argv = positional + skip;
    if (c.argc < c.cmd->min_args) {
        status = cli_usage(&c, "missing argument (needs %s)", c.cmd->args);
        goto done;
    }
    if (c.argc > c.cmd->max_args) {
        status = cli_usage(&c, "unexpected argument '%s'", c.argv[c.cmd->max_args]);
        goto done;
    }
    unsigned extra = c.opts_seen & ~c.cmd->opts;
    if (extra) {
        for (size_t i = 0; i < sizeof options / sizeof options[0]; i++)
            if (options[i].opt & extra) {
                status = cli_usage(&c, "%s does not apply to this command", options[i].name);
                goto done;
            }
    }
    if (c.json_file && c.data) {
        status = cli_usage(&c, "give the document with --json or --data, not both");
        goto done;
    }
    {
        /* stdin can feed one thing only */
        const char *from_stdin[] = {c.json_file, c.password_file, c.refresh_token_file,
                                    c.state_file, c.verifier_file};
        int n = 0;
        for (size_t i = 0; i < sizeof from_stdin / sizeof from_stdin[0]; i++)
            n += from_stdin[i] && strcmp(from_stdin[i], "-") == 0;
        if (n > 1) {
            status = cli_usage(&c, "only one option may read stdin ('-')");
            goto done;
        }
    }
    if ((c.cmd->flags & CMD_DOC_REQ) && !c.json_file && !c.data) {
        status = cli_usage(&c, "this command needs a JSON document (--json FILE|- or --data JSON)");
        goto done;
    }
    if ((c.cmd->opts & OPT_REASON) && !c.reason) {
        status = cli_usage(&c, "this command needs --reason TEXT");
        goto done;
    }
    if ((c.as_user != NULL) + c.host + (c.token != NULL) > 1) {
        status = cli_usage(&c, "give one of --as USER_ID, --host and --token, not several");
        goto done;
    }
    unsigned network;
    if (!cli_network(&c, &network)) {
        status = cli_usage(&c, "--network must be main or test, not '%s'", c.network);
        goto done;
    }
    if (!c.db_path)
        c.db_path = getenv("ICMS_DB");
    if (!c.db_path || !*c.db_path)
        c.db_path = "icms.db";

    c.req = (icms_request)ICMS_REQUEST_INIT;
    c.req.actor_id = c.as_user;
    c.req.access_token = c.token;
    if (c.host)
        c.req.actor_kind = ICMS_ACTOR_HOST;
    c.req.idempotency_key = c.idempotency_key;
    c.req.correlation_id = c.correlation_id;
    c.req.source = "icms-cli";

    /* Read the document first: a usage error must leave the database untouched. */
    status = read_doc(&c, &c.doc);
    if (status)
        goto done;
    status = -1;
    if (icms_init() < 0) {
        status = cli_finish(icms_error_last()->code, NULL);
        goto done;
    }
    if (c.cmd->flags & CMD_DB)
        status = cli_open_db(&c);
    if (status <= 0)
        status = c.cmd->fn ? c.cmd->fn(&c) : run_generic(&c);
    icms_close(c.db);
    icms_shutdown();
done:
    free(c.doc);
    free(positional);
    return status < 0 ? CLI_EXIT_FAILURE : status;
}
