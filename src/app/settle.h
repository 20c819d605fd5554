/*
 * Settling what libicms owes (a refund, a payout, a release of escrow to a
 * project's owner) with the transaction that paid it: the transaction must
 * pay the record's address at least its amount, at its required depth; then
 * the record is PAID and the amount leaves the due account for the chain on
 * the ledger. One transaction settles one record of a kind (a unique txid
 * index).
 */
#ifndef ICMS_SRC_APP_SETTLE_H
#define ICMS_SRC_APP_SETTLE_H

#include "app/db.h"
#include "icms/request.h"
#include "kv/record.h"

typedef struct icms__settle_kind {
    const char *noun;              /* "refund": messages, audit and event names */
    const icms__record_type *type; /* records with id, status DUE|PAID, amount, address,
                                      <recipient>, required_confirmations, txid, paid_at */
    const char *recipient;         /* "investor_id": the field naming whom it is owed */
    const char *due_account;       /* "refunds_due": the account (of the recipient) it leaves */
    const char *event;             /* "refund.paid" */
    bool counts_as_refund;         /* paid amounts add to the investor's refunded history */
} icms__settle_kind;

int icms__settle(icms_db *db, const icms_request *req, const icms__settle_kind *kind,
                 const char *id, const char *txid, char **out);

#endif
