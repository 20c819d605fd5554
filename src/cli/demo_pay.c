/* The demo's payment chapter: waits for include/icms/payments.h. */
#include "demo.h"

void demo_payments(demo *d)
{
    (void)d;
}
