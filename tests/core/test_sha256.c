/* SHA-256: the FIPS 180-2 vectors and agreement with libsodium, on both paths (SHA-NI where
 * this CPU has it, and the portable one forced). Under valgrind the CPUID it emulates does not
 * report SHA, so both runs take the portable path there. */
#include "support/test_support.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "core/sha256.h"
#include "icms/util.h"

/* The paths each test runs on: 0 = what the CPU offers, 1 = portable forced. */
#define PATHS 2

static void use_path(int portable)
{
    icms__sha256_force_portable(portable != 0);
}

static int setup(void **state)
{
    (void)state;
    return icms_init() == 1 ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    icms__sha256_force_portable(false);
    return icms_shutdown() == 0 ? 0 : -1;
}

/* A fixed-seed generator, so a failure reproduces. */
static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static void fill_random(uint8_t *b, size_t len)
{
    for (size_t i = 0; i < len; i++)
        b[i] = (uint8_t)rng();
}

static void assert_digest_hex(const uint8_t digest[32], const char *hex)
{
    char got[65];
    sodium_bin2hex(got, sizeof got, digest, 32);
    assert_string_equal(got, hex);
}

static void test_path_choice(void **state)
{
    (void)state;
    icms__sha256_ctx st;
    use_path(0);
    printf("# SHA-NI on this CPU (as CPUID reports it here): %s\n",
           icms__sha256_shani_supported() ? "yes" : "no");
    assert_int_equal(icms__sha256_accelerated(), icms__sha256_shani_supported());
    icms__sha256_init(&st);
    assert_int_equal(st.accel, icms__sha256_shani_supported());
    use_path(1);
    assert_false(icms__sha256_accelerated());
    icms__sha256_init(&st);
    assert_false(st.accel);
    use_path(0);
    assert_int_equal(icms__sha256_accelerated(), icms__sha256_shani_supported());
}

