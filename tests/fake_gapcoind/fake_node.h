/*
 * Start and stop tests/fake_gapcoind/fake_gapcoind.py from a cmocka test: a
 * real child process serving JSON-RPC on 127.0.0.1. Failures fail the test.
 */
#ifndef ICMS_TESTS_FAKE_NODE_H
#define ICMS_TESTS_FAKE_NODE_H

#include <sys/types.h>

#define FAKE_NODE_MAX_NAMES 32
#define FAKE_NODE_MAX_BLOCKS 64

typedef struct fake_node {
    pid_t pid;
    int port;
    char generation[16];
    size_t name_count;
    char names[FAKE_NODE_MAX_NAMES][32];
    char txids[FAKE_NODE_MAX_NAMES][65];
    size_t block_count;
    char blocks[FAKE_NODE_MAX_BLOCKS][65];
} fake_node;

#define FAKE_NODE_USER "gapuser"
#define FAKE_NODE_PASSWORD "s3cret-Pa55word"

/*
 * Start the fake node on tests/data/<scenario>; extra_args (NULL-terminated,
 * may be NULL) are passed on (e.g. "--tls", cert, key). Returns once it
 * listens.
 */
void fake_node_start(fake_node *node, const char *scenario, const char *const *extra_args);

/* Kill the node and reap it. Safe to call twice. */
void fake_node_stop(fake_node *node);

/* The txid the scenario named name; fails the test when unknown. */
const char *fake_node_txid(const fake_node *node, const char *name);

/* "http://127.0.0.1:PORT" + path, in a static buffer (scheme "https" when tls is set). */
const char *fake_node_url(const fake_node *node, const char *path, int tls);

/* A TCP port on 127.0.0.1 that nothing listens on (bound, then closed). */
int fake_node_unused_port(void);

#endif
