/*
 * The clock's part of a payment's lateness, read from its stored document and
 * its project's: what icms__payment_is_late() needs besides the status, the
 * mark and the project's state.
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

/*
 * Close the payment's window at its project's expiry_date as well, when that
 * comes first and the project is one the expiry sweep would end (PUBLISHED or
 * FUNDING): the project's deadline passes by the clock, and the sweep that
 * marks the project EXPIRED only catches up with it, exactly as for the
 * payment's own expires_at. So a transaction attached at or after the
 * project's expiry_date is late whether or not the sweep has run, and one
 * attached before it is on time however late it confirms. A project that is
 * already funded (or beyond) never expires, so its date closes nothing; one
 * that has ended makes the payment late by its state. An expiry_date that
 * cannot be read reads as passed long ago. Call after
 * icms__payment_late_times(); a NULL project changes nothing.
 */
void icms__payment_late_project(icms__payment_late_facts *facts, const cJSON *project);

#endif
