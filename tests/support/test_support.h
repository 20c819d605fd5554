/* Shared helpers for the cmocka suites. */
#ifndef ICMS_TEST_SUPPORT_H
#define ICMS_TEST_SUPPORT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

/* Path of a file under tests/data (ICMS_TEST_DATA), in a static buffer. */
const char *icms_test_data_path(const char *relative);

/* Read a whole file into a NUL-terminated malloc'd buffer; fails the test on error. */
char *icms_test_read_file(const char *path, size_t *len_out);

/* A fresh, empty directory for this test, under ICMS_TEST_TMP; static buffer. */
const char *icms_test_tmpdir(const char *name);

/* Decode hex into a malloc'd buffer; fails the test on bad hex. */
uint8_t *icms_test_unhex(const char *hex, size_t *len_out);

/* Assert an icms call returned code, printing icms_error_last() when not. */
#define assert_icms(expected, call)                                                                \
    do {                                                                                           \
        int icms_rc_ = (call);                                                                     \
        if (icms_rc_ != (expected))                                                                \
            fail_msg("%s returned %d (%s), expected %d: %s", #call, icms_rc_,                      \
                     icms_error_name(icms_rc_), (int)(expected), icms_error_last()->message);     \
    } while (0)
#define assert_icms_ok(call) assert_icms(0, call)

#endif
