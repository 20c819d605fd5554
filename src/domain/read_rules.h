/*
 * Who may see what: whether a project is visible to a viewer, and which
 * participations, payments, refunds, payouts and releases a viewer may list.
 * Pure; thread-safe. Rendered in docs/domain.md ("Who may see what").
 *
 * Seeing is not acting: these rules read who the viewer is (kind, roles) and
 * how they relate to the record (owner_id), but unlike icms__parties() a
 * relationship counts without its role: an owner whose OWNER role was
 * removed still sees their own drafts and their project's money.
 */
#ifndef ICMS_DOMAIN_READ_RULES_H
#define ICMS_DOMAIN_READ_RULES_H

#include <stdbool.h>

#include "icms/types.h"

/* Who is looking. */
typedef struct icms__viewer {
    icms_actor_kind_t kind; /* USER, or the trusted HOST, or the library itself (SYSTEM) */
    bool anonymous;         /* a USER request without an id: nobody in particular */
    unsigned roles;         /* icms_role_t bits of a USER (ignored for HOST and SYSTEM) */
    bool owns_project;      /* the viewer is the project's owner (its owner_id), any roles */
} icms__viewer;

/*
 * Whether the viewer sees everything (drafts, any project's records): the
 * host, the library itself, and users with the ADMIN role (not anonymous).
 */
bool icms__viewer_privileged(const icms__viewer *viewer);

/*
 * May `viewer` see a project in `state`? Every state but DRAFT is public
 * (anonymous viewers included); a DRAFT is seen by its owner and by
 * privileged viewers only. An unknown state is treated as a DRAFT (closed).
 * A NULL viewer sees what the public sees.
 */
bool icms__project_visible_to(icms_project_state_t state, const icms__viewer *viewer);

/* Which records a listing reads: whose, or which index. */
typedef enum icms__list_scope_t {
    ICMS__LIST_PROJECT = 0,  /* every record of the named project */
    ICMS__LIST_INVESTOR = 1, /* every record of the named investor */
    ICMS__LIST_OWN = 2,      /* the viewer's own records (the filter only narrows them) */
    ICMS__LIST_OWNER = 3,    /* releases: every release of the named owner */
    ICMS__LIST_STATUS = 4    /* releases: every release in the named status */
} icms__list_scope_t;

/* What a listing asks for. */
typedef struct icms__list_facts {
    icms__viewer viewer;     /* owns_project: the viewer owns the named project */
    bool project_named;      /* the filter names a project_id (it wins over investor_id) */
    bool investor_named;     /* the filter names an investor_id */
    bool investor_is_viewer; /* ...and it is the viewer's own id */
} icms__list_facts;

/*
 * May the viewer list `noun` records ("payment", ...) as the filter asks, and
 * from which index? Checked in this order:
 *   1. anonymous viewers list nothing: ICMS_EFORBIDDEN (before anything is
 *      looked up, so a project's existence is not revealed);
 *   2. by project: its owner and privileged viewers, else ICMS_EFORBIDDEN;
 *   3. by investor: that investor and privileged viewers, else ICMS_EFORBIDDEN;
 *   4. no filter: a non-privileged viewer lists their own (ICMS__LIST_OWN);
 *      a privileged one must name a project or investor: ICMS_EINVALID.
 * Returns 0 and sets *scope, or the code with a message naming `noun`;
 * ICMS_EINVALID for NULL arguments. The project's own visibility (a draft is
 * reported as missing) is checked by whoever loads it, before step 2.
 */
int icms__list_scope(const char *noun, const icms__list_facts *facts,
                     icms__list_scope_t *scope);

/* What a listing of releases asks for. A release names its owner (owner_id) itself. */
typedef struct icms__release_list_facts {
    icms__viewer viewer;  /* owns_project is not read: whose release it is, is in the release */
    bool project_named;   /* the filter names a project_id */
    bool owner_named;     /* the filter names an owner_id */
    bool owner_is_viewer; /* ...and it is the viewer's own id */
    bool status_named;    /* the filter names a status */
} icms__release_list_facts;

/*
 * May the viewer list releases as the filter asks, and which? Releases are an
 * owner's money, so unlike icms__list_scope() a project_id does not widen what
 * a viewer without admin rights sees. Checked in this order:
 *   1. anonymous viewers list nothing: ICMS_EFORBIDDEN;
 *   2. without admin rights: naming another owner_id is ICMS_EFORBIDDEN;
 *      otherwise the viewer's own releases (ICMS__LIST_OWN; a project_id or
 *      status only narrows them, so another's project lists nothing);
 *   3. with admin rights, the narrowest the filter names: the project's
 *      (ICMS__LIST_PROJECT), else the owner's (ICMS__LIST_OWNER), else those
 *      in the status (ICMS__LIST_STATUS); naming none is ICMS_EINVALID.
 * Returns 0 and sets *scope, or the code with a message (*scope untouched);
 * ICMS_EINVALID for NULL arguments.
 */
int icms__release_list_scope(const icms__release_list_facts *facts, icms__list_scope_t *scope);

#endif
