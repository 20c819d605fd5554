/*
 * The clock's part of a payment's lateness, read from its stored document:
 * what icms__payment_is_late() needs besides the status, the mark and the
 * project's state.
 */
#ifndef ICMS_SRC_APP_PAYMENT_LATE_H
#define ICMS_SRC_APP_PAYMENT_LATE_H

#include <stdint.h>

#include <cjson/cJSON.h>

#include "domain/payment_rules.h"

/*
 * Fill facts->now_ms with now_ms, facts->expires_at_ms with the payment's
 * expires_at and facts->submitted_at_ms with its submitted_at (0 while it has
 * none: its transaction is being attached now). An expires_at that cannot be
 * read reads as a window long closed, so such money is refunded, never
 * credited; every payment is written with one.
 */
void icms__payment_late_times(icms__payment_late_facts *facts, const cJSON *payment,
                              int64_t now_ms);

#endif
