/*
 * The funding ledger: immutable double-entry records of every movement of
 * money libicms knows about.
 *
 * An entry is ("ledger", seq) -> {seq, at, kind, postings: [{account,
 * amount}], ref: {...}} where the postings' amounts sum to exactly zero.
 * Entries are never changed or removed; a correction is a new entry. The
 * balance of each account is cached under ("balance", account) in the same
 * transaction as the entry, and icms_check recomputes every balance from the
 * entries.
 *
 * Accounts (ids are UUID text):
 *   chain                       the Gapcoin network: money in is a debit here
 *   escrow:<project>            confirmed contributions held for a project
 *   refunds_due:<investor>      owed back to an investor, not yet paid
 *   payouts_due:<investor>      owed to an investor on completion, not yet paid
 *   owner_due:<owner>           the escrow released to a project's owner on approval, not yet
 *                               paid (icms_release_record settles it)
 */
#ifndef ICMS_SRC_APP_LEDGER_H
#define ICMS_SRC_APP_LEDGER_H

#include <cjson/cJSON.h>

#include "kv/tx.h"

#define ICMS__ACCOUNT_MAX 64
#define ICMS__LEDGER_MAX_POSTINGS 8

typedef struct icms__posting {
    char account[ICMS__ACCOUNT_MAX];
    int64_t amount; /* positive: credit to the account; negative: debit */
} icms__posting;

/* Fill an account name: "escrow:" + id. */
void icms__account(char out[ICMS__ACCOUNT_MAX], const char *kind, const char *id);

/*
 * Append an entry. Postings with amount 0 are dropped; the rest must sum to
 * zero (ICMS_EINVALID otherwise, or on overflow) and there must be at least
 * two. ref (borrowed, may be NULL) names what the entry is about.
 */
int icms__ledger_post(icms__tx *tx, int64_t at_ms, const char *kind,
                      const icms__posting *postings, size_t count, const cJSON *ref,
                      int64_t *seq_out);

/* The cached balance of an account (0 when it never moved). */
int icms__ledger_balance(icms__tx *tx, const char *account, int64_t *out);

void icms__ledger_prefix(icms__key *key);
void icms__balance_prefix(icms__key *key);

#endif
