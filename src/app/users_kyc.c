/*
 * Users: the KYC flow. The user submits (to PENDING, with metadata); only an
 * administrator or the host decides (VERIFIED, REJECTED). The moves are a
 * table, not a thicket of ifs.
 */
#include "icms/users.h"

#include <string.h>

#include "app/user_doc.h"
#include "core/core.h"
#include "core/uuid.h"

#define BY_SELF 0x1u
#define BY_ADMIN 0x2u

static const struct kyc_move {
    icms_kyc_status_t from;
    icms_kyc_status_t to;
    unsigned who;
} moves[] = {
    {ICMS_KYC_NONE, ICMS_KYC_PENDING, BY_SELF | BY_ADMIN},     /* first submission */
    {ICMS_KYC_REJECTED, ICMS_KYC_PENDING, BY_SELF | BY_ADMIN}, /* resubmission */
    {ICMS_KYC_PENDING, ICMS_KYC_VERIFIED, BY_ADMIN},
    {ICMS_KYC_PENDING, ICMS_KYC_REJECTED, BY_ADMIN},
    {ICMS_KYC_VERIFIED, ICMS_KYC_REJECTED, BY_ADMIN}, /* a verification withdrawn */
};

struct kyc_arg {
    uint8_t id[16];
    icms_kyc_status_t to;
    const cJSON *metadata; /* PENDING: the submitted document */
    const char *note;      /* a decision's note, or NULL */
};

static const struct kyc_move *find_move(icms_kyc_status_t from, icms_kyc_status_t to)
{
    for (size_t i = 0; i < ICMS__ARRAY_LEN(moves); i++)
        if (moves[i].from == from && moves[i].to == to)
            return &moves[i];
    return NULL;
}

/*
 * May this actor make this move on this user? ICMS_EFORBIDDEN words why not.
 * move is NULL when the table has no such move (refused after this, as a
 * transition): who may submit or decide does not depend on the current state.
 */
static int check_who(const icms__cmd *cmd, const uint8_t id[16], icms_kyc_status_t to,
                     const struct kyc_move *move)
{
    bool deciding = to != ICMS_KYC_PENDING;
    unsigned need = icms__user_actor_is_admin(&cmd->actor) ? BY_ADMIN : BY_SELF;
    if (need == BY_SELF && deciding)
        return icms__error(ICMS_EFORBIDDEN, "status: only an administrator may decide KYC");
    /* Four eyes: an administrator does not decide their own KYC; the host may. */
    if (need == BY_ADMIN && deciding && icms__actor_is_user(&cmd->actor, id))
        return icms__error(ICMS_EFORBIDDEN,
                           "status: an administrator may not decide their own KYC");
    if (move && !(move->who & need))
        return icms__error(ICMS_EFORBIDDEN, "status: not allowed for this actor");
    return ICMS_OK;
}

/* Append {status, at, by, note?} and keep the last ICMS_USER_KYC_HISTORY_MAX entries. */
static int append_history(icms__cmd *cmd, cJSON *kyc, icms_kyc_status_t to, const char *note)
{
    cJSON *history = cJSON_GetObjectItemCaseSensitive(kyc, "history");
    if (!cJSON_IsArray(history)) {
        cJSON_DeleteItemFromObjectCaseSensitive(kyc, "history");
        int rc = icms__json_add_array(kyc, "history", &history);
        if (rc)
            return rc;
    }
    cJSON *entry = cJSON_CreateObject();
    int rc = entry ? icms__json_add_string(entry, "status", icms_kyc_status_name(to))
                   : icms__error(ICMS_ENOMEM, "out of memory");
    if (rc == ICMS_OK)
        rc = icms__json_add_time(entry, "at", cmd->now_ms);
    if (rc == ICMS_OK)
        rc = icms__json_add_string(entry, "by", cmd->actor.id_text);
    if (rc == ICMS_OK && note)
        rc = icms__json_add_string(entry, "note", note);
    if (rc) {
        cJSON_Delete(entry);
        return rc;
    }
    if ((rc = icms__json_add(history, NULL, entry)))
        return rc;
    while (cJSON_GetArraySize(history) > ICMS_USER_KYC_HISTORY_MAX)
        cJSON_DeleteItemFromArray(history, 0);
    return ICMS_OK;
}

