/*
 * The `gapcoin` subcommands: the library's pure codec and proof-of-work
 * checks on hex from the command line. No database is opened.
 *
 * Hashes are printed in display order (byte-reversed, as nodes and explorers
 * show them); scripts, witnesses and nAdd as the hex of their serialized bytes.
 */
#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "icms/gapcoin.h"
#include "jbuf.h"

static int print_buf(jbuf *b, int status)
{
    char *text = jbuf_take(b);
    if (!text)
        return cli_fail(ICMS_ENOMEM, NULL);
    printf("%s\n", text);
    free(text);
    return status;
}

static void khash(jbuf *b, const char *key, const uint8_t hash[32])
{
    char hex[ICMS_GAPCOIN_HASH_HEX_SIZE];
    icms_gapcoin_hash_to_hex(hash, hex);
    jbuf_kstr(b, key, hex);
}

/* The node generation of --node (default 2606, the current one). */
static bool parse_node(const cli *c, icms_gapcoin_node_t *out)
{
    if (!c->node || strcmp(c->node, "2606") == 0)
        *out = ICMS_GAPCOIN_NODE_2606;
    else if (strcmp(c->node, "0.16") == 0 || strcmp(c->node, "0.16.3") == 0)
        *out = ICMS_GAPCOIN_NODE_0_16;
    else if (strcmp(c->node, "0.9") == 0)
        *out = ICMS_GAPCOIN_NODE_0_9;
    else
        return false;
    return true;
}

/* Decode the hex argument; on failure the error is printed and the status returned. */
static int arg_bytes(const char *hex, uint8_t **bytes, size_t *len)
{
    int rc = icms_gapcoin_hex_decode(hex, bytes, len);
    if (rc)
        return cli_finish(rc, NULL);
    return CLI_EXIT_OK;
}

/* The address of a script for a network and generation as a JSON value (null when none). */
static void script_address(jbuf *b, const uint8_t *script, size_t len,
                           icms_gapcoin_network_t network, icms_gapcoin_node_t node)
{
    char *address = NULL;
    if (icms_gapcoin_script_to_address(script, len, network, node, &address) == ICMS_OK)
        jbuf_str(b, address);
    else
        jbuf_null(b);
    icms_free(address);
}

int cli_gapcoin_decode_tx(cli *c)
{
    unsigned network;
    icms_gapcoin_node_t node;
    cli_network(c, &network);
    if (!parse_node(c, &node))
        return cli_usage(c, "--node must be 0.9, 0.16 or 2606");
    uint8_t *bytes = NULL;
    size_t len = 0;
    int status = arg_bytes(c->argv[0], &bytes, &len);
    if (status)
        return status;
    icms_gapcoin_tx *tx = NULL;
    int rc = icms_gapcoin_tx_decode(bytes, len, &tx);
    icms_free(bytes);
    if (rc)
        return cli_finish(rc, NULL);
    jbuf b;
    jbuf_init(&b);
    jbuf_obj_open(&b);
    khash(&b, "txid", tx->txid);
    khash(&b, "wtxid", tx->wtxid);
    jbuf_ki64(&b, "version", tx->version);
    jbuf_ku64(&b, "locktime", tx->locktime);
    jbuf_ku64(&b, "size", tx->size);
    jbuf_ku64(&b, "base_size", tx->base_size);
    jbuf_ki64(&b, "total_out", tx->total_out);
    jbuf_key(&b, "inputs");
    jbuf_arr_open(&b);
    for (size_t i = 0; i < tx->input_count; i++) {
        const icms_gapcoin_txin *in = &tx->inputs[i];
        jbuf_obj_open(&b);
        khash(&b, "txid", in->prev_txid);
        jbuf_ku64(&b, "vout", in->vout);
        jbuf_khex(&b, "script_sig", in->script_sig, in->script_sig_len);
        jbuf_ku64(&b, "sequence", in->sequence);
        jbuf_key(&b, "witness");
        jbuf_arr_open(&b);
        for (size_t w = 0; w < in->witness_count; w++)
            jbuf_hex(&b, in->witness[w].bytes, in->witness[w].bytes_len);
        jbuf_arr_close(&b);
        jbuf_obj_close(&b);
    }
    jbuf_arr_close(&b);
    jbuf_key(&b, "outputs");
    jbuf_arr_open(&b);
    for (size_t i = 0; i < tx->output_count; i++) {
        const icms_gapcoin_txout *out = &tx->outputs[i];
        jbuf_obj_open(&b);
        jbuf_ku64(&b, "n", i);
        jbuf_ki64(&b, "value", out->value);
        jbuf_khex(&b, "script", out->script, out->script_len);
        jbuf_kstr(&b, "type",
                  icms_gapcoin_script_type_name(
                      icms_gapcoin_script_classify(out->script, out->script_len)));
        jbuf_key(&b, "address");
        script_address(&b, out->script, out->script_len, (icms_gapcoin_network_t)network, node);
        jbuf_obj_close(&b);
    }
    jbuf_arr_close(&b);
    jbuf_obj_close(&b);
    icms_gapcoin_tx_free(tx);
    return print_buf(&b, CLI_EXIT_OK);
}

