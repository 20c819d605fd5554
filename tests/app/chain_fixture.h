/*
 * A Gapcoin chain for payment tests: the fake gapcoind (a real HTTP JSON-RPC
 * server on 127.0.0.1, tests/fake_gapcoind) started on a scenario the test
 * writes, and a database that verifies against it over the real libcurl
 * transport.
 */
#ifndef ICMS_TEST_CHAIN_FIXTURE_H
#define ICMS_TEST_CHAIN_FIXTURE_H

#include "app_fixture.h"
#include "fake_gapcoind/fake_node.h"

#define CHAIN_WALLET 8

typedef struct chain {
    fake_node node;
    char addresses[CHAIN_WALLET][64]; /* what the node's getnewaddress hands out, in turn */
    char scripts[CHAIN_WALLET][64];   /* their output scripts, hex */
    char refund_address[64];          /* an investor's own address */
    char refund_script[64];
    char json[65536];                 /* the scenario being written */
    size_t len;
} chain;

/* Start writing a scenario: wallet addresses and an initial chain of `height` + 1 blocks. */
void chain_begin(chain *c, int height);
/* A transaction paying value to script (hex), named name, as JSON for the scenario. */
const char *chain_tx(chain *c, const char *name, const char *script, long long value);
/* Add raw JSON text to the scenario. */
void chain_append(chain *c, const char *text);
/* A step adding `blocks` blocks; the first holds txs (JSON array text, may be "[]"). */
void chain_step_blocks(chain *c, const char *txs, int blocks, const char *mempool);
/* A step removing the top `disconnect` blocks and adding `blocks` empty ones. */
void chain_step_reorg(chain *c, int disconnect, int blocks, const char *mempool);
/* Finish the scenario with its mempool (JSON array text), write it, start the node. */
void chain_start(chain *c, const char *mempool, const char *test_name);
/* Apply the next step of the scenario. */
void chain_next(chain *c);
void chain_stop(chain *c);

/* Reopen f's database verifying against the node (or an unreachable port when down). */
void chain_attach(fx *f, chain *c, int down);

#endif
