/*
 * The notifier port: how notifications leave libicms.
 *
 * libicms decides who is told what (routing rules, user preferences) and
 * keeps each notification's delivery state in the store; the host's notifier
 * does the sending (email, push, SMS). Not included by icms.h.
 */
#ifndef ICMS_SYS_NOTIFIER_H
#define ICMS_SYS_NOTIFIER_H

#include "icms/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** One notification to send; every pointer is borrowed for the call only. */
typedef struct icms_notification {
    unsigned int version; /**< ICMS_NOTIFICATION_VERSION */
    /**
     * The notification's id (UUID text). The same notification keeps its id
     * on every attempt, and may be attempted again after a successful send
     * whose outcome was not recorded (a crash): dedupe on it.
     */
    const char *id;
    const char *user_id; /**< the recipient */
    const char *channel; /**< "email", "push" or "sms" */
    /** Where to: the email address (email), phone number (sms), or NULL (push: user_id). */
    const char *address;
    const char *template_key; /**< "participation.requested.owner" (docs/events.md) */
    const char *data_json;    /**< what the template needs, a JSON object */
    const char *event_id;     /**< the event this notification comes from */
    unsigned int attempt;     /**< 1 on the first attempt */
} icms_notification;

#define ICMS_NOTIFICATION_VERSION 1

typedef struct icms_notifier {
    unsigned int version; /**< ICMS_NOTIFIER_VERSION */
    /**
     * Send one notification. Return ICMS_OK when it was handed over, a
     * negative code to have it retried later with exponential backoff, or
     * ICMS_EINVALID when it can never be delivered (it is dead-lettered at
     * once). Called by icms_notify_run / icms_tick on their thread, outside
     * any store transaction; never for two notifications at once from one
     * icms_notify_run call. It may use the handle for commands and queries,
     * but not call icms_notify_run, icms_tick or icms_notify_set_notifier on
     * it (those wait for the run that is calling send).
     */
    int (*send)(struct icms_notifier *self, const icms_notification *notification);
    /** Release the notifier; may be NULL. */
    void (*free)(struct icms_notifier *self);
    void *payload; /**< the host's own; the library never reads it */
} icms_notifier;

#define ICMS_NOTIFIER_VERSION 1
#define ICMS_NOTIFIER_INIT                                                                         \
    {                                                                                              \
        ICMS_NOTIFIER_VERSION, NULL, NULL, NULL                                                    \
    }

#ifdef __cplusplus
}
#endif

#endif /* ICMS_SYS_NOTIFIER_H */
