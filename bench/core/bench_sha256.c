/*
 * SHA-256 hashes per second on this machine, on the SHA-NI path (when the CPU has it) and on
 * the portable path (libsodium), for message sizes from an audit link's to a large blob's.
 *
 *   bench_sha256 [SECONDS_PER_CASE]     default 1
 *
 * With ICMS_BENCH_ITERS=N in the environment each case instead runs a fixed N rounds (1000
 * hashes, or one of a megabyte), for instruction counts under callgrind (which always takes the portable path:
 * valgrind's CPUID does not report SHA).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/sha256.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static volatile uint8_t sink; /* keeps the digests live */

/* Hashes per second of len-byte messages on the path selected now; a round is 1000 hashes
 * (one for megabyte messages). */
static double rate(const uint8_t *msg, size_t len, double secs, size_t fixed_rounds)
{
    int per_round = len >= 65536 ? 1 : 1000;
    uint8_t out[32];
    size_t rounds = 0;
    double start = now(), elapsed = 0;
    while (fixed_rounds ? rounds < fixed_rounds : elapsed < secs) {
        for (int i = 0; i < per_round; i++) {
            icms__sha256(msg, len, out);
            sink ^= out[0];
        }
        rounds++;
        elapsed = now() - start;
    }
    return (double)rounds * per_round / elapsed;
}

int main(int argc, char **argv)
{
    double secs = argc > 1 ? atof(argv[1]) : 1.0;
    const char *iters = getenv("ICMS_BENCH_ITERS");
    size_t fixed = iters ? (size_t)strtoul(iters, NULL, 10) : 0;
    if (secs <= 0) {
        fprintf(stderr, "usage: bench_sha256 [SECONDS_PER_CASE]\n");
        return 2;
    }
    static const size_t sizes[] = {32, 64, 200, 500, 4096, 1 << 20};
    size_t max = sizes[sizeof sizes / sizeof sizes[0] - 1];
    uint8_t *msg = malloc(max);
    if (!msg)
        return 1;
    for (size_t i = 0; i < max; i++)
        msg[i] = (uint8_t)(i * 131 + 7);

    bool shani = icms__sha256_accelerated();
    printf("SHA-NI on this CPU: %s\n", shani ? "yes" : "no (both columns are the portable path)");
    printf("%8s | %14s %9s | %15s %9s | %6s\n", "bytes", "SHA-NI hash/s", "MB/s", "portable hash/s",
           "MB/s", "ratio");
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        size_t len = sizes[i];
        icms__sha256_force_portable(false);
        double fast = rate(msg, len, secs, fixed);
        icms__sha256_force_portable(true);
        double slow = rate(msg, len, secs, fixed);
        icms__sha256_force_portable(false);
        printf("%8zu | %14.0f %9.1f | %15.0f %9.1f | %6.2f\n", len, fast, fast * (double)len / 1e6,
               slow, slow * (double)len / 1e6, fast / slow);
    }
    free(msg);
    return 0;
}
