/* Opening and closing a database, and the format stamp that guards it. */
#include "app/db.h"

#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "app/events_hub.h"
#include "app/format.h"
#include "app/ledger.h"
#include "app/payment_doc.h"
#include "app/tick_payments.h"
#include "audit/audit.h"
#include "core/core.h"
#include "core/json.h"
#include "kv/keys.h"

static void format_key(icms__key *key)
{
    icms__key_init(key);
    icms__key_str(key, "meta");
    icms__key_str(key, "format");
}

static int stamp(icms__tx *tx, const icms__key *key)
{
    char text[64];
    int n = snprintf(text, sizeof text, "{\"format\":%d}", ICMS_FORMAT_VERSION);
    return icms__tx_put(tx, key, text, (size_t)n);
}

/*
 * Check the store's format stamp, or (in a write transaction) stamp an empty
 * store or upgrade one of an older format (app/format.c). A store from a
 * newer libicms is refused rather than misread. A read comes first so that
 * opening an existing database of this format never waits for the writer's
 * lock.
 */
static int check_format(icms__tx *tx, void *arg)
{
    (void)arg;
    icms__key key;
    const uint8_t *value;
    size_t len;
    format_key(&key);
    int rc = icms__tx_get(tx, &key, &value, &len);
    if (rc == ICMS_ENOTFOUND && tx->mode == ICMS_STORE_READ)
        return ICMS_ENOTFOUND;
    if (rc == ICMS_ENOTFOUND)
        return stamp(tx, &key);
    if (rc)
        return rc;
    cJSON *doc = NULL;
    int64_t version = -1;
    if (icms__json_parse((const char *)value, len, NULL, &doc) == ICMS_OK &&
        !icms__json_int64(icms__json_get(doc, "format"), &version))
        version = -1;
    cJSON_Delete(doc);
    if (version < 1)
        return icms__error(ICMS_ECORRUPT, "the store's format stamp is unreadable");
    if (version > ICMS_FORMAT_VERSION)
        return icms__error(ICMS_EVERSION,
                           "the database has format %lld, newer than this libicms (%s) reads (%d); "
                           "upgrade libicms",
                           (long long)version, icms_version(), ICMS_FORMAT_VERSION);
    if (version == ICMS_FORMAT_VERSION)
        return ICMS_OK;
    if (tx->mode == ICMS_STORE_READ)
        return ICMS_ENOTFOUND; /* an older format: upgraded in the write transaction */
    if ((rc = icms__format_upgrade(tx, version)))
        return rc;
    return stamp(tx, &key);
}

int icms__db_open_sqlite(const icms_options *options, icms_store **out)
{
    if (options->sqlite_sync > ICMS_SQLITE_SYNC_OFF)
        return icms__error(ICMS_EINVALID, "sqlite_sync %u is not a known setting",
                           options->sqlite_sync);
    /*
     * The audit log, the ledger and the claims on Gapcoin outputs are
     * append-only in the file itself, not just in our code.
     */
    icms__key audit, ledger, outpoints;
    icms__audit_prefix(&audit);
    icms__ledger_prefix(&ledger);
    icms__outpoint_prefix(&outpoints);
    const uint8_t *prefixes[3] = {audit.bytes, ledger.bytes, outpoints.bytes};
    size_t prefix_lens[3] = {audit.len, ledger.len, outpoints.len};
    icms_sqlite_options sqlite = ICMS_SQLITE_OPTIONS_INIT;
    sqlite.sync = (icms_sqlite_sync_t)options->sqlite_sync;
    sqlite.busy_timeout_ms = options->sqlite_busy_timeout_ms;
    if (options->version >= 2) /* a version 1 struct ends before the field */
        sqlite.checkpoint_pages = options->sqlite_checkpoint_pages;
    sqlite.append_only_prefixes = prefixes;
    sqlite.append_only_prefix_lens = prefix_lens;
    sqlite.append_only_count = 3;
    return icms_store_sqlite_new(out, options->path, &sqlite);
}

