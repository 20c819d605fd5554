/*
 * Releasing a project's escrow to its owner (docs/payments.md, "Release to
 * the owner"). The record type, and what the project lifecycle calls.
 */
#ifndef ICMS_SRC_APP_RELEASE_H
#define ICMS_SRC_APP_RELEASE_H

#include "app/command.h"
#include "app/records.h"

/*
 * On approval, in the approving transaction: everything the project's escrow
 * holds becomes due to its owner, at the project's payout_address (a
 * release DUE and the entry release.due: escrow:P -> owner_due:O). Sets
 * project.release_id; the caller saves the project. ICMS_EINVALID_TRANSITION
 * when the owner gave no payout address; ICMS_ECORRUPT when the escrow does
 * not hold what the project says was funded.
 */
int icms__release_create(icms__cmd *cmd, cJSON *project);

/*
 * Before an approved project is cancelled: a release still DUE is voided
 * (release.voided: owner_due:O -> escrow:P) so that the contributions can be
 * refunded from the escrow as for any cancellation. A release already PAID
 * refuses (ICMS_EINVALID_TRANSITION): the money is with the owner. Nothing to
 * do for a project without a release.
 */
int icms__release_void(icms__cmd *cmd, const cJSON *project);

/*
 * Check doc's payout_address, when it has one, against the database's
 * network: ICMS_EINVALID naming the field otherwise.
 */
int icms__payout_address_check(icms_db *db, const cJSON *doc);

#endif
