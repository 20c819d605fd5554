/*
 * The public enums and their names (include/icms/types.h). Built as C99 to
 * prove the header is C99; every name round-trips and unknowns are refused.
 */
#include "support/test_support.h"

#include <string.h>

#include "icms/types.h"

static void test_project_states(void **state)
{
    (void)state;
    static const char *const want[] = {
        "DRAFT",    "PUBLISHED",  "FUNDING",   "FULLY_FUNDED", "PENDING_ADMIN_APPROVAL",
        "APPROVED", "IN_TRANSIT", "COMPLETED", "CANCELLED",    "EXPIRED"};
    for (int s = 0; s < ICMS_PROJECT_STATE_COUNT; s++) {
        icms_project_state_t back = ICMS_PROJECT_EXPIRED;
        assert_string_equal(icms_project_state_name((icms_project_state_t)s), want[s]);
        assert_icms_ok(icms_project_state_parse(want[s], &back));
        assert_int_equal(back, s);
    }
    assert_null(icms_project_state_name((icms_project_state_t)ICMS_PROJECT_STATE_COUNT));
    assert_null(icms_project_state_name((icms_project_state_t)-1));
    icms_project_state_t out = ICMS_PROJECT_FUNDING;
    assert_int_equal(icms_project_state_parse("draft", &out), ICMS_EINVALID);
    assert_string_equal(icms_error_last()->message, "unknown project state \"draft\"");
    assert_int_equal(icms_project_state_parse(" DRAFT", &out), ICMS_EINVALID);
    assert_int_equal(icms_project_state_parse("", &out), ICMS_EINVALID);
    assert_int_equal(icms_project_state_parse(NULL, &out), ICMS_EINVALID);
    assert_int_equal(icms_project_state_parse("DRAFT", NULL), ICMS_EINVALID);
    assert_int_equal(out, ICMS_PROJECT_FUNDING);
    /* A long hostile name is quoted only in part. */
    char long_name[300];
    memset(long_name, 'A', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = '\0';
    assert_int_equal(icms_project_state_parse(long_name, &out), ICMS_EINVALID);
    assert_true(strlen(icms_error_last()->message) < 120);

    assert_true(icms_project_state_is_final(ICMS_PROJECT_COMPLETED));
    assert_true(icms_project_state_is_final(ICMS_PROJECT_CANCELLED));
    assert_true(icms_project_state_is_final(ICMS_PROJECT_EXPIRED));
    assert_false(icms_project_state_is_final(ICMS_PROJECT_IN_TRANSIT));
    assert_false(icms_project_state_is_final((icms_project_state_t)99));
}

/* Round-trip every value of a dense enum through its name. */
#define ROUND_TRIP(fn, type, count, first, last)                                                   \
    do {                                                                                           \
        for (int v_ = 0; v_ < (count); v_++) {                                                     \
            type back_;                                                                            \
            const char *n_ = icms_##fn##_name((type)v_);                                           \
            assert_non_null(n_);                                                                   \
            assert_icms_ok(icms_##fn##_parse(n_, &back_));                                         \
            assert_int_equal(back_, v_);                                                           \
        }                                                                                          \
        assert_string_equal(icms_##fn##_name((type)0), first);                                     \
        assert_string_equal(icms_##fn##_name((type)((count)-1)), last);                            \
        assert_null(icms_##fn##_name((type)(count)));                                              \
        type keep_ = (type)0;                                                                      \
        assert_int_equal(icms_##fn##_parse("NOPE", &keep_), ICMS_EINVALID);                        \
        assert_int_equal(icms_##fn##_parse(NULL, &keep_), ICMS_EINVALID);                          \
        assert_int_equal(keep_, 0);                                                                \
    } while (0)

static void test_other_enums(void **state)
{
    (void)state;
    ROUND_TRIP(participation_type, icms_participation_type_t, ICMS_PARTICIPATION_TYPE_COUNT,
               "PRODUCTS", "PROFIT");
    ROUND_TRIP(participation_status, icms_participation_status_t, ICMS_PARTICIPATION_STATUS_COUNT,
               "PENDING", "CANCELLED");
    ROUND_TRIP(payment_status, icms_payment_status_t, ICMS_PAYMENT_STATUS_COUNT, "PENDING",
               "REVERSED");
    ROUND_TRIP(kyc_status, icms_kyc_status_t, ICMS_KYC_STATUS_COUNT, "NONE", "REJECTED");
    ROUND_TRIP(actor_kind, icms_actor_kind_t, ICMS_ACTOR_KIND_COUNT, "USER", "HOST");
    assert_string_equal(icms_payment_status_name(ICMS_PAYMENT_PARTIAL), "PARTIAL");
    assert_string_equal(icms_participation_status_name(ICMS_PARTICIPATION_WITHDRAWN), "WITHDRAWN");
}

static void test_roles(void **state)
{
    (void)state;
    static const struct {
        icms_role_t role;
        const char *name;
    } roles[] = {
        {ICMS_ROLE_OWNER, "OWNER"}, {ICMS_ROLE_INVESTOR, "INVESTOR"}, {ICMS_ROLE_ADMIN, "ADMIN"}};
    unsigned all = 0;
    for (size_t i = 0; i < 3; i++) {
        icms_role_t back;
        assert_string_equal(icms_role_name(roles[i].role), roles[i].name);
        assert_icms_ok(icms_role_parse(roles[i].name, &back));
        assert_int_equal(back, roles[i].role);
        all |= (unsigned)roles[i].role;
    }
    assert_int_equal(all, ICMS_ROLE_ALL);
    /* Role names are for one role: masks and unknown bits have none. */
    assert_null(icms_role_name((icms_role_t)0));
    assert_null(icms_role_name((icms_role_t)(ICMS_ROLE_OWNER | ICMS_ROLE_ADMIN)));
    assert_null(icms_role_name((icms_role_t)8));
    icms_role_t out = ICMS_ROLE_ADMIN;
    assert_int_equal(icms_role_parse("OWNER,ADMIN", &out), ICMS_EINVALID);
    assert_int_equal(icms_role_parse(NULL, &out), ICMS_EINVALID);
    assert_int_equal(icms_role_parse("OWNER", NULL), ICMS_EINVALID);
    assert_int_equal(out, ICMS_ROLE_ADMIN);
}

static void test_base_units(void **state)
{
    (void)state;
    assert_int_equal(ICMS_BASE_UNITS_PER_GAP, 100000000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_project_states),
        cmocka_unit_test(test_other_enums),
        cmocka_unit_test(test_roles),
        cmocka_unit_test(test_base_units),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
