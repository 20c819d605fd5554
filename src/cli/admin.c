/* init, tick and the audit commands. */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "icms/audit.h"
#include "icms/gapcoin.h"
#include "icms/projects.h"
#include "icms/users.h"
#include "jbuf.h"

int cli_init(cli *c)
{
    const char *doc = c->doc;
    struct stat st;
    bool existed = stat(c->db_path, &st) == 0;
    int status = cli_open_db(c);
    if (status)
        return status;
    char *admin = NULL;
    if (doc) {
        icms_request host = c->req;
        host.actor_kind = ICMS_ACTOR_HOST; /* bootstrapping is the host's act */
        host.actor_id = NULL;
        int rc = icms_user_bootstrap_admin(c->db, &host, doc, &admin);
        if (rc)
            return cli_finish(rc, NULL);
    }
    jbuf b;
    jbuf_init(&b);
    jbuf_obj_open(&b);
    jbuf_kstr(&b, "database", c->db_path);
    jbuf_kbool(&b, "created", !existed);
    jbuf_ki64(&b, "format", ICMS_FORMAT_VERSION);
    if (admin)
        jbuf_kjson(&b, "admin", admin);
    jbuf_obj_close(&b);
    icms_free(admin);
    char *text = jbuf_take(&b);
    if (!text)
        return cli_fail(ICMS_ENOMEM, NULL);
    printf("%s\n", text);
    free(text);
    return CLI_EXIT_OK;
}

int cli_tick(cli *c)
{
    char *report = NULL;
    int rc = icms_tick(c->db, &report);
    return cli_finish(rc, report);
}

/* Read a key file: hex of exactly len bytes. */
static int read_key_file(cli *c, const char *path, uint8_t *key, size_t len)
{
    char *text = NULL;
    int err = cli_read_file(path, &text, NULL);
    if (err)
        return cli_usage(c, "cannot read %s: %s", path, strerror(-err));
    text[strcspn(text, "\r\n")] = '\0';
    uint8_t *bytes = NULL;
    size_t n = 0;
    int rc = icms_gapcoin_hex_decode(text, &bytes, &n);
    memset(text, 0, strlen(text));
    free(text);
    if (rc == ICMS_OK && n != len)
        rc = ICMS_EINVALID;
    if (rc == ICMS_OK)
        memcpy(key, bytes, len);
    if (bytes) {
        memset(bytes, 0, n);
        icms_free(bytes);
    }
    if (rc)
        return cli_fail(ICMS_EINVALID, "the key file does not hold a key of the right size in hex");
    return CLI_EXIT_OK;
}

int cli_audit_keypair(cli *c)
{
    if (!c->secret_key_file)
        return cli_usage(c,
                         "audit keypair needs --secret-key-file FILE (the secret key goes there)");
    uint8_t pk[ICMS_AUDIT_PUBLIC_KEY_BYTES], sk[ICMS_AUDIT_SECRET_KEY_BYTES];
    int rc = icms_audit_keypair(pk, sizeof pk, sk, sizeof sk);
    if (rc)
        return cli_finish(rc, NULL);
    int fd = open(c->secret_key_file, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0) {
        memset(sk, 0, sizeof sk);
        return cli_usage(c, "cannot create %s: %s", c->secret_key_file, strerror(errno));
    }
    jbuf b;
    jbuf_init(&b);
    jbuf_hex(&b, sk, sizeof sk);
    memset(sk, 0, sizeof sk);
    char *hex = jbuf_take(&b);
    bool ok = hex != NULL;
    if (ok) {
        /* the value without its quotes, and a newline */
        size_t n = strlen(hex);
        hex[n - 1] = '\n';
        ok = write(fd, hex + 1, n - 1) == (ssize_t)(n - 1);
        memset(hex, 0, n);
        free(hex);
    }
    if (close(fd) != 0)
        ok = false;
    if (!ok)
        return cli_fail(ICMS_ESTORAGE, "could not write the secret key file");
    jbuf_init(&b);
    jbuf_obj_open(&b);
    jbuf_khex(&b, "public_key", pk, sizeof pk);
    jbuf_kstr(&b, "secret_key_file", c->secret_key_file);
    jbuf_obj_close(&b);
    char *text = jbuf_take(&b);
    if (!text)
        return cli_fail(ICMS_ENOMEM, NULL);
    printf("%s\n", text);
    free(text);
    return CLI_EXIT_OK;
}

int cli_audit_checkpoint(cli *c)
{
    if (!c->secret_key_file)
        return cli_usage(c, "audit checkpoint needs --secret-key-file FILE");
    uint8_t sk[ICMS_AUDIT_SECRET_KEY_BYTES];
    int status = read_key_file(c, c->secret_key_file, sk, sizeof sk);
    if (status)
        return status;
    char *out = NULL;
    int rc = icms_audit_checkpoint(c->db, sk, sizeof sk, &out);
    memset(sk, 0, sizeof sk);
    return cli_finish(rc, out);
}

int cli_audit_verify(cli *c)
{
    if (!c->checkpoint_file != !c->public_key)
        return cli_usage(c, "give --checkpoint FILE and --public-key HEX together");
    char *checkpoint = NULL;
    uint8_t *pk = NULL;
    size_t pk_len = 0;
    if (c->checkpoint_file) {
        int err = cli_read_file(c->checkpoint_file, &checkpoint, NULL);
        if (err)
            return cli_usage(c, "cannot read %s: %s", c->checkpoint_file, strerror(-err));
        if (icms_gapcoin_hex_decode(c->public_key, &pk, &pk_len) != ICMS_OK) {
            free(checkpoint);
            return cli_fail(ICMS_EINVALID, "--public-key is not hex");
        }
    }
    char *report = NULL;
    int rc = icms_audit_verify(c->db, checkpoint, pk, pk_len, &report);
    free(checkpoint);
    icms_free(pk);
    if (rc == ICMS_ECORRUPT && report) {
        /* A broken chain is a finding: the report on stdout, and exit 1. */
        printf("%s\n", report);
        icms_free(report);
        return CLI_EXIT_REFUSED;
    }
    return cli_finish(rc, report);
}
