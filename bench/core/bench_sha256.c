/*
 * SHA-256 hashes per second on this machine, on the SHA-NI path (when the CPU has it) and on
 * the portable path (libsodium), for message sizes from an audit link's to a large blob's.
 *
 *   bench_sha256 [SECONDS_PER_CASE]     default 1
 *
 *   bench_sha256 once LEN [portable]     hash LEN bytes once, in hash_once(), for counting
 *                                       its instructions with gdb (count_insns.py): valgrind
 *                                       cannot run the SHA instructions
 *
 * With ICMS_BENCH_ITERS=N in the environment each case instead runs a fixed N rounds (1000
 * hashes, or one of a megabyte), for instruction counts under callgrind (which always takes the
 * portable path: valgrind's CPUID does not report SHA).
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

/* One hash, alone in a function, for count_insns.py. */
__attribute__((noinline)) void hash_once(const uint8_t *msg, size_t len, uint8_t out[32]);
__attribute__((noinline)) void hash_once(const uint8_t *msg, size_t len, uint8_t out[32])
{
    icms__sha256(msg, len, out);
}

static int once(size_t len, bool portable)
{
    uint8_t *msg = calloc(1, len + 1), out[32];
    if (!msg)
        return 1;
    icms__sha256_force_portable(portable);
    icms__sha256(msg, 1, out); /* CPUID asked, symbols bound, before the counted hash */
    hash_once(msg, len, out);
    printf("%zu bytes, %s path: %02x%02x%02x%02x...\n", len,
           icms__sha256_accelerated() ? "SHA-NI" : "portable", out[0], out[1], out[2], out[3]);
    free(msg);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 2 && strcmp(argv[1], "once") == 0)
        return once((size_t)strtoul(argv[2], NULL, 10),
                    argc > 3 && strcmp(argv[3], "portable") == 0);
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