static void header_fields(jbuf *b, const icms_gapcoin_header *h)
{
    khash(b, "hash", h->hash);
    jbuf_ki64(b, "version", h->version);
    khash(b, "prev_hash", h->prev_hash);
    khash(b, "merkle_root", h->merkle_root);
    jbuf_ku64(b, "time", h->time);
    jbuf_ku64(b, "n_difficulty", h->n_difficulty);
    jbuf_ku64(b, "nonce", h->nonce);
    jbuf_ku64(b, "shift", h->shift);
    jbuf_khex(b, "adder", h->adder, h->adder_len);
    jbuf_ku64(b, "size", h->size);
}

int cli_gapcoin_decode_header(cli *c)
{
    uint8_t *bytes = NULL;
    size_t len = 0;
    int status = arg_bytes(c->argv[0], &bytes, &len);
    if (status)
        return status;
    icms_gapcoin_header h;
    int rc = icms_gapcoin_header_decode(bytes, len, &h);
    icms_free(bytes);
    if (rc)
        return cli_finish(rc, NULL);
    jbuf b;
    jbuf_init(&b);
    jbuf_obj_open(&b);
    header_fields(&b, &h);
    jbuf_obj_close(&b);
    return print_buf(&b, CLI_EXIT_OK);
}

int cli_gapcoin_verify_header(cli *c)
{
    uint8_t *bytes = NULL;
    size_t len = 0;
    int status = arg_bytes(c->argv[0], &bytes, &len);
    if (status)
        return status;
    icms_gapcoin_header h;
    int rc = icms_gapcoin_header_decode(bytes, len, &h);
    icms_free(bytes);
    if (rc)
        return cli_finish(rc, NULL); /* not a header at all */
    icms_gapcoin_pow pow;
    rc = icms_gapcoin_pow_check(&h, &pow);
    jbuf b;
    jbuf_init(&b);
    jbuf_obj_open(&b);
    jbuf_kbool(&b, "valid", rc == ICMS_OK);
    khash(&b, "hash", h.hash);
    jbuf_ku64(&b, "n_difficulty", h.n_difficulty);
    if (pow.computed) {
        jbuf_ku64(&b, "gap", pow.gap);
        jbuf_ku64(&b, "merit", pow.merit);
        jbuf_ku64(&b, "achieved", pow.achieved);
    } else {
        jbuf_key(&b, "gap");
        jbuf_null(&b);
        jbuf_key(&b, "merit");
        jbuf_null(&b);
        jbuf_key(&b, "achieved");
        jbuf_null(&b);
    }
    if (rc)
        jbuf_kstr(&b, "reason", icms_error_last()->message);
    jbuf_obj_close(&b);
    return print_buf(&b, rc ? cli_exit_code(rc) : CLI_EXIT_OK);
}

