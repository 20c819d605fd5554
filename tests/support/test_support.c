#include "test_support.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "icms/common.h"

const char *icms_test_data_path(const char *relative)
{
    static char path[4096];
    const char *root = getenv("ICMS_TEST_DATA");
    if (!root)
        fail_msg("ICMS_TEST_DATA is not set (run the tests through ctest)");
    snprintf(path, sizeof path, "%s/%s", root, relative);
    return path;
}

char *icms_test_read_file(const char *path, size_t *len_out)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open %s: %s", path, strerror(errno));
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)len + 1);
    assert_non_null(buf);
    if (fread(buf, 1, (size_t)len, f) != (size_t)len)
        fail_msg("short read on %s", path);
    fclose(f);
    buf[len] = '\0';
    if (len_out)
        *len_out = (size_t)len;
    return buf;
}

static void remove_tree(const char *path)
{
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
    if (system(cmd) != 0)
        fail_msg("cannot remove %s", path);
}

const char *icms_test_tmpdir(const char *name)
{
    static char path[4096];
    const char *root = getenv("ICMS_TEST_TMP");
    if (!root)
        root = "/tmp";
    mkdir(root, 0700);
    snprintf(path, sizeof path, "%s/%s", root, name);
    remove_tree(path);
    if (mkdir(path, 0700) != 0)
        fail_msg("cannot create %s: %s", path, strerror(errno));
    return path;
}

uint8_t *icms_test_unhex(const char *hex, size_t *len_out)
{
    size_t n = strlen(hex);
    if (n % 2)
        fail_msg("odd-length hex");
    uint8_t *out = malloc(n / 2 + 1);
    assert_non_null(out);
    for (size_t i = 0; i < n / 2; i++) {
        unsigned int byte;
        if (sscanf(hex + 2 * i, "%2x", &byte) != 1)
            fail_msg("bad hex at %zu", 2 * i);
        out[i] = (uint8_t)byte;
    }
    *len_out = n / 2;
    return out;
}
