/*
 * Payments in Gapcoin, the funding ledger, refunds and payouts (the seed's
 * Payment Service). docs/payments.md has the states, the ledger accounts with
 * a worked example, and what icms_check guarantees.
 *
 * Conventions as in icms/projects.h: JSON text out in *out (freed with
 * icms_free), amounts in integer base units. Verification talks to a Gapcoin
 * node through the RPC client given at icms_open; it never runs inside a
 * store transaction, so a slow node holds no lock.
 */
#ifndef ICMS_PAYMENTS_H
#define ICMS_PAYMENTS_H

#include "icms/db.h"
#include "icms/request.h"

#ifdef __cplusplus
extern "C" {
#endif

/** How long a payment waits for its transaction, from initiation. */
#define ICMS_PAYMENT_WINDOW_MS (24LL * 60 * 60 * 1000)

/**
 * An investor with an approved participation starts paying (part of) what
 * it still owes. json: {"amount"?: N (default: all that is outstanding),
 * "refund_address": "G..." (where refunds go)}. The payment gets a fresh
 * receiving address from the database's address source, the expected
 * amount and an expiry. An idempotency key is required (ICMS_EINVALID
 * without one). Emits payment.initiated.
 * Errors: ICMS_EINVALID, ICMS_ENOTFOUND, ICMS_EFORBIDDEN,
 * ICMS_EINVALID_TRANSITION (the participation or project does not take
 * payments now), ICMS_ETRANSPORT (no receiving address could be had).
 */
ICMS_EXTERN int icms_payment_initiate(icms_db *db, const icms_request *req,
                                      const char *participation_id, const char *json, char **out);

/**
 * Attach the transaction that pays a PENDING payment (its investor, or the
 * host's watcher). A transaction already attached to another payment is
 * refused with ICMS_EEXISTS. Nothing is verified yet: see icms_payment_verify.
 */
ICMS_EXTERN int icms_payment_submit(icms_db *db, const icms_request *req, const char *payment_id,
                                    const char *txid, char **out);

/**
 * Ask the node about a SUBMITTED payment's transaction (or re-check a
 * confirmed one) and apply what it shows: below the required depth the
 * payment waits; at depth it confirms (fully, partially, or with an excess
 * turned into a refund due), funding the project; a transaction that does
 * not pay the address fails the payment; a confirmed one that vanished is
 * reversed. The amounts come from the transaction the library decoded
 * itself, never from the node's JSON. A node that is down or answers
 * garbage gives ICMS_ETRANSPORT and changes nothing.
 */
ICMS_EXTERN int icms_payment_verify(icms_db *db, const icms_request *req, const char *payment_id,
                                    char **out);

/** Most payments icms_payment_verify_batch takes at once. */
#define ICMS_PAYMENT_BATCH_MAX 1000

/**
 * icms_payment_verify for many payments, with every answer applied in ONE
 * store transaction (so one durable commit for all): all are applied, or on
 * any error none is. *out is a JSON array of the payments as they stand.
 * A hidden or missing payment fails the whole batch (ICMS_ENOTFOUND).
 */
ICMS_EXTERN int icms_payment_verify_batch(icms_db *db, const icms_request *req,
                                          const char *const *payment_ids, size_t count,
                                          char **out);

/** Read a payment: its investor, the project's owner, admins. */
ICMS_EXTERN int icms_payment_get(icms_db *db, const icms_request *req, const char *payment_id,
                                 char **out);

/**
 * List payments, oldest first. filter: {project_id?, investor_id?,
 * participation_id?, status?, limit?, after?}; visibility as for
 * participations.
 */
ICMS_EXTERN int icms_payment_list(icms_db *db, const icms_request *req, const char *filter,
                                  char **out);

/** Refunds due and paid. filter: {investor_id?, project_id?, status?, limit?, after?}. */
ICMS_EXTERN int icms_refund_list(icms_db *db, const icms_request *req, const char *filter,
                                 char **out);

/**
 * Settle a refund due with the transaction that paid it (host or admin):
 * the transaction must pay the investor's refund address at least the
 * amount due, at the required depth. A transaction settles one refund only.
 */
ICMS_EXTERN int icms_refund_record(icms_db *db, const icms_request *req, const char *refund_id,
                                   const char *txid, char **out);

/**
 * Compute the distributions of a COMPLETED project, once (admin or host).
 * json: {"profit": N} (>= 0), the profit the owner declares. PRODUCTS
 * participants receive their reserved units; PROFIT participants get their
 * capital back plus a share of the profit pro rata to their capital, shares
 * computed in integers by the largest-remainder method so that they sum to
 * the profit exactly. Each money share becomes a payout due, to the address
 * the investor gave for refunds. *out is the project with its
 * "distribution" document. Errors: ICMS_EINVALID_TRANSITION (not COMPLETED,
 * or already distributed), ICMS_EFORBIDDEN.
 */
ICMS_EXTERN int icms_project_distribute(icms_db *db, const icms_request *req,
                                        const char *project_id, const char *json, char **out);

/** Payouts due and paid. filter as for icms_refund_list. */
ICMS_EXTERN int icms_payout_list(icms_db *db, const icms_request *req, const char *filter,
                                 char **out);

/** Settle a payout with the transaction that paid it, as icms_refund_record does a refund. */
ICMS_EXTERN int icms_payout_record(icms_db *db, const icms_request *req, const char *payout_id,
                                   const char *txid, char **out);

/**
 * Read the release of a project's escrow to its owner (the project's
 * release_id, made on approval): {id, project_id, owner_id, amount, address,
 * required_confirmations, status: "DUE" | "PAID" | "VOIDED", txid,
 * created_at, paid_at, voided_at}. The project's owner, admins, the host.
 */
ICMS_EXTERN int icms_release_get(icms_db *db, const icms_request *req, const char *release_id,
                                 char **out);

/**
 * List releases, oldest first. filter: {project_id?, owner_id?, status?:
 * "DUE" | "PAID" | "VOIDED", limit?, after?}; at least one of the first
 * three (the host's wallet lists {"status": "DUE"}). Admins and the host see
 * all; an owner only their own (by default). *out: {"items", "next"}.
 */
ICMS_EXTERN int icms_release_list(icms_db *db, const icms_request *req, const char *filter,
                                  char **out);

/**
 * Settle a release with the transaction the host's wallet paid the owner
 * with, as icms_refund_record does a refund (host or admin): it must pay the
 * release's address at least the amount due, at the project's depth; a
 * transaction settles one release; a release is settled once.
 * Errors: ICMS_EINVALID (bad txid, or the transaction pays the address too
 * little), ICMS_EINVALID_TRANSITION (not DUE, or not deep enough yet),
 * ICMS_EEXISTS (the transaction settles another release),
 * ICMS_EFORBIDDEN, ICMS_ENOTFOUND, ICMS_ETRANSPORT (the node).
 */
ICMS_EXTERN int icms_release_record(icms_db *db, const icms_request *req, const char *release_id,
                                    const char *txid, char **out);

/**
 * Recompute every balance from the ledger entries and check the invariants:
 * balances match, every entry balances, funded amounts equal the confirmed
 * contributions, commitments and reserved units within their caps, each
 * Gapcoin output funds at most one payment, the audit chain is intact.
 * Host or admin. *report_out: {"ok": bool, "violations": [...], counts}.
 * Returns ICMS_OK when there is no violation, ICMS_ECORRUPT when there is.
 */
ICMS_EXTERN int icms_check(icms_db *db, const icms_request *req, char **report_out);

#ifdef __cplusplus
}
#endif

#endif /* ICMS_PAYMENTS_H */
