/*
 * Import projects and their product catalogs (the seed's Project Service).
 *
 * Every call takes the database and a request context (icms/request.h),
 * returns 0 or a negative icms_error_t, and hands back the resulting record
 * as JSON text in *out (may be NULL when not wanted), freed with icms_free().
 * JSON documents in and out are described in docs/projects.md; amounts are
 * integers in base units (1 GAP = 100,000,000 base units).
 *
 * Expected errors: ICMS_EINVALID (bad input; the message names the field),
 * ICMS_ENOTFOUND (no such project, or the caller may not see it),
 * ICMS_EFORBIDDEN (the caller may see it but not do this),
 * ICMS_EINVALID_TRANSITION (not in this state, or a rule's condition fails),
 * ICMS_EUNAUTHENTICATED (the acting user is unknown or inactive).
 * Threads: any call from any thread with the same handle.
 */
#ifndef ICMS_PROJECTS_H
#define ICMS_PROJECTS_H

#include "icms/db.h"
#include "icms/request.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Create a project in DRAFT, owned by the acting user (who must hold the
 * OWNER role). json: {title, description?, currency?: "GAP", expiry_date,
 * exporter?, shipping_costs?, products?: [...], min_ticket?, investor_cap?,
 * confirmations?, payout_address?}. Emits project.created.
 */
ICMS_EXTERN int icms_project_create(icms_db *db, const icms_request *req, const char *json,
                                    char **out);

/** Change a DRAFT project's details (any field of create but products). Owner only. */
ICMS_EXTERN int icms_project_update(icms_db *db, const icms_request *req, const char *project_id,
                                    const char *json, char **out);

/**
 * Read a project: its owner and admins always; everyone once it is published.
 * payout_address is handed only to the owner, admins and the host; other
 * readers get the project without that field (as from icms_project_list).
 */
ICMS_EXTERN int icms_project_get(icms_db *db, const icms_request *req, const char *project_id,
                                 char **out);

/**
 * List projects, oldest first. filter (may be NULL): {state?, owner_id?,
 * limit?: 1..100 (default 50), after?: the last id of the previous page}.
 * *out: {"items": [...], "next": id or null}. Drafts are listed only to
 * admins and to their owner (filter by owner_id). Items carry
 * payout_address for the owner, admins and the host only.
 */
ICMS_EXTERN int icms_project_list(icms_db *db, const icms_request *req, const char *filter,
                                  char **out);

/** DRAFT -> PUBLISHED: needs a product, a positive target and a deadline ahead. Owner only. */
ICMS_EXTERN int icms_project_publish(icms_db *db, const icms_request *req,
                                     const char *project_id, char **out);

/**
 * Give or change the Gapcoin address the project's owner is paid at when
 * its escrow is released (icms_project_approve). The owner (or the host),
 * until the project is approved; the address must be one of the database's
 * network. The same field, payout_address, may be given at creation and
 * while a draft is edited. Emits project.updated.
 * Errors: ICMS_EINVALID (not an address of this network), ICMS_EFORBIDDEN,
 * ICMS_EINVALID_TRANSITION (approved or ended: the release holds the address).
 */
ICMS_EXTERN int icms_project_set_payout_address(icms_db *db, const icms_request *req,
                                                const char *project_id, const char *address,
                                                char **out);

/**
 * PENDING_ADMIN_APPROVAL -> APPROVED. Admin only. In the same transaction
 * everything the project's escrow holds becomes due to its owner: a release
 * DUE to the project's payout_address (ICMS_EINVALID_TRANSITION when the
 * owner has given none), settled with icms_release_record (icms/payments.h).
 * *out is the project, with its release_id.
 */
ICMS_EXTERN int icms_project_approve(icms_db *db, const icms_request *req,
                                     const char *project_id, char **out);

/**
 * APPROVED -> IN_TRANSIT with the shipment's logistics document:
 * {container_number (ISO 6346), vessel, bill_of_lading, port_of_loading,
 * port_of_discharge, eta, carrier?, notes?}. Admin only.
 */
ICMS_EXTERN int icms_project_ship(icms_db *db, const icms_request *req, const char *project_id,
                                  const char *logistics_json, char **out);

/** IN_TRANSIT -> COMPLETED. Admin only. */
ICMS_EXTERN int icms_project_complete(icms_db *db, const icms_request *req,
                                      const char *project_id, char **out);

/**
 * Cancel a project, recording why (1..500 bytes). The owner may cancel in
 * DRAFT, PUBLISHED and FUNDING; an admin in any state before IN_TRANSIT.
 * Open participation requests end in the same transaction. An approved
 * project's release, while still DUE, is voided back into the escrow and
 * refunded with the rest; once it is PAID the project can no longer be
 * cancelled (ICMS_EINVALID_TRANSITION).
 */
ICMS_EXTERN int icms_project_cancel(icms_db *db, const icms_request *req, const char *project_id,
                                    const char *reason, char **out);

/** Add a product to a DRAFT project's catalog: {name, unit, quantity, unit_price, ...}. */
ICMS_EXTERN int icms_product_add(icms_db *db, const icms_request *req, const char *project_id,
                                 const char *json, char **out);

/** Change fields of a product of a DRAFT project. */
ICMS_EXTERN int icms_product_update(icms_db *db, const icms_request *req,
                                    const char *project_id, const char *product_id,
                                    const char *json, char **out);

/** Remove a product from a DRAFT project. */
ICMS_EXTERN int icms_product_remove(icms_db *db, const icms_request *req,
                                    const char *project_id, const char *product_id, char **out);

/**
 * The library's periodic work, as the system actor: projects past their
 * deadline and not fully funded become EXPIRED (held for the grace window
 * while a submitted payment is unconfirmed). Idempotent and safe to run from
 * several processes at once; works in bounded batches. *report_out (may be
 * NULL): {"expired": N, "held": N, "batches": N}.
 */
ICMS_EXTERN int icms_tick(icms_db *db, char **report_out);

#ifdef __cplusplus
}
#endif

#endif /* ICMS_PROJECTS_H */