/* One header a line, hex; blank lines and lines starting with '#' are skipped. */
int cli_gapcoin_verify_chain(cli *c)
{
    icms_gapcoin_chain_options opt = ICMS_GAPCOIN_CHAIN_OPTIONS_INIT;
    unsigned network;
    cli_network(c, &network);
    opt.network = (icms_gapcoin_network_t)network;
    if (c->first_height) {
        char *end = NULL;
        errno = 0;
        long long h = strtoll(c->first_height, &end, 10);
        if (errno || *end || h < 0)
            return cli_usage(c, "--first-height must be a height (0 or more)");
        opt.first_height = h;
    }
    const char *path = c->argc ? c->argv[0] : "-";
    char *text = NULL;
    int err = cli_read_file(path, &text, NULL);
    if (err)
        return cli_usage(c, "cannot read %s: %s", path, strerror(-err));

    uint8_t *all = NULL;
    size_t all_len = 0, count = 0;
    int rc = ICMS_OK;
    char reason[512] = "";
    for (char *line = strtok(text, "\n"); line && rc == ICMS_OK; line = strtok(NULL, "\n")) {
        line[strcspn(line, "\r")] = '\0';
        char *s = line + strspn(line, " \t");
        size_t n = strlen(s);
        while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
            s[--n] = '\0';
        if (!*s || *s == '#')
            continue;
        uint8_t *bytes = NULL;
        size_t len = 0;
        rc = icms_gapcoin_hex_decode(s, &bytes, &len);
        if (rc == ICMS_OK) {
            uint8_t *grown = realloc(all, all_len + len + 1);
            if (!grown) {
                rc = ICMS_ENOMEM;
            } else {
                all = grown;
                memcpy(all + all_len, bytes, len);
                all_len += len;
                count++;
            }
        } else {
            snprintf(reason, sizeof reason, "line for header %zu: %s", count,
                     icms_error_last()->message);
        }
        icms_free(bytes);
    }
    free(text);
    if (rc == ICMS_ENOMEM) {
        free(all);
        return cli_fail(rc, NULL);
    }
    icms_gapcoin_chain_result res;
    memset(&res, 0, sizeof res);
    if (rc == ICMS_OK && count == 0) {
        rc = ICMS_EINVALID;
        snprintf(reason, sizeof reason, "no headers given");
    }
    if (rc == ICMS_OK) {
        rc = icms_gapcoin_chain_verify(all, all_len, &opt, &res);
        if (rc)
            snprintf(reason, sizeof reason, "%s", icms_error_last()->message);
    } else {
        res.failed_index = count;
    }
    free(all);
    jbuf b;
    jbuf_init(&b);
    jbuf_obj_open(&b);
    jbuf_kbool(&b, "valid", rc == ICMS_OK);
    jbuf_ku64(&b, "count", rc == ICMS_OK ? res.count : res.count);
    if (res.count)
        khash(&b, "tip", res.tip);
    else {
        jbuf_key(&b, "tip");
        jbuf_null(&b);
    }
    jbuf_ku64(&b, "total_work", res.total_work);
    if (rc) {
        jbuf_ku64(&b, "index", res.failed_index);
        if (opt.first_height >= 0)
            jbuf_ki64(&b, "height", opt.first_height + (int64_t)res.failed_index);
        jbuf_kstr(&b, "reason", reason);
    }
    jbuf_obj_close(&b);
    return print_buf(&b, rc ? cli_exit_code(rc) : CLI_EXIT_OK);
}