static void free_addresses(icms_address_provider *addresses)
{
    if (addresses && addresses->free)
        addresses->free(addresses);
}

static void release_options(const icms_options *options)
{
    if (options->store)
        icms_store_free(options->store);
    if (options->clock)
        icms_clock_free(options->clock);
    icms_rpc_client_free(options->gapcoin);
    free_addresses(options->addresses);
}

int icms_open(icms_db **out, const icms_options *options)
{
    if (!out || !options)
        return icms__error(ICMS_EINVALID, "icms_open needs out and options");
    *out = NULL;
    if (options->version < 1 || options->version > ICMS_OPTIONS_VERSION) {
        release_options(options);
        return icms__error(ICMS_EVERSION, "options version %u: this build knows 1 to %u",
                           options->version, ICMS_OPTIONS_VERSION);
    }
    if (!options->store && (!options->path || !*options->path)) {
        release_options(options);
        return icms__error(ICMS_EINVALID, "icms_open needs a path or a store");
    }
    if (options->gapcoin_network > ICMS_GAPCOIN_TEST) {
        release_options(options);
        return icms__error(ICMS_EINVALID, "gapcoin_network %u is not a known network",
                           options->gapcoin_network);
    }
    if (options->addresses && (options->addresses->version != ICMS_ADDRESS_PROVIDER_VERSION ||
                               !options->addresses->next_address)) {
        release_options(options);
        return icms__error(ICMS_EINVALID, "the address provider is not version %d or has no "
                                          "next_address", ICMS_ADDRESS_PROVIDER_VERSION);
    }
    if (!icms__initialized()) {
        release_options(options);
        return icms__error(ICMS_EINVALID, "call icms_init() before icms_open()");
    }

    icms_db *db = icms__calloc(1, sizeof *db);
    if (!db) {
        release_options(options);
        return ICMS_ENOMEM;
    }
    db->store = options->store;
    db->clock = options->clock;
    db->retry = (icms__retry_policy)ICMS__RETRY_POLICY_DEFAULT;
    db->payment_grace_ms = ICMS__DEFAULT_PAYMENT_GRACE_MS;
    db->kyc_required = !options->kyc_optional;
    db->gapcoin = options->gapcoin;
    db->network = (icms_gapcoin_network_t)options->gapcoin_network;
    db->addresses = options->addresses;
    db->spv = options->gapcoin_spv != 0;
    if (options->retry_attempts)
        db->retry.attempts = options->retry_attempts;

    int rc = icms__events_hub_new(&db->events);
    if (rc == ICMS_OK)
        rc = icms__hints_new(&db->hints);
    if (rc == ICMS_OK)
        rc = icms__tick_cursors_new(&db->tick);
    if (rc == ICMS_OK && !db->store)
        rc = icms__db_open_sqlite(options, &db->store);
    if (rc == ICMS_OK && !db->clock)
        rc = icms_clock_realtime_new(&db->clock);
    if (rc == ICMS_OK)
        rc = icms__db_read(db, check_format, NULL);
    if (rc == ICMS_ENOTFOUND)
        rc = icms__db_write(db, check_format, NULL);
    if (rc) {
        icms_close(db);
        return rc;
    }
    *out = db;
    return ICMS_OK;
}

void icms_close(icms_db *db)
{
    if (!db)
        return;
    icms_store_free(db->store);
    icms_clock_free(db->clock);
    icms_rpc_client_free(db->gapcoin);
    free_addresses(db->addresses);
    icms__events_hub_free(db->events);
    icms__hints_free(db->hints);
    icms__tick_cursors_free(db->tick);
    icms__free(db);
}

int icms__db_write(icms_db *db, icms__tx_fn fn, void *arg)
{
    return icms__run_write(db->store, db->hints, &db->retry, fn, arg);
}

int icms__db_read(icms_db *db, icms__tx_fn fn, void *arg)
{
    return icms__run_read(db->store, db->hints, fn, arg);
}

int64_t icms__db_now(icms_db *db)
{
    return icms_clock_now(db->clock);
}
