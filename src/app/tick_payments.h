/* The payment part of icms_tick (see tick_payments.c). */
#ifndef ICMS_SRC_APP_TICK_PAYMENTS_H
#define ICMS_SRC_APP_TICK_PAYMENTS_H

#include "app/db.h"

typedef struct icms__tick_payment_report {
    int64_t verified;
    int64_t node_errors;
} icms__tick_payment_report;

int icms__tick_payments(icms_db *db, icms__tick_payment_report *report);

/*
 * Where the tick's verification passes stopped, kept by the handle so that
 * the next tick goes on from there (tick_payments.c). Not kept in the store:
 * a new handle starts again from the first payment, which costs one lap.
 */
typedef struct icms__tick_cursors icms__tick_cursors;
int icms__tick_cursors_new(icms__tick_cursors **out);
void icms__tick_cursors_free(icms__tick_cursors *cursors);

#endif
