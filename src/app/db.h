/* The handle's insides, for the application layer. */
#ifndef ICMS_SRC_APP_DB_H
#define ICMS_SRC_APP_DB_H

#include "icms/db.h"
#include "icms/gapcoin.h"
#include "icms/rpc.h"
#include "icms/sys/address.h"
#include "icms/sys/clock.h"
#include "icms/sys/store.h"
#include "kv/run.h"

/* How long a submitted, unconfirmed payment holds a project's expiry. */
#define ICMS__DEFAULT_PAYMENT_GRACE_MS (60LL * 60 * 1000)

struct icms_db {
    icms_store *store;
    icms_clock *clock;
    icms__retry_policy retry;
    icms__hints *hints; /* where the append-only logs ended (kv/hints.h) */
    int64_t payment_grace_ms;
    bool kyc_required; /* requesting participation and paying need KYC VERIFIED */
    icms_rpc_client *gapcoin;          /* may be NULL: no verification */
    icms_gapcoin_network_t network;
    icms_address_provider *addresses;  /* may be NULL: the node's getnewaddress */
    bool spv;                          /* verify inclusion and depth, not just the bytes */
    struct icms__events_hub *events;   /* subscribers, events policy, notifier (events_hub.h) */
    struct icms__tick_cursors *tick;   /* where icms_tick's verification stopped (tick_payments.h) */
};

/* Run a command in one write transaction, retried on conflict (kv/run.h). */
/*
 * The SQLite store icms_open makes for options->path: options->sqlite_sync and
 * busy timeout, with the audit, ledger and outpoint prefixes append-only.
 */
int icms__db_open_sqlite(const icms_options *options, icms_store **out);

int icms__db_write(icms_db *db, icms__tx_fn fn, void *arg);
int icms__db_read(icms_db *db, icms__tx_fn fn, void *arg);
int64_t icms__db_now(icms_db *db);

#endif
