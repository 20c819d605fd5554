/*
 * Prints the three transition tables and the read and lateness tables as
 * docs/domain.md shows them: `print_tables > tables.md`.
 */
#include <stdio.h>

#include "core/core.h"
#include "domain/domain.h"
#include "read_tables.h"

int main(void)
{
    const struct {
        const char *title;
        const icms__machine *m;
    } machines[] = {{"Project", icms__project_machine()},
                    {"Participation", icms__participation_machine()},
                    {"Payment", icms__payment_machine()}};
    for (size_t i = 0; i < sizeof machines / sizeof machines[0]; i++) {
        char *md = NULL;
        if (icms__machine_markdown(machines[i].m, &md) != ICMS_OK) {
            fprintf(stderr, "%s\n", icms_error_last()->message);
            return 1;
        }
        printf("%s:\n\n%s\n", machines[i].title, md);
        icms__free(md);
    }
    const struct {
        const char *title;
        int (*render)(char *, size_t);
    } tables[] = {{"Who may see a project", icms_test_visibility_table},
                  {"Who may list records", icms_test_listing_table},
                  {"Who may list releases", icms_test_release_listing_table},
                  {"When a payment is late", icms_test_lateness_table}};
    for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++) {
        static char md[8192];
        if (tables[i].render(md, sizeof md) != 0) {
            fprintf(stderr, "%s: table too long\n", tables[i].title);
            return 1;
        }
        printf("%s:\n\n%s\n", tables[i].title, md);
    }
    return 0;
}
