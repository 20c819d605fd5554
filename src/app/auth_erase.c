/* What erasing a user removes from auth (called from the users erase hook). */
#include <string.h>

#include "app/auth_cmd.h"
#include "core/core.h"

struct ids {
    uint8_t (*ids)[16];
    size_t count, cap;
};

static int collect(const uint8_t id[16], void *payload)
{
    struct ids *l = payload;
    if (l->count == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8;
        void *grown = icms__realloc(l->ids, cap * 16);
        if (!grown)
            return icms__error(ICMS_ENOMEM, "out of memory");
        l->ids = grown;
        l->cap = cap;
    }
    memcpy(l->ids[l->count++], id, 16);
    return 0;
}

static int by_user(icms__tx *tx, const icms__record_type *type, const uint8_t user_id[16],
                   struct ids *l)
{
    icms__key values;
    icms__key_init(&values);
    icms__key_id(&values, user_id);
    l->count = 0;
    return icms__record_scan_index(tx, type, "by_user", &values, NULL, 0, collect, l);
}

int icms__auth_erase_user(icms__cmd *cmd, const uint8_t user_id[16])
{
    struct ids l = {NULL, 0, 0};
    int rc = by_user(cmd->tx, &icms__auth_identity_record, user_id, &l);
    for (size_t i = 0; rc == ICMS_OK && i < l.count; i++)
        rc = icms__record_delete(cmd->tx, &icms__auth_identity_record, l.ids[i]);
    if (rc == ICMS_OK)
        rc = by_user(cmd->tx, &icms__auth_session_record, user_id, &l);
    for (size_t i = 0; rc == ICMS_OK && i < l.count; i++)
        rc = icms__auth_delete_session(cmd->tx, l.ids[i]);
    icms__free(l.ids);
    if (rc == ICMS_OK) {
        rc = icms__record_delete(cmd->tx, &icms__auth_password_record, user_id);
        if (rc == ICMS_ENOTFOUND) {
            icms_error_clear();
            rc = ICMS_OK;
        }
    }
    return rc;
}
