/*
 * Counting what a command reads as the database grows (the "reads do not
 * grow" tests): f's database reopened through a read-counting store
 * (support/fault_store.h, which counts reads) with the in-process memchain as its node, and the few steps
 * that fill it: projects, paid participations.
 */
#ifndef ICMS_TEST_SCALE_FIXTURE_H
#define ICMS_TEST_SCALE_FIXTURE_H

#include "app_fixture.h"
#include "memchain.h"
#include "icms/sys/store.h"

#define SCALE_UNIT 100000000LL /* a unit's price and a paid participation's capital: 1 GAP */

/*
 * Reopen f->db on its file through a read-counting store, asking chain (which
 * must outlive the handle) for addresses and transactions; the clock keeps
 * its time. Returns the counting store (the handle owns it).
 */
icms_store *scale_reopen(fx *f, memchain *chain);

/* What the counting store read since the last call (gets + scans + keys scanned); resets it. */
unsigned long scale_reads(icms_store *counting);

/* The write transactions begun since the last call; resets the counts, as scale_reads does. */
unsigned long scale_write_txns(icms_store *counting);

/* A published project of `units` units of SCALE_UNIT, paying its owner at payout (may be NULL). */
void scale_project(fx *f, long long units, const char *payout, char id[37]);


/*
 * u initiates a payment of all the participation owes (idempotency key made
 * up), refunds to chain's address 0; its id in payment.
 */
void scale_initiate(fx *f, memchain *chain, fx_user *u, const char *part, char payment[37]);

/* The payment paid in full by a transaction mined 6 deep, submitted and verified (confirmed). */
void scale_pay(fx *f, memchain *chain, fx_user *u, const char *payment);

/* A new verified investor. */
void scale_investor(fx *f, fx_user *u);

#endif
