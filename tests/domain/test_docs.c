/* docs/domain.md shows exactly the tables the code runs (regenerate with icms_domain_print_tables).
 */
#include "support/test_support.h"

#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "domain/domain.h"
#include "read_tables.h"

static void check_table(const char *doc, const icms__machine *m)
{
    char *md = NULL;
    assert_icms_ok(icms__machine_markdown(m, &md));
    if (strstr(doc, md) == NULL)
        fail_msg("docs/domain.md does not contain the %s table as the code has it:\n%s", m->noun,
                 md);
    icms__free(md);
}

static void test_tables_in_docs(void **state)
{
    (void)state;
    size_t len = 0;
    char *doc = icms_test_read_file(ICMS_DOMAIN_DOC, &len);
    check_table(doc, icms__project_machine());
    check_table(doc, icms__participation_machine());
    check_table(doc, icms__payment_machine());
    free(doc);
}

/* The read and lateness tables are rendered by asking the domain functions for every cell. */
static void check_rendered(const char *doc, const char *what, int (*render)(char *, size_t))
{
    static char md[8192];
    assert_int_equal(render(md, sizeof md), 0);
    if (strstr(doc, md) == NULL)
        fail_msg("docs/domain.md does not contain the %s table as the code has it:\n%s", what,
                 md);
}

static void test_read_tables_in_docs(void **state)
{
    (void)state;
    size_t len = 0;
    char *doc = icms_test_read_file(ICMS_DOMAIN_DOC, &len);
    check_rendered(doc, "project visibility", icms_test_visibility_table);
    check_rendered(doc, "listing", icms_test_listing_table);
    check_rendered(doc, "release listing", icms_test_release_listing_table);
    check_rendered(doc, "lateness", icms_test_lateness_table);
    free(doc);
    char small[16];
    assert_int_equal(icms_test_visibility_table(small, sizeof small), -1);
}

static void test_markdown_shape(void **state)
{
    (void)state;
    char *md = NULL;
    assert_icms_ok(icms__machine_markdown(icms__project_machine(), &md));
    assert_non_null(strstr(md, "| DRAFT | publish | PUBLISHED | owner | has products; positive "
                               "target; deadline ahead | `project.published` |\n"));
    assert_non_null(strstr(md, "| system (automatic) |"));
    icms__free(md);
    assert_int_equal(icms__machine_markdown(NULL, &md), ICMS_EINVALID);
    assert_int_equal(icms__machine_markdown(icms__payment_machine(), NULL), ICMS_EINVALID);
    for (long k = 1; k <= 3; k++) {
        icms__alloc_fail_after(k);
        char *p = NULL;
        int rc = icms__machine_markdown(icms__project_machine(), &p);
        icms__alloc_fail_after(0);
        if (rc == ICMS_OK)
            icms__free(p);
        else
            assert_int_equal(rc, ICMS_ENOMEM);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tables_in_docs),
        cmocka_unit_test(test_read_tables_in_docs),
        cmocka_unit_test(test_markdown_shape),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
