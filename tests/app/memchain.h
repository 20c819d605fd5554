/*
 * An in-process Gapcoin node for tests and benchmarks: a transport whose
 * post() answers getrawtransaction and getnewaddress from a chain held in
 * memory, with real-format transactions (the library decodes them and checks
 * their txids as it would a real node's). Transactions are added, mined,
 * buried and dropped (a re-org) at will, with no process or network.
 */
#ifndef ICMS_TEST_MEMCHAIN_H
#define ICMS_TEST_MEMCHAIN_H

#include <stdint.h>

#include "icms/sys/transport.h"

#define MEMCHAIN_MAX_TX 32768

typedef struct memchain memchain;

memchain *memchain_new(void);
void memchain_free(memchain *c);

/* A transport answering from c (c must outlive it); hand it to icms_rpc_client_new. */
icms_transport *memchain_transport(memchain *c);

/* The n-th receiving address the node's wallet hands out (getnewaddress), and its script hex. */
const char *memchain_address(memchain *c, int n, const char **script_hex);

/*
 * A new transaction paying value to the output script (hex), in the mempool.
 * Returns its index; *txid_out (may be NULL) gets its txid.
 */
int memchain_pay(memchain *c, const char *script_hex, int64_t value, const char **txid_out);

/* Mine: every transaction in the mempool enters a block; all in blocks get `blocks` deeper. */
void memchain_mine(memchain *c, int blocks);

/* A re-org drops transaction i from the chain entirely (the node no longer knows it). */
void memchain_drop(memchain *c, int i);

int memchain_count(const memchain *c);

#endif
