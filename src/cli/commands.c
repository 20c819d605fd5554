/*
 * The command table: every noun and verb, its arguments, its help, and the
 * library call behind it. Adding a command is adding a row.
 */
#include "cli.h"

#include "icms/audit.h"
#include "icms/auth.h"
#include "icms/events.h"
#include "icms/participations.h"
#include "icms/payments.h"
#include "icms/projects.h"
#include "icms/users.h"

/* The library calls whose argument order differs from the generic shapes. */
static int user_kyc(icms_db *db, const icms_request *req, const char *id, const char *status,
                    const char *doc, char **out)
{
    return icms_user_set_kyc(db, req, id, status, doc, out);
}

#define D CMD_DB
#define P "PROJECT_ID"

/* One row a command, kept compact by hand: the table reads better than one field a line. */
/* clang-format off */
const command cli_commands[] = {
    /* ---- database ---- */
    {.noun = "init", .args = "", .max_args = 0, .opts = OPT_DOC, .fn = cli_init,
     .summary = "create the database; with a document, bootstrap the first admin",
     .help = "Creates the database file (stamped with the current format) if it does not exist.\n"
             "With a document {\"name\",\"email\",\"phone\"?,\"photo_url\"?} it also creates the\n"
             "first administrator, as the host; that works once per database.\n"
             "Prints {\"database\":PATH,\"created\":bool,\"format\":N[,\"admin\":{...}]}.\n\n"
             "Example:\n"
             "  icms --db shop.db init --data '{\"name\":\"Ada\",\"email\":\"ada@example.com\"}'\n"},
    {.noun = "tick", .args = "", .max_args = 0, .flags = D, .fn = cli_tick,
     .summary = "run the periodic work (expiry sweep); --now for a given time",
     .help = "Runs icms_tick as the system: projects past their deadline and not fully funded\n"
             "expire. Prints {\"expired\":N,\"held\":N,\"batches\":N}.\n\n"
             "Example:\n"
             "  icms --db shop.db tick --now 2027-01-01T00:00:00Z\n"},

    /* ---- users ---- */
    {.noun = "user", .verb = "create", .opts = OPT_DOC, .flags = D | CMD_DOC_REQ,
     .doc_fn = icms_user_create, .summary = "create a user (host or admin)",
     .help = "Document: {\"name\",\"email\",\"phone\"?,\"photo_url\"?,\"roles\"?:[\"OWNER\",\"INVESTOR\","
             "\"ADMIN\"]}.\nPrints the user's summary (id, status, roles, kyc_status).\n\n"
             "Example:\n"
             "  icms --host user create --data '{\"name\":\"Olga\",\"email\":\"olga@example.com\","
             "\"roles\":[\"OWNER\"]}'\n"},
    {.noun = "user", .verb = "get", .args = "USER_ID", .min_args = 1, .max_args = 1, .flags = D,
     .id_fn = icms_user_get, .summary = "read a user's profile",
     .help = "The user themself, admins and the host see the whole profile; others the public\n"
             "view.\n\nExample:\n  icms --as $ME user get $ME\n"},
    {.noun = "user", .verb = "update", .args = "USER_ID", .min_args = 1, .max_args = 1,
     .opts = OPT_DOC, .flags = D | CMD_DOC_REQ, .id_doc_fn = icms_user_update,
     .summary = "change a user's profile",
     .help = "Document: any of {\"name\",\"email\",\"phone\",\"photo_url\"}.\n\n"
             "Example:\n  icms --as $ME user update $ME --data '{\"phone\":\"+4915112345678\"}'\n"},
    {.noun = "user", .verb = "grant", .args = "USER_ID ROLE", .min_args = 2, .max_args = 2,
     .flags = D, .id2_fn = icms_user_grant_role, .summary = "give a user a role (admin)",
     .help = "ROLE is OWNER, INVESTOR or ADMIN.\n\nExample:\n  icms --host user grant $ID OWNER\n"},
    {.noun = "user", .verb = "revoke", .args = "USER_ID ROLE", .min_args = 2, .max_args = 2,
     .flags = D, .id2_fn = icms_user_revoke_role, .summary = "take a role from a user (admin)",
     .help = "The last active administrator keeps ADMIN.\n\n"
             "Example:\n  icms --host user revoke $ID OWNER\n"},
    {.noun = "user", .verb = "kyc", .args = "USER_ID STATUS", .min_args = 2, .max_args = 2,
     .opts = OPT_DOC, .flags = D, .id2_doc_fn = user_kyc,
     .summary = "move a user's KYC status (PENDING, VERIFIED, REJECTED)",
     .help = "PENDING: the user submits, with the KYC metadata as the document (required).\n"
             "VERIFIED / REJECTED: an admin or the host decides; document {\"note\"} optional.\n\n"
             "Examples:\n"
             "  icms --as $ME user kyc $ME PENDING --data '{\"document\":\"passport\",\"country\":\"DE\"}'\n"
             "  icms --host user kyc $ME VERIFIED\n"},
    {.noun = "user", .verb = "deactivate", .args = "USER_ID", .min_args = 1, .max_args = 1,
     .flags = D, .id_fn = icms_user_deactivate, .summary = "stop a user from acting (admin)",
     .help = "Example:\n  icms --host user deactivate $ID\n"},
    {.noun = "user", .verb = "erase", .args = "USER_ID", .min_args = 1, .max_args = 1,
     .flags = D, .id_fn = icms_user_erase, .summary = "erase a user's personal data",
     .help = "The id stays for the ledger and the audit log; name, email, phone and KYC\n"
             "metadata go.\n\nExample:\n  icms --as $ME user erase $ME\n"},
    {.noun = "user", .verb = "history", .args = "USER_ID", .min_args = 1, .max_args = 1,
     .flags = D, .id_fn = icms_user_history, .summary = "an investor's totals",
     .help = "Prints {\"user_id\",\"invested\",\"refunded\",\"projects_joined\"} (base units).\n\n"
             "Example:\n  icms --as $ME user history $ME\n"},

    /* ---- projects ---- */
    {.noun = "project", .verb = "create", .opts = OPT_DOC, .flags = D | CMD_DOC_REQ,
     .doc_fn = icms_project_create, .summary = "create a project in DRAFT (owner)",
     .help = "Document: {\"title\",\"description\"?,\"expiry_date\",\"exporter\"?,\"shipping_costs\"?,\n"
             "\"products\"?:[{\"name\",\"unit\",\"quantity\",\"unit_price\"}],\"min_ticket\"?,\n"
             "\"investor_cap\"?,\"confirmations\"?,\"payout_address\"?} with amounts in base units\n"
             "(docs/domain.md); payout_address is where the owner is paid on approval.\n\n"
             "Example:\n  icms --as $OWNER project create --json project.json\n"},
    {.noun = "project", .verb = "update", .args = P, .min_args = 1, .max_args = 1,
     .opts = OPT_DOC, .flags = D | CMD_DOC_REQ, .id_doc_fn = icms_project_update,
     .summary = "change a DRAFT project (owner)",
     .help = "Document: any field of create but products.\n\n"
             "Example:\n  icms --as $OWNER project update $P --data '{\"title\":\"New title\"}'\n"},
    {.noun = "project", .verb = "get", .args = P, .min_args = 1, .max_args = 1, .flags = D,
     .id_fn = icms_project_get, .summary = "read a project",
     .help = "Example:\n  icms --as $OWNER project get $P\n"},
    {.noun = "project", .verb = "list", .opts = OPT_DOC, .flags = D, .doc_fn = icms_project_list,
     .summary = "list projects (filter document optional)",
     .help = "Filter: {\"state\"?,\"owner_id\"?,\"limit\"?,\"after\"?}; prints {\"items\",\"next\"}.\n\n"
             "Example:\n  icms project list --data '{\"state\":\"PUBLISHED\"}'\n"},
    {.noun = "project", .verb = "publish", .args = P, .min_args = 1, .max_args = 1, .flags = D,
     .id_fn = icms_project_publish, .summary = "DRAFT -> PUBLISHED (owner)",
     .help = "Example:\n  icms --as $OWNER project publish $P\n"},
    {.noun = "project", .verb = "set-payout-address", .args = P " ADDRESS", .min_args = 2,
     .max_args = 2, .flags = D, .id2_fn = icms_project_set_payout_address,
     .summary = "give where the owner is paid on approval (owner or host)",
     .help = "ADDRESS is a Gapcoin address of the database's network (--network). The owner or\n"
             "the host, until the project is approved: approval releases the escrow to it\n"
             "(release get). Only the owner, admins and the host see a project's address.\n\n"
             "Example:\n"
             "  icms --as $OWNER project set-payout-address $P GcwphVTaks2XGGB8RUk7auWdgmG8CV14TF\n"},
    {.noun = "project", .verb = "approve", .args = P, .min_args = 1, .max_args = 1, .flags = D,
     .id_fn = icms_project_approve, .summary = "PENDING_ADMIN_APPROVAL -> APPROVED (admin)",
     .help = "Approval releases the escrow to the owner: a release DUE to the project's\n"
             "payout address (refused without one); the project's release_id names it.\n\n"
             "Example:\n  icms --as $ADMIN project approve $P\n"},
    {.noun = "project", .verb = "ship", .args = P, .min_args = 1, .max_args = 1,
     .opts = OPT_DOC, .flags = D | CMD_DOC_REQ, .id_doc_fn = icms_project_ship,
     .summary = "APPROVED -> IN_TRANSIT with the logistics document (admin)",
     .help = "Document: {\"container_number\",\"vessel\",\"bill_of_lading\",\"port_of_loading\",\n"
             "\"port_of_discharge\",\"eta\",\"carrier\"?,\"notes\"?}.\n\n"
             "Example:\n  icms --as $ADMIN project ship $P --json logistics.json\n"},
    {.noun = "project", .verb = "complete", .args = P, .min_args = 1, .max_args = 1, .flags = D,
     .id_fn = icms_project_complete, .summary = "IN_TRANSIT -> COMPLETED (admin)",
     .help = "Example:\n  icms --as $ADMIN project complete $P\n"},
    {.noun = "project", .verb = "cancel", .args = P, .min_args = 1, .max_args = 1,
     .opts = OPT_REASON, .flags = D, .id_doc_fn = icms_project_cancel,
     .summary = "cancel a project, saying why",
     .help = "The owner may cancel in DRAFT, PUBLISHED and FUNDING; an admin before IN_TRANSIT.\n\n"
             "Example:\n  icms --as $OWNER project cancel $P --reason 'supplier closed'\n"},
    {.noun = "project", .verb = "distribute", .args = P, .min_args = 1, .max_args = 1,
     .opts = OPT_DOC, .flags = D | CMD_DOC_REQ, .id_doc_fn = icms_project_distribute,
     .summary = "compute a COMPLETED project's distributions, once (admin)",
     .help = "Document: {\"profit\": N} in base units, as the owner declares it. PROFIT\n"
             "participants get their capital back and a pro-rata share of the profit; each\n"
             "money share becomes a payout due.\n\n"
             "Example:\n  icms --as $ADMIN project distribute $P --data '{\"profit\":50000000000}'\n"},

    /* ---- products ---- */
    {.noun = "product", .verb = "add", .args = P, .min_args = 1, .max_args = 1, .opts = OPT_DOC,
     .flags = D | CMD_DOC_REQ, .id_doc_fn = icms_product_add,
     .summary = "add a product to a DRAFT project",
     .help = "Document: {\"name\",\"unit\",\"quantity\",\"unit_price\",...}.\n\n"
             "Example:\n  icms --as $OWNER product add $P --data '{\"name\":\"Olive oil 5l\","
             "\"unit\":\"can\",\"quantity\":100,\"unit_price\":2500000000}'\n"},
    {.noun = "product", .verb = "update", .args = P " PRODUCT_ID", .min_args = 2, .max_args = 2,
     .opts = OPT_DOC, .flags = D | CMD_DOC_REQ, .id2_doc_fn = icms_product_update,
     .summary = "change a product of a DRAFT project",
     .help = "Example:\n  icms --as $OWNER product update $P $PRODUCT --data '{\"quantity\":120}'\n"},
    {.noun = "product", .verb = "remove", .args = P " PRODUCT_ID", .min_args = 2, .max_args = 2,
     .flags = D, .id2_fn = icms_product_remove, .summary = "remove a product from a DRAFT project",
     .help = "Example:\n  icms --as $OWNER product remove $P $PRODUCT\n"},

    /* ---- participations ---- */
    {.noun = "participation", .verb = "request", .args = P, .min_args = 1, .max_args = 1,
     .opts = OPT_DOC, .flags = D | CMD_DOC_REQ, .id_doc_fn = icms_participation_request,
     .summary = "ask to take part in a project (investor)",
     .help = "Document: {\"type\":\"PRODUCTS\",\"items\":[{\"product_id\",\"units\"}]} or\n"
             "{\"type\":\"PROFIT\",\"capital\":N}.\n\n"
             "Example:\n  icms --as $INV participation request $P --data '{\"type\":\"PROFIT\","
             "\"capital\":50000000000}'\n"},
    {.noun = "participation", .verb = "approve", .args = "PARTICIPATION_ID", .min_args = 1,
     .max_args = 1, .flags = D, .id_fn = icms_participation_approve,
     .summary = "accept a pending request (the project's owner)",
     .help = "Example:\n  icms --as $OWNER participation approve $PART\n"},
    {.noun = "participation", .verb = "reject", .args = "PARTICIPATION_ID", .min_args = 1,
     .max_args = 1, .opts = OPT_REASON, .flags = D, .id_doc_fn = icms_participation_reject,
     .summary = "decline a pending request, saying why (the project's owner)",
     .help = "Example:\n  icms --as $OWNER participation reject $PART --reason 'sold out'\n"},
    {.noun = "participation", .verb = "withdraw", .args = "PARTICIPATION_ID", .min_args = 1,
     .max_args = 1, .flags = D, .id_fn = icms_participation_withdraw,
     .summary = "take back a pending request (investor)",
     .help = "Example:\n  icms --as $INV participation withdraw $PART\n"},
    {.noun = "participation", .verb = "get", .args = "PARTICIPATION_ID", .min_args = 1,
     .max_args = 1, .flags = D, .id_fn = icms_participation_get, .summary = "read a request",
     .help = "Example:\n  icms --as $INV participation get $PART\n"},
    {.noun = "participation", .verb = "list", .opts = OPT_DOC, .flags = D,
     .doc_fn = icms_participation_list, .summary = "list requests (filter document optional)",
     .help = "Filter: {\"project_id\"?,\"investor_id\"?,\"status\"?,\"limit\"?,\"after\"?}.\n\n"
             "Example:\n  icms --as $OWNER participation list --data '{\"project_id\":\"'$P'\"}'\n"},

    /* ---- payments ---- */
    {.noun = "payment", .verb = "initiate", .args = "PARTICIPATION_ID", .min_args = 1,
     .max_args = 1, .opts = OPT_DOC, .flags = D | CMD_DOC_REQ, .id_doc_fn = icms_payment_initiate,
     .summary = "start paying an approved participation (investor; needs --idempotency-key)",
     .help = "Document: {\"amount\"?: N (default: all that is outstanding), \"refund_address\"}.\n"
             "The receiving address comes from the node (--rpc-url ...). An idempotency key is\n"
             "required, so that a retried command never opens a second payment.\n\n"
             "Example:\n  icms --as $INV --idempotency-key pay-1 --rpc-url http://127.0.0.1:31397/ \\\n"
             "       --rpc-user gap --rpc-password-file ~/.gap-rpc payment initiate $PART \\\n"
             "       --data '{\"refund_address\":\"GcwphVTaks2XGGB8RUk7auWdgmG8CV14TF\"}'\n"},
    {.noun = "payment", .verb = "submit", .args = "PAYMENT_ID TXID", .min_args = 2,
     .max_args = 2, .flags = D, .id2_fn = icms_payment_submit,
     .summary = "attach the transaction that pays a payment",
     .help = "Nothing is verified yet (payment verify does that); a txid attached to another\n"
             "payment is refused.\n\nExample:\n  icms --as $INV payment submit $PAY $TXID\n"},
    {.noun = "payment", .verb = "verify", .args = "PAYMENT_ID", .min_args = 1, .max_args = 1,
     .flags = D, .id_fn = icms_payment_verify,
     .summary = "check the payment's transaction against the node and apply it",
     .help = "Decodes the raw transaction itself (txid recomputed, amounts from the outputs) and\n"
             "confirms at the project's depth. A node that is down: exit 3 ICMS_ETRANSPORT.\n\n"
             "Example:\n  icms --host --rpc-url http://127.0.0.1:31397/ payment verify $PAY\n"},
    {.noun = "payment", .verb = "get", .args = "PAYMENT_ID", .min_args = 1, .max_args = 1,
     .flags = D, .id_fn = icms_payment_get, .summary = "read a payment",
     .help = "Example:\n  icms --as $INV payment get $PAY\n"},
    {.noun = "payment", .verb = "list", .opts = OPT_DOC, .flags = D, .doc_fn = icms_payment_list,
     .summary = "list payments (filter document optional)",
     .help = "Filter: {\"project_id\"?,\"investor_id\"?,\"participation_id\"?,\"status\"?,"
             "\"limit\"?,\"after\"?}.\n\n"
             "Example:\n  icms --as $INV payment list --data '{\"status\":\"CONFIRMED\"}'\n"},
    {.noun = "payout", .verb = "list", .opts = OPT_DOC, .flags = D, .doc_fn = icms_payout_list,
     .summary = "payouts due and paid (filter document)",
     .help = "Filter: {\"investor_id\"?,\"project_id\"?,\"status\"?,\"limit\"?,\"after\"?}.\n\n"
             "Example:\n  icms --host payout list --data '{\"project_id\":\"'$P'\"}'\n"},
    {.noun = "payout", .verb = "record", .args = "PAYOUT_ID TXID", .min_args = 2, .max_args = 2,
     .flags = D, .id2_fn = icms_payout_record,
     .summary = "settle a payout with the transaction that paid it (host or admin)",
     .help = "Example:\n  icms --host --rpc-url http://127.0.0.1:31397/ payout record $PAYOUT $TXID\n"},
    {.noun = "refund", .verb = "list", .opts = OPT_DOC, .flags = D, .doc_fn = icms_refund_list,
     .summary = "refunds due and paid (filter document)",
     .help = "Filter: {\"investor_id\"?,\"project_id\"?,\"status\"?,\"limit\"?,\"after\"?}.\n\n"
             "Example:\n  icms --host refund list --data '{\"project_id\":\"'$P'\"}'\n"},
    {.noun = "refund", .verb = "record", .args = "REFUND_ID TXID", .min_args = 2, .max_args = 2,
     .flags = D, .id2_fn = icms_refund_record,
     .summary = "settle a refund due with the transaction that paid it (host or admin)",
     .help = "Example:\n  icms --host --rpc-url http://127.0.0.1:31397/ refund record $REFUND $TXID\n"},
    {.noun = "release", .verb = "get", .args = "RELEASE_ID", .min_args = 1, .max_args = 1,
     .flags = D, .id_fn = icms_release_get,
     .summary = "read a project's escrow release to its owner (owner, admin, host)",
     .help = "Prints {\"id\",\"project_id\",\"owner_id\",\"amount\",\"address\",\n"
             "\"required_confirmations\",\"status\":\"DUE\"|\"PAID\"|\"VOIDED\",\"txid\",\n"
             "\"created_at\",\"paid_at\",\"voided_at\"}. The id is the approved project's release_id.\n\n"
             "Example:\n  icms --as $OWNER release get $RELEASE\n"},
    {.noun = "release", .verb = "list", .opts = OPT_DOC, .flags = D,
     .doc_fn = icms_release_list, .summary = "releases due, paid and voided (filter document)",
     .help = "Filter: {\"project_id\"?,\"owner_id\"?,\"status\"?,\"limit\"?,\"after\"?} with at\n"
             "least one of the first three. Admins and the host see all; an owner their own.\n"
             "Prints {\"items\",\"next\"}.\n\n"
             "Example:\n  icms --host release list --data '{\"status\":\"DUE\"}'\n"},
    {.noun = "release", .verb = "record", .args = "RELEASE_ID TXID", .min_args = 2,
     .max_args = 2, .flags = D, .id2_fn = icms_release_record,
     .summary = "settle a release with the transaction that paid the owner (host or admin)",
     .help = "The transaction must pay the release's address at least the amount, at the\n"
             "project's depth; it settles one release, once. Needs the node (--rpc-url ...).\n\n"
             "Example:\n"
             "  icms --host --rpc-url http://127.0.0.1:31397/ release record $RELEASE $TXID\n"},
    {.noun = "check", .args = "", .max_args = 0, .flags = D, .fn = cli_check,
     .summary = "recompute the ledger and check every invariant (host or admin)",
     .help = "Prints {\"ok\",\"violations\":[...],...}; exit 1 when there is a violation.\n\n"
             "Example:\n  icms --host check\n"},

    /* ---- events ---- */
    {.noun = "events", .verb = "read", .args = "CONSUMER", .min_args = 1, .max_args = 1,
     .opts = OPT_EVENTS, .flags = D, .fn = cli_events_read,
     .summary = "read events after a durable consumer's cursor (host or admin)",
     .help = "--after SEQ reads after that seq instead of the cursor; --max N (1..1000, default\n"
             "100). Prints {\"consumer\",\"acked\",\"last_seq\",\"events\":[...]}; nothing is\n"
             "acknowledged.\n\nExample:\n  icms --host events read mailer --max 10\n"},
    {.noun = "events", .verb = "ack", .args = "CONSUMER SEQ", .min_args = 2, .max_args = 2,
     .flags = D, .fn = cli_events_ack, .summary = "acknowledge events up to SEQ",
     .help = "Example:\n  icms --host events ack mailer 42\n"},
    {.noun = "events", .verb = "tail", .args = "CONSUMER", .min_args = 1, .max_args = 1,
     .opts = OPT_EVENTS, .flags = D, .fn = cli_events_tail,
     .summary = "follow new events, one JSON line each, acknowledging as it prints",
     .help = "Runs until interrupted, or until --max N events were printed. Resumes from the\n"
             "consumer's cursor, so an interrupted tail loses nothing.\n\n"
             "Example:\n  icms --host events tail ops-log\n"},
    {.noun = "events", .verb = "consumers", .flags = D, .fn = cli_events_consumers,
     .summary = "the registered consumers and their lag",
     .help = "Example:\n  icms --host events consumers\n"},
    {.noun = "events", .verb = "publish-nats", .opts = OPT_NATS, .flags = D,
     .fn = cli_events_publish_nats,
     .summary = "publish the outbox to a NATS JetStream stream, once or --follow SECONDS",
     .help = "Publishes every event after the durable outbox consumer's cursor (--consumer,\n"
             "default nats) to the stream (--stream, default ICMS) at --url (default\n"
             "nats://127.0.0.1:4222), subject = --subject-prefix (default icms.) + type, with\n"
             "Nats-Msg-Id = event_id. The cursor moves only past events the server\n"
             "acknowledged. --create-stream creates a missing stream (subjects prefix + \">\");\n"
             "--follow N keeps publishing new events for N seconds. Prints {\"url\",\"stream\",\n"
             "\"subject_prefix\",\"consumer\",\"published\":N,\"rounds\":N}; a server that is\n"
             "down is exit 3 ICMS_ETRANSPORT and the events wait in the outbox. A run that fails\n"
             "part-way says on stderr, next to the error, how many events the server had\n"
             "acknowledged (\"published\") and the cursor (\"cursor\": the last seq published).\n\n"
             "Example:\n"
             "  icms events publish-nats --url nats://127.0.0.1:4222 --create-stream --follow 60\n"},

    /* ---- notifications ---- */
    {.noun = "notify", .verb = "run", .opts = OPT_SPOOL, .flags = D, .fn = cli_notify_run,
     .summary = "route new events to notifications and send those due to --spool FILE",
     .help = "Runs icms_notify_run with a notifier that appends each notification, as one JSON\n"
             "line {\"id\",\"user_id\",\"channel\",\"address\",\"template\",\"event_id\",\n"
             "\"attempt\",\"data\"}, to FILE (created 0600; synced before it counts as sent),\n"
             "for a mailer to pick up. A line may repeat after a crash: dedupe on id.\n"
             "Prints {\"routed\",\"created\",\"sent\",\"failed\",\"dead\",\"skipped\"}.\n\n"
             "Example:\n  icms notify run --spool /var/spool/icms/notifications.jsonl\n"},
    {.noun = "notify", .verb = "list", .args = "STATUS [AFTER_ID]", .min_args = 1,
     .max_args = 2, .flags = D, .id2_fn = icms_notify_list,
     .summary = "notifications by status, oldest first (admin or host)",
     .help = "STATUS is PENDING, SENT, DEAD or SKIPPED; at most 100 a page. Prints\n"
             "{\"items\":[...],\"next\":ID|null}; give next as AFTER_ID for the next page.\n\n"
             "Example:\n  icms --host notify list DEAD\n"},
    {.noun = "notify", .verb = "retry", .args = "NOTIFICATION_ID", .min_args = 1,
     .max_args = 1, .flags = D, .id_fn = icms_notify_retry,
     .summary = "put a DEAD notification back to PENDING (admin or host)",
     .help = "Its attempts start again and it is due now (the next notify run sends it).\n\n"
             "Example:\n  icms --host notify retry $NOTIFICATION\n"},
    {.noun = "notify", .verb = "prefs", .args = "USER_ID", .min_args = 1, .max_args = 1,
     .flags = D, .id_fn = icms_notify_prefs_get, .summary = "a user's notification channels",
     .help = "Prints {\"email\":bool,\"push\":bool,\"sms\":bool} (default email and push on,\n"
             "sms off). The user themself, an admin or the host.\n\n"
             "Example:\n  icms --as $ME notify prefs $ME\n"},
    {.noun = "notify", .verb = "set-prefs", .args = "USER_ID", .min_args = 1, .max_args = 1,
     .opts = OPT_DOC, .flags = D | CMD_DOC_REQ, .id_doc_fn = icms_notify_prefs_set,
     .summary = "change a user's notification channels",
     .help = "Document: any of {\"email\",\"push\",\"sms\"} as booleans; the others keep their\n"
             "value. Prints the new preferences.\n\n"
             "Example:\n  icms --as $ME notify set-prefs $ME --data '{\"sms\":true}'\n"},

    /* ---- auth ---- */
    {.noun = "auth", .verb = "password", .args = "USER_ID", .min_args = 1, .max_args = 1,
     .opts = OPT_AUTH | OPT_SECRET_IN, .flags = D, .fn = cli_auth_password,
     .summary = "set a user's password (read from --password-file FILE|-)",
     .help = "The password is read from the first line of a file or stdin, never from the\n"
             "command line. Needs the master key (--master-key-file or $ICMS_MASTER_KEY_FILE).\n\n"
             "Example:\n  icms --as $ME auth password $ME --password-file - < pw.txt\n"},
    {.noun = "auth", .verb = "login", .opts = OPT_DOC | OPT_AUTH | OPT_SECRET_IN,
     .flags = D | CMD_DOC_REQ, .fn = cli_auth_login,
     .summary = "log in with email and password: a token pair",
     .help = "Document: {\"email\"}; password from --password-file FILE|-. Prints\n"
             "{\"access_token\",\"refresh_token\",\"session_id\",...}: it holds secrets.\n\n"
             "Example:\n  icms auth login --data '{\"email\":\"ada@example.com\"}' --password-file -\n"},
    {.noun = "auth", .verb = "refresh", .opts = OPT_AUTH | OPT_SECRET_IN, .flags = D,
     .fn = cli_auth_refresh, .summary = "exchange a refresh token for a new pair",
     .help = "The refresh token is read from --refresh-token-file FILE|- and is spent.\n\n"
             "Example:\n  icms auth refresh --refresh-token-file - < refresh.txt\n"},
    {.noun = "auth", .verb = "verify", .opts = OPT_AUTH, .flags = D, .fn = cli_auth_verify,
     .summary = "verify the access token of --token: its claims",
     .help = "Example:\n  icms --token $TOKEN auth verify\n"},
    {.noun = "auth", .verb = "sessions", .args = "USER_ID", .min_args = 1, .max_args = 1,
     .flags = D, .id_fn = icms_auth_sessions, .summary = "a user's sessions, newest first",
     .help = "Example:\n  icms --token $TOKEN auth sessions $ME\n"},
    {.noun = "auth", .verb = "logout", .args = "SESSION_ID", .min_args = 1, .max_args = 1,
     .flags = D, .id_fn = icms_auth_logout, .summary = "end one session",
     .help = "Example:\n  icms --token $TOKEN auth logout $SESSION\n"},
    {.noun = "auth", .verb = "logout-all", .args = "USER_ID", .min_args = 1, .max_args = 1,
     .flags = D, .id_fn = icms_auth_logout_all, .summary = "end every session of a user",
     .help = "Example:\n  icms --host auth logout-all $ID\n"},
    {.noun = "auth", .verb = "jwks", .opts = OPT_AUTH, .flags = D, .fn = cli_auth_jwks,
     .summary = "the public signing keys (JWKS)",
     .help = "Example:\n  icms auth jwks --master-key-file master.key\n"},
    {.noun = "auth", .verb = "rotate-keys", .opts = OPT_AUTH, .flags = D,
     .fn = cli_auth_rotate_keys, .summary = "start signing with a new key (admin)",
     .help = "Example:\n  icms --host auth rotate-keys --master-key-file master.key\n"},
    {.noun = "auth", .verb = "external-start", .fn = cli_auth_external_start,
     .summary = "begin an OAuth/OIDC login: a state and a PKCE pair",
     .help = "Prints {\"state\",\"code_verifier\",\"code_challenge\",\"code_challenge_method\":\n"
             "\"S256\"}: send state and code_challenge to the provider; keep state and the\n"
             "code_verifier (a secret) for its token request and for external-finish.\n\n"
             "Example:\n  icms auth external-start > login.json\n"},
    {.noun = "auth", .verb = "external-finish", .opts = OPT_DOC | OPT_AUTH | OPT_OAUTH,
     .flags = D | CMD_DOC_REQ, .fn = cli_auth_external_finish,
     .summary = "log in with an identity the host verified with a provider: a token pair",
     .help = "Document: {\"provider\",\"subject\",\"email\"?,\"email_verified\"?,\"name\"?,\n"
             "\"state\"?}: the provider's verified claims (a new user needs a verified email\n"
             "that no other user has). With --state-file FILE|- the document's state must match\n"
             "the one kept from external-start, compared in constant time. Prints\n"
             "{\"access_token\",\"refresh_token\",\"session_id\",...}: it holds secrets.\n\n"
             "Example:\n  icms auth external-finish --state-file state.txt --data \\\n"
             "    '{\"provider\":\"google\",\"subject\":\"1234\",\"email\":\"ada@example.com\",\n"
             "      \"email_verified\":true,\"state\":\"'$STATE'\"}'\n"},
    {.noun = "auth", .verb = "link-identity", .opts = OPT_DOC | OPT_AUTH,
     .flags = D | CMD_DOC_REQ, .fn = cli_auth_link_identity,
     .summary = "link another provider's identity to the acting user",
     .help = "Document: {\"provider\",\"subject\"}. Acts as --token or --as (a signed-in user).\n"
             "Prints {\"user_id\",\"provider\",\"linked\":true}.\n\n"
             "Example:\n  icms --token $TOKEN auth link-identity --data "
             "'{\"provider\":\"apple\",\"subject\":\"0007\"}'\n"},
    {.noun = "auth", .verb = "pkce-check", .args = "CHALLENGE", .min_args = 1, .max_args = 1,
     .opts = OPT_OAUTH, .fn = cli_auth_pkce_check,
     .summary = "check a PKCE code verifier (--verifier-file) against its S256 challenge",
     .help = "The verifier is read from --verifier-file FILE|-, never from the command line.\n"
             "Prints {\"valid\":true}; exit 1 ICMS_EUNAUTHENTICATED when it does not match.\n\n"
             "A challenge is base64url and may start with '-': put it after --.\n"
             "Example:\n  icms auth pkce-check --verifier-file - -- \"$CHALLENGE\" < verifier.txt\n"},

    /* ---- audit ---- */
    {.noun = "audit", .verb = "keypair", .opts = OPT_SECRET, .fn = cli_audit_keypair,
     .summary = "make a checkpoint signing key pair",
     .help = "Writes the secret key (hex) to --secret-key-file FILE (created, mode 0600, never\n"
             "overwritten) and prints {\"public_key\":HEX}. Keep the secret key outside the\n"
             "database.\n\nExample:\n  icms audit keypair --secret-key-file audit.key\n"},
    {.noun = "audit", .verb = "checkpoint", .opts = OPT_SECRET, .flags = D,
     .fn = cli_audit_checkpoint, .summary = "sign the audit chain's head",
     .help = "Prints {\"seq\",\"hash\",\"signature\"}: keep it outside the database.\n\n"
             "Example:\n  icms audit checkpoint --secret-key-file audit.key > checkpoint.json\n"},
    {.noun = "audit", .verb = "verify", .opts = OPT_CHECKPOINT, .flags = D,
     .fn = cli_audit_verify, .summary = "verify the audit chain (and a checkpoint)",
     .help = "Prints {\"valid\",\"entries\",...}; exit 1 when the chain is broken or does not\n"
             "reach the checkpoint.\n\n"
             "Example:\n  icms audit verify --checkpoint checkpoint.json --public-key $PUB\n"},

    /* ---- gapcoin (pure: no database) ---- */
    {.noun = "gapcoin", .verb = "decode-tx", .args = "HEX", .min_args = 1, .max_args = 1,
     .opts = OPT_NODE, .fn = cli_gapcoin_decode_tx, .summary = "decode a raw transaction",
     .help = "Prints {\"txid\",\"wtxid\",\"version\",\"locktime\",\"size\",\"inputs\":[{\"txid\",\"vout\",\n"
             "\"script_sig\",\"sequence\",\"witness\"}],\"outputs\":[{\"n\",\"value\",\"script\",\"type\",\n"
             "\"address\"}]}; addresses for --network (default main).\n\n"
             "Example:\n  icms gapcoin decode-tx 0100000001...\n"},
    {.noun = "gapcoin", .verb = "decode-header", .args = "HEX", .min_args = 1, .max_args = 1,
     .fn = cli_gapcoin_decode_header, .summary = "decode a block header",
     .help = "Prints {\"hash\",\"version\",\"prev_hash\",\"merkle_root\",\"time\",\"n_difficulty\",\n"
             "\"nonce\",\"shift\",\"adder\",\"size\"}.\n\nExample:\n  icms gapcoin decode-header 0200...\n"},
    {.noun = "gapcoin", .verb = "verify-header", .args = "HEX", .min_args = 1, .max_args = 1,
     .fn = cli_gapcoin_verify_header, .summary = "check a header's prime-gap proof of work",
     .help = "Prints {\"valid\",\"hash\",\"gap\",\"merit\",\"achieved\"} (merit and achieved x 2^48);\n"
             "exit 1 when invalid.\n\nExample:\n  icms gapcoin verify-header 0200...\n"},
    {.noun = "gapcoin", .verb = "verify-chain", .args = "[FILE]", .max_args = 1,
     .opts = OPT_DEPTH, .fn = cli_gapcoin_verify_chain,
     .summary = "verify a header chain (hex, one per line, oldest first)",
     .help = "Reads FILE, or stdin when none is given. Prints {\"valid\",\"count\",\"tip\"} and on\n"
             "failure \"index\" (0 = first header) and \"reason\"; exit 1 when invalid.\n"
             "--first-height N gives the first header's height (enables the retarget check\n"
             "from the second header when N is 0 or 1).\n\n"
             "Example:\n  icms gapcoin verify-chain headers.txt\n"},
    {.noun = "gapcoin", .verb = "verify-proof", .args = "HEX", .min_args = 1, .max_args = 1,
     .fn = cli_gapcoin_verify_proof, .summary = "check a merkle proof (gettxoutproof)",
     .help = "Prints {\"valid\",\"hash\",\"tx_count\",\"txids\":[...]}; exit 1 when invalid. The\n"
             "header's proof of work is not checked here (verify-header does).\n\n"
             "Example:\n  icms gapcoin verify-proof 0200...\n"},
    {.noun = "gapcoin", .verb = "address", .args = "SCRIPT_HEX", .min_args = 1, .max_args = 1,
     .opts = OPT_NODE, .fn = cli_gapcoin_address, .summary = "the address of an output script",
     .help = "Prints {\"type\",\"address\",\"addresses\":{\"0.9\",\"0.16\",\"2606\"}} for --network;\n"
             "exit 1 when the script has no address.\n\n"
             "Example:\n  icms gapcoin address 76a914d1881cd5bec33eb670aa1c79267a4a516d77ec9a88ac\n"},
    {.noun = "gapcoin", .verb = "script", .args = "ADDRESS", .min_args = 1, .max_args = 1,
     .fn = cli_gapcoin_script, .summary = "the output script an address expects",
     .help = "Prints {\"address\",\"network\",\"type\",\"script\",\"witness_version\",\"program\"}.\n\n"
             "Example:\n  icms gapcoin script GcwphVTaks2XGGB8RUk7auWdgmG8CV14TF\n"},

    /* ---- demo ---- */
    {.noun = "demo", .args = "", .max_args = 0, .opts = OPT_DIR, .fn = cli_demo,
     .summary = "run the whole lifecycle against a simulated Gapcoin node",
     .help = "Creates an SQLite database in a temporary folder (or --dir DIR, which must be\n"
             "empty or absent) and plays the seed's story step by step; --json prints the\n"
             "steps as JSON. Exit 0 when every step had the expected outcome.\n\n"
             "Example:\n  icms demo\n"},
};
/* clang-format on */

const size_t cli_command_count = sizeof cli_commands / sizeof cli_commands[0];
