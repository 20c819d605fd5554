/*
 * The icms command-line tool: shared declarations.
 *
 * The tool is a thin client of the public C API (include/icms.h and the
 * headers under include/icms/): it parses arguments, opens the
 * database, calls one library function and prints its JSON answer. The rules
 * live in the library, never here.
 */
#ifndef ICMS_CLI_H
#define ICMS_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "icms.h"
#include "icms/db.h"
#include "icms/request.h"
#include "icms/sys/clock.h"

/* Exit statuses (docs/cli.md, "Exit status"). */
#define CLI_EXIT_OK 0
#define CLI_EXIT_REFUSED 1
#define CLI_EXIT_USAGE 2
#define CLI_EXIT_FAILURE 3

/* Options that only some commands take (bits of command.opts). */
#define OPT_DOC 0x1u         /* --json FILE|- or --data TEXT */
#define OPT_REASON 0x2u      /* --reason TEXT */
#define OPT_CHECKPOINT 0x4u  /* --checkpoint FILE, --public-key HEX */
#define OPT_SECRET 0x8u      /* --secret-key-file FILE */
#define OPT_DIR 0x10u        /* --dir DIR (demo) */
#define OPT_DEPTH 0x20u      /* --first-height N (gapcoin verify-chain) */
#define OPT_NODE 0x40u       /* --node 0.9|0.16|2606 (gapcoin address forms) */
#define OPT_EVENTS 0x80u     /* --after SEQ, --max N (events) */
#define OPT_AUTH 0x100u      /* --master-key-file, --issuer, --audience (auth) */
#define OPT_SECRET_IN 0x200u /* --password-file, --refresh-token-file (auth) */
#define OPT_OAUTH 0x400u     /* --state-file, --verifier-file (auth external-*) */
#define OPT_NATS 0x800u      /* --url, --stream, --subject-prefix, --consumer, --follow, ... */
#define OPT_SPOOL 0x1000u    /* --spool FILE (notify run) */

/* Command flags. */
#define CMD_DB 0x1u      /* opens the database */
#define CMD_DOC_REQ 0x2u /* the JSON document is required */

struct cli;
struct command;

typedef int (*cmd_fn)(struct cli *c);

typedef struct command {
    const char *noun;
    const char *verb; /* NULL for a noun used alone (init, tick, check, demo) */
    const char *args; /* synopsis of the positional arguments */
    int min_args, max_args;
    unsigned opts;  /* OPT_* accepted beyond the global options */
    unsigned flags; /* CMD_* */
    cmd_fn fn;
    const char *summary; /* one line */
    const char *help;    /* what it does, its document, examples */
    /* The library call, for the commands that are one call with an id and/or a document. */
    int (*doc_fn)(icms_db *, const icms_request *, const char *, char **);
    int (*id_fn)(icms_db *, const icms_request *, const char *, char **);
    int (*id_doc_fn)(icms_db *, const icms_request *, const char *, const char *, char **);
    int (*id2_fn)(icms_db *, const icms_request *, const char *, const char *, char **);
    int (*id2_doc_fn)(icms_db *, const icms_request *, const char *, const char *, const char *,
                      char **);
} command;

typedef struct cli {
    const char *db_path;
    const char *as_user;
    const char *token;
    bool host;
    const char *idempotency_key;
    const char *correlation_id;
    const char *json_file; /* --json FILE|- */
    const char *data;      /* --data TEXT */
    bool json_flag;        /* demo --json */
    const char *now;
    const char *network;
    const char *reason;
    const char *rpc_url;
    const char *rpc_user;
    const char *rpc_password_file;
    const char *checkpoint_file;
    const char *public_key;
    const char *secret_key_file;
    const char *dir;
    const char *first_height;
    const char *node;
    const char *after;
    const char *master_key_file;
    const char *issuer;
    const char *audience;
    const char *password_file;
    const char *refresh_token_file;
    const char *device;
    const char *max;
    const char *state_file;    /* auth external-finish: the state the host kept */
    const char *verifier_file; /* auth pkce-check */
    const char *nats_url;
    const char *nats_stream;
    const char *subject_prefix;
    const char *nats_consumer;
    const char *follow; /* seconds */
    const char *spool;  /* notify run: the file notifications are appended to */
    bool create_stream;
    long retries;
    bool kyc_optional;
    bool spv;
    bool help;

    const command *cmd;
    int argc; /* positional arguments after noun and verb */
    char **argv;
    unsigned opts_seen; /* OPT_* bits given on the command line */
    char *doc;          /* the document of --json/--data, read before the database is opened */

    icms_db *db;
    icms_request req;
} cli;

/* The command table (commands.c) and its length. */
extern const command cli_commands[];
extern const size_t cli_command_count;

/* main.c */
int cli_usage(const cli *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Print out (library JSON, may be NULL) on success, or the error; the exit status. */
int cli_finish(int rc, char *out);
/* Print one error object on stderr for code and message; the exit status for code. */
int cli_fail(int code, const char *message);
/* The exit status of a library error code. */
int cli_exit_code(int rc);
/* Read a whole file ("-" is stdin) into *out (malloc'd, NUL-terminated). 0 or -errno. */
int cli_read_file(const char *path, char **out, size_t *len);
/* The network named by --network (default main); false when the name is unknown. */
bool cli_network(const cli *c, unsigned *out);
/* Open the database as the options say; exit status (0 on success). */
int cli_open_db(cli *c);

/* gapcoin.c: the `gapcoin` subcommands. */
int cli_gapcoin_decode_tx(cli *c);
int cli_gapcoin_decode_header(cli *c);
int cli_gapcoin_verify_header(cli *c);
int cli_gapcoin_verify_chain(cli *c);
int cli_gapcoin_verify_proof(cli *c);
int cli_gapcoin_address(cli *c);
int cli_gapcoin_script(cli *c);

/* admin.c: init, tick, audit. */
int cli_init(cli *c);
int cli_tick(cli *c);
int cli_audit_keypair(cli *c);
int cli_audit_checkpoint(cli *c);
int cli_audit_verify(cli *c);

/* ops.c: check and events. */
int cli_check(cli *c);
int cli_events_read(cli *c);
int cli_events_ack(cli *c);
int cli_events_tail(cli *c);
int cli_events_consumers(cli *c);

/* nats.c: events publish-nats. */
int cli_events_publish_nats(cli *c);

/* notify.c: notify run (the other notify commands are generic rows). */
int cli_notify_run(cli *c);

/* auth.c */
int cli_auth_password(cli *c);
int cli_auth_login(cli *c);
int cli_auth_refresh(cli *c);
int cli_auth_verify(cli *c);
int cli_auth_jwks(cli *c);
int cli_auth_rotate_keys(cli *c);
int cli_auth_external_start(cli *c);
int cli_auth_external_finish(cli *c);
int cli_auth_link_identity(cli *c);
int cli_auth_pkce_check(cli *c);

/* demo.c */
int cli_demo(cli *c);

#endif
