/* Who may see what (read_rules.h). */
#include "domain/read_rules.h"

#include "core/core.h"

bool icms__viewer_privileged(const icms__viewer *viewer)
{
    if (viewer == NULL || viewer->anonymous)
        return false;
    switch (viewer->kind) {
    case ICMS_ACTOR_HOST:   /* trusted: acts with an admin's rights */
    case ICMS_ACTOR_SYSTEM: /* the library reading its own records */
        return true;
    case ICMS_ACTOR_USER:
        return (viewer->roles & ICMS_ROLE_ADMIN) != 0;
    }
    return false; /* an unknown kind sees what the public sees */
}

/* The owner relationship, without its role; nobody in particular owns nothing. */
static bool owner(const icms__viewer *viewer)
{
    return viewer != NULL && !viewer->anonymous && viewer->owns_project;
}

bool icms__project_visible_to(icms_project_state_t state, const icms__viewer *viewer)
{
    /* Published or later is public for good: nothing goes back to DRAFT. */
    bool public_state = state != ICMS_PROJECT_DRAFT && icms_project_state_name(state) != NULL;
    return public_state || owner(viewer) || icms__viewer_privileged(viewer);
}

int icms__list_scope(const char *noun, const icms__list_facts *facts, icms__list_scope_t *scope)
{
    if (noun == NULL || facts == NULL || scope == NULL)
        return icms__error(ICMS_EINVALID, "list scope: noun, facts and scope may not be NULL");
    const icms__viewer *v = &facts->viewer;
    if (v->anonymous)
        return icms__error(ICMS_EFORBIDDEN, "%ss are not public", noun);
    bool privileged = icms__viewer_privileged(v);
    if (facts->project_named) {
        /* A project's money is its owner's business (and admins'). */
        if (!privileged && !owner(v))
            return icms__error(ICMS_EFORBIDDEN,
                               "only the project's owner and admins list its %ss", noun);
        *scope = ICMS__LIST_PROJECT;
        return ICMS_OK;
    }
    if (facts->investor_named) {
        if (!privileged && !facts->investor_is_viewer)
            return icms__error(ICMS_EFORBIDDEN, "an investor lists only their own %ss", noun);
        *scope = ICMS__LIST_INVESTOR;
        return ICMS_OK;
    }
    if (privileged) /* an admin has no "own" records to default to */
        return icms__error(ICMS_EINVALID, "filter by project_id or investor_id");
    *scope = ICMS__LIST_OWN;
    return ICMS_OK;
}

int icms__release_list_scope(const icms__release_list_facts *facts, icms__list_scope_t *scope)
{
    if (facts == NULL || scope == NULL)
        return icms__error(ICMS_EINVALID, "release list scope: facts and scope may not be NULL");
    const icms__viewer *v = &facts->viewer;
    if (v->anonymous)
        return icms__error(ICMS_EFORBIDDEN, "releases are not public");
    if (!icms__viewer_privileged(v)) {
        /* Whatever else the filter names only narrows the viewer's own. */
        if (facts->owner_named && !facts->owner_is_viewer)
            return icms__error(ICMS_EFORBIDDEN, "an owner lists only their own releases");
        *scope = ICMS__LIST_OWN;
        return ICMS_OK;
    }
    if (facts->project_named)
        *scope = ICMS__LIST_PROJECT;
    else if (facts->owner_named)
        *scope = ICMS__LIST_OWNER;
    else if (facts->status_named)
        *scope = ICMS__LIST_STATUS;
    else
        return icms__error(ICMS_EINVALID, "filter by project_id, owner_id or status");
    return ICMS_OK;
}
