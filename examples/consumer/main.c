/*
 * The smallest program built against an installed libicms: it initialises the
 * library, checks that the headers and the library agree on the version, shows
 * how an error code reads, and shuts down. The tests build it twice, through
 * find_package(icms) and through pkg-config, against a fresh install.
 */
#include <stdio.h>
#include <string.h>

#include <icms.h>

int main(void)
{
    if (icms_init() < 0) {
        fprintf(stderr, "icms_init: %s\n", icms_error_last()->message);
        return 1;
    }

    /* The headers we compiled against and the library we run with must agree. */
    printf("libicms %s (headers %s)\n", icms_version(), ICMS_VERSION);
    if (icms_version_number() / 100 != ICMS_VERSION_NUMBER / 100) {
        fprintf(stderr, "library %s does not match headers %s\n", icms_version(), ICMS_VERSION);
        icms_shutdown();
        return 1;
    }

    /* Every failure is a negative code with a name and a sentence. */
    int code = ICMS_ENOTFOUND;
    printf("%s: %s\n", icms_error_name(code), icms_strerror(code));
    if (strcmp(icms_strerror(code), "not found") != 0) {
        icms_shutdown();
        return 1;
    }

    if (icms_shutdown() != 0) {
        fprintf(stderr, "icms_shutdown: %s\n", icms_error_last()->message);
        return 1;
    }
    printf("ok\n");
    return 0;
}
