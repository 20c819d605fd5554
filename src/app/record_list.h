/*
 * Listing records (record_list.c, release_list.c): who may list what is a
 * domain rule (domain/read_rules.h); what is shared here is the listing
 * itself. An index scan offers ids; each record is read, kept when it
 * matches the caller's filter, and paged.
 */
#ifndef ICMS_SRC_APP_RECORD_LIST_H
#define ICMS_SRC_APP_RECORD_LIST_H

#include <cjson/cJSON.h>
#include <stdint.h>

#include "app/command.h"
#include "app/page.h"
#include "app/records.h"
#include "core/json.h"

/* One listing; the query's cmd->arg. */
typedef struct icms__record_list {
    const icms__record_type *type;
    const cJSON *filter;       /* the caller's filter, checked against its schema */
    const char *const *fields; /* NULL-terminated: each one the filter names, a record must match */
    const char *own_field;     /* when set, a record must also hold own_value there */
    const char *own_value;     /* (the viewer's own records: set per attempt) */
    int64_t limit;
    icms__cmd *cmd;
    icms__page page;
} icms__record_list;

/*
 * Check filter (NULL: "{}") against schema, then run body as a query with a
 * listing of `type` as cmd->arg; on success *out is its page, JSON text
 * freed with icms_free(). Errors: the schema's ICMS_EINVALID, or body's.
 */
int icms__record_list_run(icms_db *db, const icms_request *req, const icms__record_type *type,
                          const char *const *fields, const icms__json_schema *schema,
                          const char *filter, icms__cmd_fn body, char **out);

/* A body's first step: an empty page and no own_field (a retried transaction starts again). */
int icms__record_list_begin(icms__record_list *list, icms__cmd *cmd);

/*
 * Scan `index` for `values`, from the filter's "after" cursor, page the
 * records that match, and hand the page back as the command's result.
 */
int icms__record_list_scan(icms__record_list *list, const char *index, const icms__key *values);

#endif
