/*
 * A simulated Gapcoin node for `icms demo`: a small in-memory chain served
 * through the transport port (icms/sys/transport.h). Its post() answers the
 * JSON-RPC calls a payment verifier makes (getblockcount, getblockhash,
 * getblock, getblockheader, getrawtransaction, getnewaddress) from blocks and
 * transactions in real Gapcoin serialization, so the library decodes them and
 * recomputes every txid itself, exactly as against a real node. The headers
 * carry no real proof of work (finding prime gaps takes a miner), so the demo
 * verifies in RPC-trust mode (docs/gapcoin.md).
 */
#ifndef ICMS_CLI_SIM_H
#define ICMS_CLI_SIM_H

#include <stddef.h>
#include <stdint.h>

#include "icms/gapcoin.h"
#include "icms/sys/transport.h"

typedef struct sim_chain sim_chain;

/* A chain with one block (a coinbase) on network. NULL when out of memory. */
sim_chain *sim_new(icms_gapcoin_network_t network);
void sim_free(sim_chain *chain);

/*
 * A transport answering from chain (borrowed: the chain must outlive every
 * client using the transport). Hand it to icms_rpc_client_new.
 */
int sim_transport(sim_chain *chain, icms_transport **out);

/*
 * Broadcast a transaction that pays amount to address (and change to the
 * wallet), into the mempool. txid_hex gets its display-order txid.
 * 0, or a negative icms code.
 */
int sim_pay(sim_chain *chain, const char *address, int64_t amount, char txid_hex[65]);

/* A P2PKH address of the demo's wallet for label (icms_free). */
int sim_wallet_address(sim_chain *chain, const char *label, char **out);

/* Mine n blocks; the first takes every transaction in the mempool. */
int sim_mine(sim_chain *chain, unsigned n);

/* Height of the best chain, and how many JSON-RPC calls were answered. */
int64_t sim_height(const sim_chain *chain);
unsigned long sim_calls(const sim_chain *chain);

#endif
