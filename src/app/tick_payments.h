/* The payment part of icms_tick (see tick_payments.c). */
#ifndef ICMS_SRC_APP_TICK_PAYMENTS_H
#define ICMS_SRC_APP_TICK_PAYMENTS_H

#include "app/db.h"

typedef struct icms__tick_payment_report {
    int64_t verified;
    int64_t node_errors;
} icms__tick_payment_report;

int icms__tick_payments(icms_db *db, icms__tick_payment_report *report);

#endif
