/* Tests only: called after a batch was published and acknowledged by the server, before the
 * outbox cursor moves (a test makes it kill the process, to prove redelivery is deduplicated). */
#ifndef ICMS_SRC_EVENTS_NATS_HOOK_H
#define ICMS_SRC_EVENTS_NATS_HOOK_H

extern void (*icms__nats_after_publish_hook)(void);

#endif
