/*
 * Verifying payments when memory runs out (src/app/payment_verify.c): the
 * read step keeps the payment's stored bytes with its document
 * (icms__record_see) until the apply step takes it (icms__record_ref_seen).
 * Every allocation of icms_payment_verify (read, the node's answer, apply)
 * and of icms_payment_verify_batch fails in turn (icms__alloc_fail_after):
 * each failure answers ICMS_ENOMEM and leaves the store byte-for-byte as it
 * was (two known exceptions, see fail_each_allocation), and the first run
 * that gets through confirms the payments with the right amounts. icms_check
 * runs after every 16th failure and at teardown; ASan and valgrind check
 * that nothing leaks.
 */
#include "support/test_support.h"

#include <stdio.h>
#include <string.h>

#include "core/core.h"
#include "icms/payments.h"
#include "icms/util.h"
#include "pay_fixture.h"
#include "support/fault_store.h"

static int setup(void **state)
{
    return pay_setup_named(state, "payments_enomem");
}

static void check_clean(world *w)
{
    char *report = NULL;
    int rc = icms_check(w->f.db, &w->f.host, &report);
    if (rc != ICMS_OK)
        fail_msg("icms_check: %s\n%s", icms_error_last()->message, report ? report : "");
    icms_free(report);
}

typedef struct tally {
    long enomem;
} tally;

/*
 * Run call with its 1st, 2nd, ... allocation failing until it gets through:
 * every failure must be ICMS_ENOMEM and
 * change nothing, the answer's text included (command.c writes it inside the
 * transaction). Its output once it gets through.
 */
static char *fail_each_allocation(world *w, int (*call)(world *, void *, char **), void *arg,
                                  tally *t)
{
    long n;
    char *out = NULL;
    for (n = 1; n < 100000; n++) {
        uint64_t before, after;
        size_t kb, ka;
        assert_icms_ok(icms_test_store_digest(w->inner, &before, &kb));
        icms__alloc_fail_after(n);
        int rc = call(w, arg, &out);
        icms__alloc_fail_after(0);
        if (rc == ICMS_OK)
            break;
        assert_null(out);
        char message[512];
        snprintf(message, sizeof message, "%s", icms_error_last()->message);
        assert_icms_ok(icms_test_store_digest(w->inner, &after, &ka));
        if (before != after)
            fail_msg("allocation %ld failing (%s: %s) changed the store", n, icms_error_name(rc),
                     message);
        if (rc == ICMS_ENOMEM)
            t->enomem++;
        else
            fail_msg("allocation %ld failing gave %s: %s", n, icms_error_name(rc), message);
        if (n % 16 == 1)
            check_clean(w);
    }
    print_message("%ld allocations failed in turn, each ICMS_ENOMEM with nothing changed\n",
                  n - 1);
    assert_true(t->enomem > 50);
    return out;
}

/* The payment as the store holds it, read with nothing failing. */
static cJSON *stored_payment(world *w, const char *id)
{
    char *out = NULL;
    assert_icms_ok(icms_payment_get(w->f.db, &w->f.admin.req, id, &out));
    return fx_json(out);
}

static void assert_confirmed(const cJSON *p, long long received, long long credited,
                             long long refund_due)
{
    assert_string_equal(fx_str(p, "status"), "CONFIRMED");
    assert_int_equal(fx_int(p, "received"), received);
    assert_int_equal(fx_int(p, "credited"), credited);
    assert_int_equal(fx_int(p, "refund_due"), refund_due);
}

static int verify_one(world *w, void *arg, char **out)
{
    return icms_payment_verify(w->f.db, &w->f.host, arg, out);
}

/* Confirmed whole: the payment, the project's funding, the refund of the excess. */
static void one_confirmed(world *w, void *arg)
{
    cJSON *p = stored_payment(w, arg);
    assert_confirmed(p, TARGET + 7, TARGET, 7);
    cJSON_Delete(p);
    assert_int_equal(funded(w), TARGET);
}

static void test_verify_fails_cleanly_at_every_allocation(void **state)
{
    world *w = *state;
    cJSON *payment = one_submitted(w, "payments_enomem_one", TARGET + 7);
    const char *id = fx_str(payment, "id");
    reopen_with_faults(w); /* the fault store stays unarmed: w->inner gives the digest */

    tally t = {0};
    char *out = fail_each_allocation(w, verify_one, (void *)id, &t);
    assert_non_null(out); /* the answer of the run that got through */
    cJSON *answer = fx_json(out);
    assert_confirmed(answer, TARGET + 7, TARGET, 7);
    cJSON_Delete(answer);
    one_confirmed(w, (void *)id);
    /* Verifying again (nothing failing) changes nothing and answers the same. */
    cJSON *p = verify(w, id);
    assert_confirmed(p, TARGET + 7, TARGET, 7);
    cJSON_Delete(p);
    cJSON_Delete(payment);
}

static int verify_two(world *w, void *arg, char **out)
{
    const char *const *ids = arg;
    return icms_payment_verify_batch(w->f.db, &w->f.host, ids, 2, out);
}

static const long long amounts[2] = {100000000, 50000000}; /* paid_by_two's */

static void two_confirmed(world *w, void *arg)
{
    const char *const *ids = arg;
    for (int i = 0; i < 2; i++) {
        cJSON *p = stored_payment(w, ids[i]);
        assert_confirmed(p, amounts[i], amounts[i], 0);
        cJSON_Delete(p);
    }
    assert_int_equal(funded(w), TARGET);
}

static void test_verify_batch_fails_cleanly_at_every_allocation(void **state)
{
    world *w = *state;
    cJSON *pa, *pb;
    paid_by_two(w, "payments_enomem_batch", NULL, &pa, &pb);
    reopen_with_faults(w);
    const char *ids[2] = {fx_str(pa, "id"), fx_str(pb, "id")};
    tally t = {0};
    char *out = fail_each_allocation(w, verify_two, ids, &t);
    assert_non_null(out); /* the answer of the run that got through */
    cJSON *list = fx_json(out);
    assert_int_equal(cJSON_GetArraySize(list), 2);
    for (int i = 0; i < 2; i++) {
        cJSON *p = cJSON_GetArrayItem(list, i);
        assert_string_equal(fx_str(p, "id"), ids[i]);
        assert_confirmed(p, amounts[i], amounts[i], 0);
    }
    cJSON_Delete(list);
    two_confirmed(w, ids);
    cJSON_Delete(pa);
    cJSON_Delete(pb);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, pay_teardown)
    const struct CMUnitTest tests[] = {
        T(test_verify_fails_cleanly_at_every_allocation),
        T(test_verify_batch_fails_cleanly_at_every_allocation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
