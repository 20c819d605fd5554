/*
 * The read rules (who sees a project, who lists which records, who lists
 * which releases) and the lateness rule rendered as the Markdown tables
 * docs/domain.md shows, by asking the domain functions for each cell:
 * print_tables prints them, test_domain_docs fails when the page and the
 * code disagree.
 */
#ifndef ICMS_TEST_DOMAIN_READ_TABLES_H
#define ICMS_TEST_DOMAIN_READ_TABLES_H

#include <stddef.h>

/* Each writes its table into buf (NUL-terminated); 0, or -1 when len is too small. */
int icms_test_visibility_table(char *buf, size_t len);
int icms_test_listing_table(char *buf, size_t len);
int icms_test_release_listing_table(char *buf, size_t len);
int icms_test_lateness_table(char *buf, size_t len);

#endif
