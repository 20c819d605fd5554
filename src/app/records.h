/*
 * The record types of the application and their indexes. Each record is a
 * JSON document (kv/record.h); this is the one place that names their
 * layout's keys, so docs/domain.md can list them from here.
 */
#ifndef ICMS_SRC_APP_RECORDS_H
#define ICMS_SRC_APP_RECORDS_H

#include "kv/record.h"

/*
 * user: {id, name, email, phone, photo_url, roles: ["OWNER", ...],
 *        status: "ACTIVE" | "DEACTIVATED" | "ERASED",
 *        kyc: {status, metadata, history: [...]}, created_at, updated_at}
 * indexes: email (unique, lower-cased)
 */
extern const icms__record_type icms__user_record;

/*
 * project: see src/app/project_doc.h
 * indexes: by_owner (owner_id, id), by_state (state, id), visible (id) for
 * every state but DRAFT, open_deadline (expiry ms, id) while PUBLISHED or FUNDING
 */
extern const icms__record_type icms__project_record;

/*
 * participation: {id, project_id, investor_id, type, items, capital,
 *                 commitment, status, reason, created_at, decided_at}
 * indexes: by_project (project_id, id), by_investor (investor_id, id),
 * open (unique: project_id, investor_id) while PENDING or APPROVED
 */
extern const icms__record_type icms__participation_record;

/*
 * payment: see src/app/payment_doc.h
 * indexes: by_participation, by_project, by_investor, by_status (status, id),
 * open (unique: participation_id) while PENDING or SUBMITTED, txid (unique)
 */
extern const icms__record_type icms__payment_record;

/*
 * refund: {id, payment_id, project_id, investor_id, amount, address, reason,
 *          status: "DUE" | "PAID", txid, created_at, paid_at}
 * indexes: by_investor, by_project, by_status (status, id), txid (unique)
 */
extern const icms__record_type icms__refund_record;

/*
 * payout: {id, project_id, investor_id, participation_id, amount, capital,
 *          profit_share, address, required_confirmations, status: "DUE" |
 *          "PAID", txid, created_at, paid_at}
 * indexes: as refunds
 */
extern const icms__record_type icms__payout_record;

/*
 * release: {id, project_id, owner_id, amount, address, required_confirmations,
 *           status: "DUE" | "PAID" | "VOIDED", txid, created_at, paid_at,
 *           voided_at}
 * indexes: by_project, by_owner, by_status (status, id), txid (unique)
 */
extern const icms__record_type icms__release_record;

#endif