static void test_fips_vectors(void **state)
{
    (void)state;
    static const struct {
        const char *msg;
        const char *hex;
    } v[] = {
        {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
        {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
        {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
        {"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrl"
         "mnopqrsmnopqrstnopqrstu",
         "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"},
    };
    for (int path = 0; path < PATHS; path++) {
        use_path(path);
        for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
            uint8_t d[32];
            icms__sha256(v[i].msg, strlen(v[i].msg), d);
            assert_digest_hex(d, v[i].hex);
            /* Byte by byte through update. */
            icms__sha256_ctx st;
            icms__sha256_init(&st);
            for (const char *p = v[i].msg; *p; p++)
                icms__sha256_update(&st, p, 1);
            icms__sha256_final(&st, d);
            assert_digest_hex(d, v[i].hex);
        }
    }
}

static void test_million_a(void **state)
{
    (void)state;
    static const char *hex = "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0";
    uint8_t *a = malloc(1000000);
    assert_non_null(a);
    memset(a, 'a', 1000000);
    for (int path = 0; path < PATHS; path++) {
        use_path(path);
        uint8_t d[32];
        icms__sha256(a, 1000000, d);
        assert_digest_hex(d, hex);
        /* In odd-sized pieces, so partial blocks meet whole ones in every way. */
        static const size_t pieces[] = {1, 63, 64, 65, 127, 128, 1000, 4096, 7};
        icms__sha256_ctx st;
        icms__sha256_init(&st);
        size_t done = 0;
        for (size_t i = 0; done < 1000000; i++) {
            size_t n = pieces[i % (sizeof pieces / sizeof pieces[0])];
            if (n > 1000000 - done)
                n = 1000000 - done;
            icms__sha256_update(&st, a + done, n);
            done += n;
        }
        icms__sha256_final(&st, d);
        assert_digest_hex(d, hex);
    }
    free(a);
}

static void test_empty_and_null(void **state)
{
    (void)state;
    static const char *hex = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    for (int path = 0; path < PATHS; path++) {
        use_path(path);
        uint8_t d[32];
        icms__sha256(NULL, 0, d);
        assert_digest_hex(d, hex);
        icms__sha256_ctx st;
        icms__sha256_init(&st);
        icms__sha256_update(&st, NULL, 0);
        icms__sha256_update(&st, "abc", 3);
        icms__sha256_update(&st, NULL, 0);
        icms__sha256_final(&st, d);
        assert_digest_hex(d, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }
}

/* Every length 0..300, random bytes, whole and in up to four random pieces, against
 * libsodium's crypto_hash_sha256. */
static void test_agrees_with_libsodium(void **state)
{
    (void)state;
    enum { MAX_LEN = 300, PER_LEN = 12 };
    uint8_t msg[MAX_LEN];
    size_t checked = 0;
    for (int path = 0; path < PATHS; path++) {
        use_path(path);
        for (size_t len = 0; len <= MAX_LEN; len++) {
            for (int k = 0; k < PER_LEN; k++) {
                fill_random(msg, len);
                uint8_t want[32], got[32];
                crypto_hash_sha256(want, msg, len);
                icms__sha256(msg, len, got);
                assert_memory_equal(got, want, 32);

                size_t cut[5] = {0, 0, 0, 0, len};
                for (int c = 1; c < 4; c++)
                    cut[c] = len ? (size_t)(rng() % (len + 1)) : 0;
                for (int i = 1; i < 4; i++) /* sort the three cuts */
                    for (int j = i; j > 1 && cut[j - 1] > cut[j]; j--) {
                        size_t t = cut[j];
                        cut[j] = cut[j - 1];
                        cut[j - 1] = t;
                    }
                icms__sha256_ctx st;
                icms__sha256_init(&st);
                for (int c = 0; c < 4; c++)
                    icms__sha256_update(&st, msg + cut[c], cut[c + 1] - cut[c]);
                memset(got, 0, sizeof got);
                icms__sha256_final(&st, got);
                assert_memory_equal(got, want, 32);
                checked++;
            }
        }
    }
    assert_int_equal(checked, PATHS * (MAX_LEN + 1) * PER_LEN);
}

/* A hash keeps the path it started on when the switch moves under it. */
static void test_path_fixed_at_init(void **state)
{
    (void)state;
    uint8_t msg[200], want[32], got[32];
    fill_random(msg, sizeof msg);
    crypto_hash_sha256(want, msg, sizeof msg);
    for (int path = 0; path < PATHS; path++) {
        use_path(path);
        icms__sha256_ctx st;
        icms__sha256_init(&st);
        icms__sha256_update(&st, msg, 70);
        use_path(!path);
        icms__sha256_update(&st, msg + 70, sizeof msg - 70);
        use_path(path);
        icms__sha256_final(&st, got);
        assert_memory_equal(got, want, 32);
    }
}

/* The SHA-NI path wipes its state at final (libsodium's final wipes its own). */
static void test_final_wipes(void **state)
{
    (void)state;
    static const uint8_t zero[128];
    use_path(0);
    icms__sha256_ctx st;
    uint8_t d[32];
    icms__sha256_init(&st);
    icms__sha256_update(&st, "a secret verifier", 17);
    icms__sha256_final(&st, d);
    if (st.accel) {
        assert_memory_equal(st.h, zero, sizeof st.h);
        assert_memory_equal(st.buf, zero, sizeof st.buf);
    } else {
        assert_true(sizeof st.sodium <= sizeof zero);
        assert_memory_equal(&st.sodium, zero, sizeof st.sodium);
    }
}

/* Hashing from several threads while another flips the switch: each hash is right whatever
 * path it took (run under TSan by the `threads` label). */
enum { THREADS = 3, HASHES = 400 };

static void *hash_worker(void *arg)
{
    uint64_t seed = (uint64_t)(uintptr_t)arg;
    uint8_t msg[257], want[32], got[32];
    for (int i = 0; i < HASHES; i++) {
        size_t len = (size_t)(seed % sizeof msg);
        for (size_t j = 0; j < len; j++) {
            seed = seed * 6364136223846793005u + 1442695040888963407u;
            msg[j] = (uint8_t)(seed >> 56);
        }
        crypto_hash_sha256(want, msg, len);
        icms__sha256(msg, len, got);
        if (memcmp(got, want, 32) != 0)
            return (void *)1;
    }
    return NULL;
}

static atomic_bool hashing_done;

static void *flip_worker(void *arg)
{
    (void)arg;
    for (unsigned i = 0; !atomic_load(&hashing_done); i++)
        icms__sha256_force_portable(i & 1);
    return NULL;
}

static void test_threads(void **state)
{
    (void)state;
    pthread_t t[THREADS], flipper;
    atomic_store(&hashing_done, false);
    assert_int_equal(pthread_create(&flipper, NULL, flip_worker, NULL), 0);
    for (uintptr_t i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, hash_worker, (void *)(i * 7919 + 1)), 0);
    int bad = 0;
    for (int i = 0; i < THREADS; i++) {
        void *r;
        assert_int_equal(pthread_join(t[i], &r), 0);
        bad += r != NULL;
    }
    atomic_store(&hashing_done, true);
    assert_int_equal(pthread_join(flipper, NULL), 0);
    assert_int_equal(bad, 0);
    icms__sha256_force_portable(false);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_path_choice),
        cmocka_unit_test(test_fips_vectors),
        cmocka_unit_test(test_million_a),
        cmocka_unit_test(test_empty_and_null),
        cmocka_unit_test(test_agrees_with_libsodium),
        cmocka_unit_test(test_path_fixed_at_init),
        cmocka_unit_test(test_final_wipes),
        cmocka_unit_test(test_threads),
    };
    return cmocka_run_group_tests_name("core_sha256", tests, setup, teardown);
}
