/*
 * The smallest whole flow through the public API: an owner publishes an
 * import project, an investor asks to take part, the owner approves, and the
 * project starts funding.
 *
 *   owner_investor [DATABASE]        (default: ./owner_investor.db, recreated)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <icms.h>

/* Stop at the first refusal, saying why: every call answers 0 or an error code. */
static void check(int rc, const char *what)
{
    if (rc != ICMS_OK) {
        fprintf(stderr, "%s: %s: %s\n", what, icms_error_name(rc), icms_error_last()->message);
        exit(1);
    }
}

/* Results are JSON text; this example only needs the top-level "id" out of them. */
static void id_of(const char *json, char id[ICMS_UUID_STRING_SIZE])
{
    cJSON *doc = cJSON_Parse(json);
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(doc, "id");
    snprintf(id, ICMS_UUID_STRING_SIZE, "%s", cJSON_IsString(item) ? item->valuestring : "");
    cJSON_Delete(doc);
}

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : "owner_investor.db";
    unlink(path);
    check(icms_init() < 0 ? icms_error_last()->code : ICMS_OK, "init");
    icms_options options = ICMS_OPTIONS_INIT;
    options.path = path;
    icms_db *db = NULL;
    check(icms_open(&db, &options), "open");

    /* The host (your backend) creates the people; it is trusted like an admin. */
    icms_request host = ICMS_REQUEST_INIT;
    host.actor_kind = ICMS_ACTOR_HOST;
    char *out = NULL, owner_id[ICMS_UUID_STRING_SIZE], investor_id[ICMS_UUID_STRING_SIZE];
    check(icms_user_create(db, &host,
                           "{\"name\":\"Olga Owner\",\"email\":\"olga@example.com\","
                           "\"roles\":[\"OWNER\"]}",
                           &out),
          "create owner");
    id_of(out, owner_id);
    icms_free(out);
    check(icms_user_create(db, &host,
                           "{\"name\":\"Ivan Investor\",\"email\":\"ivan@example.com\"}", &out),
          "create investor");
    id_of(out, investor_id);
    icms_free(out);
    /* Investing needs verified KYC (unless the database was opened with kyc_optional). */
    check(icms_user_set_kyc(db, &host, investor_id, "PENDING", "{\"document\":\"passport\"}",
                            NULL),
          "submit KYC");
    check(icms_user_set_kyc(db, &host, investor_id, "VERIFIED", NULL, NULL), "verify KYC");

    /* From here on each call acts as a user the host has authenticated. */
    icms_request owner = ICMS_REQUEST_INIT, investor = ICMS_REQUEST_INIT;
    owner.actor_id = owner_id;
    investor.actor_id = investor_id;

    char project_id[ICMS_UUID_STRING_SIZE], request_id[ICMS_UUID_STRING_SIZE];
    check(icms_project_create(db, &owner,
                              "{\"title\":\"Olive oil from Crete\","
                              "\"expiry_date\":\"2099-01-01T00:00:00Z\","
                              "\"shipping_costs\":{\"freight\":50000000},"
                              "\"products\":[{\"name\":\"Olive oil 5l\",\"unit\":\"can\","
                              "\"quantity\":40,\"unit_price\":2500000000}]}",
                              &out),
          "create project");
    id_of(out, project_id);
    icms_free(out);
    check(icms_project_publish(db, &owner, project_id, NULL), "publish");
    check(icms_participation_request(db, &investor, project_id,
                                     "{\"type\":\"PROFIT\",\"capital\":1000000000}", &out),
          "request");
    id_of(out, request_id);
    icms_free(out);
    check(icms_participation_approve(db, &owner, request_id, NULL), "approve");

    check(icms_project_get(db, &investor, project_id, &out), "get");
    printf("%s\n", out);
    int funding = strstr(out, "\"state\":\"FUNDING\"") != NULL;
    icms_free(out);
    icms_close(db);
    icms_shutdown();
    return funding ? 0 : 1;
}
