/*
 * Participation requests: investors asking to take part in a project, by a
 * share of its products or by capital for a share of its profit.
 *
 * Conventions as in icms/projects.h: JSON text out in *out (freed with
 * icms_free), amounts in integer base units. Expected errors: ICMS_EINVALID,
 * ICMS_ENOTFOUND, ICMS_EFORBIDDEN, ICMS_EINVALID_TRANSITION, ICMS_EEXISTS (an
 * open request already), ICMS_ELIMIT (a cap would be exceeded).
 */
#ifndef ICMS_PARTICIPATIONS_H
#define ICMS_PARTICIPATIONS_H

#include "icms/db.h"
#include "icms/request.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Ask to take part in a PUBLISHED or FUNDING project before its deadline.
 * json: {"type":"PRODUCTS","items":[{"product_id":...,"units":N}, ...]} or
 * {"type":"PROFIT","capital":N}. The acting user needs the INVESTOR role (and
 * VERIFIED KYC unless the database was opened with kyc_optional); one open
 * request per investor per project. The result carries the quoted
 * commitment, fixed at approval. Emits participation.requested.
 */
ICMS_EXTERN int icms_participation_request(icms_db *db, const icms_request *req,
                                           const char *project_id, const char *json, char **out);

/**
 * The project's owner accepts a pending request: its commitment is fixed and
 * reserved (never beyond the funding target or a product's quantity). The
 * first approval moves the project from PUBLISHED to FUNDING.
 */
ICMS_EXTERN int icms_participation_approve(icms_db *db, const icms_request *req,
                                           const char *participation_id, char **out);

/** The project's owner declines a pending request, saying why (1..500 bytes). */
ICMS_EXTERN int icms_participation_reject(icms_db *db, const icms_request *req,
                                          const char *participation_id, const char *reason,
                                          char **out);

/** The investor takes back their pending request. */
ICMS_EXTERN int icms_participation_withdraw(icms_db *db, const icms_request *req,
                                            const char *participation_id, char **out);

/** Read a request: its investor, the project's owner, admins. */
ICMS_EXTERN int icms_participation_get(icms_db *db, const icms_request *req,
                                       const char *participation_id, char **out);

/**
 * List requests, oldest first. filter (may be NULL): {project_id?,
 * investor_id?, status?, limit?: 1..100, after?}. Investors see their own;
 * a project's owner sees its requests (filter by project_id); admins all.
 * Without a filter a user gets their own requests. *out: {"items", "next"}.
 */
ICMS_EXTERN int icms_participation_list(icms_db *db, const icms_request *req, const char *filter,
                                        char **out);

#ifdef __cplusplus
}
#endif

#endif /* ICMS_PARTICIPATIONS_H */