int cli_gapcoin_verify_proof(cli *c)
{
    uint8_t *bytes = NULL;
    size_t len = 0;
    int status = arg_bytes(c->argv[0], &bytes, &len);
    if (status)
        return status;
    icms_gapcoin_merkle_proof *proof = NULL;
    int rc = icms_gapcoin_merkle_proof_verify(bytes, len, &proof);
    icms_free(bytes);
    jbuf b;
    jbuf_init(&b);
    jbuf_obj_open(&b);
    jbuf_kbool(&b, "valid", rc == ICMS_OK);
    if (rc == ICMS_OK) {
        khash(&b, "hash", proof->header.hash);
        khash(&b, "merkle_root", proof->header.merkle_root);
        jbuf_ku64(&b, "tx_count", proof->tx_count);
        jbuf_key(&b, "txids");
        jbuf_arr_open(&b);
        for (size_t i = 0; i < proof->match_count; i++) {
            char hex[ICMS_GAPCOIN_HASH_HEX_SIZE];
            icms_gapcoin_hash_to_hex(proof->matches + 32 * i, hex);
            jbuf_str(&b, hex);
        }
        jbuf_arr_close(&b);
        jbuf_key(&b, "positions");
        jbuf_arr_open(&b);
        for (size_t i = 0; i < proof->match_count; i++)
            jbuf_u64(&b, proof->match_positions[i]);
        jbuf_arr_close(&b);
    } else {
        jbuf_kstr(&b, "reason", icms_error_last()->message);
    }
    jbuf_obj_close(&b);
    icms_gapcoin_merkle_proof_free(proof);
    return print_buf(&b, rc ? cli_exit_code(rc) : CLI_EXIT_OK);
}

int cli_gapcoin_address(cli *c)
{
    unsigned network;
    icms_gapcoin_node_t node;
    cli_network(c, &network);
    if (!parse_node(c, &node))
        return cli_usage(c, "--node must be 0.9, 0.16 or 2606");
    uint8_t *script = NULL;
    size_t len = 0;
    int status = arg_bytes(c->argv[0], &script, &len);
    if (status)
        return status;
    char *address = NULL;
    int rc = icms_gapcoin_script_to_address(script, len, (icms_gapcoin_network_t)network, node,
                                            &address);
    if (rc) {
        icms_free(script);
        return cli_finish(rc, NULL);
    }
    jbuf b;
    jbuf_init(&b);
    jbuf_obj_open(&b);
    jbuf_kstr(&b, "address", address);
    jbuf_kstr(&b, "type", icms_gapcoin_script_type_name(icms_gapcoin_script_classify(script, len)));
    jbuf_kstr(&b, "network", network == ICMS_GAPCOIN_MAIN ? "main" : "test");
    jbuf_key(&b, "addresses");
    jbuf_obj_open(&b);
    static const struct {
        const char *name;
        icms_gapcoin_node_t node;
    } gens[] = {{"0.9", ICMS_GAPCOIN_NODE_0_9},
                {"0.16", ICMS_GAPCOIN_NODE_0_16},
                {"2606", ICMS_GAPCOIN_NODE_2606}};
    for (size_t i = 0; i < 3; i++) {
        jbuf_key(&b, gens[i].name);
        script_address(&b, script, len, (icms_gapcoin_network_t)network, gens[i].node);
    }
    jbuf_obj_close(&b);
    jbuf_obj_close(&b);
    icms_free(address);
    icms_free(script);
    return print_buf(&b, CLI_EXIT_OK);
}

int cli_gapcoin_script(cli *c)
{
    icms_gapcoin_address a;
    int rc = icms_gapcoin_address_decode(c->argv[0], &a);
    if (rc)
        return cli_finish(rc, NULL);
    if (c->network) {
        /* an explicit network must be the address's own */
        unsigned network;
        cli_network(c, &network);
        uint8_t *script = NULL;
        size_t len = 0;
        rc = icms_gapcoin_address_to_script(c->argv[0], (icms_gapcoin_network_t)network, &script,
                                            &len);
        icms_free(script);
        if (rc)
            return cli_finish(rc, NULL);
    }
    jbuf b;
    jbuf_init(&b);
    jbuf_obj_open(&b);
    jbuf_kstr(&b, "address", c->argv[0]);
    jbuf_kstr(&b, "network", a.network == ICMS_GAPCOIN_MAIN ? "main" : "test");
    jbuf_kstr(&b, "type", icms_gapcoin_script_type_name(a.type));
    jbuf_khex(&b, "script", a.script, a.script_len);
    jbuf_ki64(&b, "witness_version", a.witness_version);
    jbuf_khex(&b, "program", a.program, a.program_len);
    jbuf_obj_close(&b);
    return print_buf(&b, CLI_EXIT_OK);
}
