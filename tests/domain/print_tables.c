/* Prints the three transition tables as docs/domain.md shows them: `print_tables > tables.md`. */
#include <stdio.h>

#include "core/core.h"
#include "domain/domain.h"

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
    return 0;
}
