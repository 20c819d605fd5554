/*
 * Payment and refund documents.
 *
 * Stored payment:
 *   {id, participation_id, project_id, investor_id, status, amount, address,
 *    script, refund_address, required_confirmations, expires_at, late,
 *    txid, failed_txid?, confirmations, block_hash, received, credited, refund_due,
 *    outputs: [{vout, value}], created_at, submitted_at, confirmed_at,
 *    updated_at}
 * amount is what the payment asks for; received what the transaction paid
 * the address; credited what went to the project; refund_due the rest.
 * failed_txid: a FAILED payment whose transaction was then attached to another
 * payment (payments.c, release_failed_holder) holds it there, txid null.
 */
#ifndef ICMS_SRC_APP_PAYMENT_DOC_H
#define ICMS_SRC_APP_PAYMENT_DOC_H

#include "app/command.h"
#include "domain/domain.h"
#include "kv/keys.h"

/* Claims on Gapcoin outputs: ("outpoint", txid, vout) -> payment id, never removed. */
void icms__outpoint_prefix(icms__key *key);
void icms__outpoint_key(icms__key *key, const char *txid, int64_t vout);

int icms__payment_status(const cJSON *payment, icms_payment_status_t *out);

/*
 * Load a payment the actor may see (its investor, the project's owner, admins);
 * *out is the caller's. In a read transaction the transaction forgets it
 * (icms__record_take): read it once.
 */
int icms__payment_load(icms__cmd *cmd, const char *id_text, uint8_t id[16], cJSON **out);

/* Create a refund due of amount to the payment's investor, for reason. */
int icms__refund_create(icms__cmd *cmd, const cJSON *payment, int64_t amount, const char *reason);

/*
 * A project ended (cancelled or expired): every confirmed contribution
 * becomes a refund due, moved out of the project's escrow on the ledger.
 */
int icms__refunds_for_ended_project(icms__cmd *cmd, const cJSON *project);

#endif