static int set_kyc(icms__cmd *cmd)
{
    const struct kyc_arg *arg = cmd->arg;
    char id_text[ICMS_UUID_STRING_SIZE];
    icms__uuid_format(arg->id, id_text);
    cJSON *old = NULL, *doc = NULL;
    int rc = icms__user_load_target(cmd, arg->id, true, cmd->name, &old);
    if (rc == ICMS_OK)
        rc = icms__user_require_not_erased(old);
    icms_kyc_status_t from = ICMS_KYC_NONE;
    if (rc == ICMS_OK) {
        const char *now = icms__json_get_string(icms__json_get(old, "kyc"), "status");
        if (!now || icms_kyc_status_parse(now, &from) != ICMS_OK)
            rc = icms__error(ICMS_ECORRUPT, "user record has no valid KYC status");
    }
    const struct kyc_move *move = NULL;
    if (rc == ICMS_OK) {
        move = find_move(from, arg->to);
        rc = check_who(cmd, arg->id, arg->to, move);
    }
    if (rc == ICMS_OK && !move)
        rc = icms__error(ICMS_EINVALID_TRANSITION, "status: KYC cannot go from %s to %s",
                         icms_kyc_status_name(from), icms_kyc_status_name(arg->to));
    cJSON *kyc = NULL;
    if (rc == ICMS_OK) {
        doc = cJSON_Duplicate(old, true);
        kyc = doc ? cJSON_GetObjectItemCaseSensitive(doc, "kyc") : NULL;
        if (!kyc)
            rc = doc ? icms__error(ICMS_ECORRUPT, "user record has no kyc")
                     : icms__error(ICMS_ENOMEM, "out of memory");
    }
    if (rc == ICMS_OK)
        rc = icms__user_set_string(kyc, "status", icms_kyc_status_name(arg->to));
    if (rc == ICMS_OK && arg->metadata) {
        cJSON *copy = cJSON_Duplicate(arg->metadata, true);
        cJSON_DeleteItemFromObjectCaseSensitive(kyc, "metadata");
        rc = copy ? icms__json_add(kyc, "metadata", copy)
                  : icms__error(ICMS_ENOMEM, "out of memory");
    }
    if (rc == ICMS_OK)
        rc = append_history(cmd, kyc, arg->to, arg->note);
    if (rc == ICMS_OK)
        rc = icms__user_save(cmd, arg->id, old, doc);
    cJSON *audit = NULL, *event = NULL;
    if (rc == ICMS_OK) {
        audit = cJSON_CreateObject();
        event = cJSON_CreateObject();
        rc = audit && event ? ICMS_OK : icms__error(ICMS_ENOMEM, "out of memory");
        for (int i = 0; rc == ICMS_OK && i < 2; i++) {
            cJSON *target = i ? event : audit;
            rc = icms__json_add_string(target, "from", icms_kyc_status_name(from));
            if (rc == ICMS_OK)
                rc = icms__json_add_string(target, "to", icms_kyc_status_name(arg->to));
        }
    }
    if (rc == ICMS_OK)
        rc = icms__user_finish(cmd, "user.set_kyc", "user.kyc_changed", id_text, doc, audit, event);
    else {
        cJSON_Delete(audit);
        cJSON_Delete(event);
    }
    cJSON_Delete(old);
    cJSON_Delete(doc);
    return rc;
}

static const icms__json_field note_fields[] = {
    ICMS__JSON_F_STRING("note", ICMS__JSON_REQUIRED, 1, ICMS_USER_KYC_NOTE_MAX),
};
static const icms__json_schema note_schema = ICMS__JSON_SCHEMA(note_fields);

int icms_user_set_kyc(icms_db *db, const icms_request *req, const char *id, const char *status,
                      const char *document, char **out)
{
    if (out)
        *out = NULL;
    struct kyc_arg arg = {{0}, ICMS_KYC_NONE, NULL, NULL};
    int rc = icms__user_parse_id(id, arg.id);
    if (rc)
        return rc;
    if (!status || icms_kyc_status_parse(status, &arg.to) != ICMS_OK || arg.to == ICMS_KYC_NONE)
        return icms__error(ICMS_EINVALID, "status: must be one of PENDING, VERIFIED, REJECTED");
    cJSON *parsed = NULL;
    if (arg.to == ICMS_KYC_PENDING) {
        if (!document)
            return icms__error(ICMS_EINVALID, "metadata: is required when submitting KYC");
        rc =
            icms__user_parse_input("metadata", document, ICMS_USER_KYC_METADATA_MAX, NULL, &parsed);
        if (rc == ICMS_OK && !cJSON_IsObject(parsed))
            rc = icms__error(ICMS_EINVALID, "metadata: must be an object");
        /* A document of its own: its name goes in front of the field ("metadata: files[2]: ...").
         */
        if (rc == ICMS_OK && (rc = icms__json_check(parsed, &icms__user_kyc_metadata_schema)))
            rc = icms__error_wrap(rc, "metadata");
        arg.metadata = parsed;
    } else if (document) {
        rc = icms__user_parse_input("note", document, 8 * ICMS_USER_KYC_NOTE_MAX + 64, &note_schema,
                                    &parsed);
        if (rc == ICMS_OK)
            arg.note = icms__json_get_string(parsed, "note");
    }
    cJSON *request = NULL;
    if (rc == ICMS_OK) {
        cJSON *material = cJSON_CreateObject();
        rc = material ? icms__json_add_string(material, "status", status)
                      : icms__error(ICMS_ENOMEM, "out of memory");
        if (rc == ICMS_OK && parsed) {
            cJSON *copy = cJSON_Duplicate(parsed, true);
            rc = copy ? icms__json_add(material, "document", copy)
                      : icms__error(ICMS_ENOMEM, "out of memory");
        }
        request = rc == ICMS_OK ? icms__user_request_doc(id, "kyc", material) : NULL;
        cJSON_Delete(material);
        if (rc == ICMS_OK && !request)
            rc = ICMS_ENOMEM;
    }
    if (rc == ICMS_OK)
        rc = icms__command(db, req, "user.set_kyc", request, set_kyc, &arg, out);
    cJSON_Delete(request);
    cJSON_Delete(parsed);
    return rc;
}
