/*
 * Access tokens per second, EdDSA beside RS256 with RSA-4096, in one run.
 *
 *   bench_auth [SECONDS]      (default 1 per measurement)
 *
 * - sign / verify: the compact JWS alone, the same header.payload for both
 *   algorithms (our claims, a 43-character kid): EdDSA through libsodium,
 *   RS256 (RSASSA-PKCS1-v1_5 with SHA-256) through OpenSSL's EVP API.
 * - library paths: icms_auth_login_external (a session, a refresh record,
 *   an audit entry and two events written, one commit) and icms_auth_verify
 *   (settings, key and session read in one read transaction), on the
 *   in-memory store so that the numbers are the library's and not the disk's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <sodium.h>

#include "auth/crypto.h"
#include "icms/auth.h"
#include "icms/db.h"
#include "icms/sys/clock.h"
#include "icms/sys/secrets.h"
#include "icms/sys/store.h"

static double seconds = 1.0;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "bench_auth: %s failed: %s\n", what, icms_error_last()->message);
        exit(1);
    }
}

/* Run fn repeatedly for `seconds`; operations per second. */
static double rate(void (*fn)(void *), void *arg)
{
    fn(arg); /* warm up */
    long n = 0;
    double start = now_s(), end;
    do {
        for (int i = 0; i < 16; i++)
            fn(arg);
        n += 16;
        end = now_s();
    } while (end - start < seconds);
    return (double)n / (end - start);
}

/* ---- the token both algorithms sign ---- */

static char signing_input[1024];
static size_t signing_len;

static void make_input(void)
{
    icms__claims c;
    memset(&c, 0, sizeof c);
    strcpy(c.iss, "https://icms.example");
    strcpy(c.aud, "icms-api");
    strcpy(c.sub, "0190f5a2-7b3c-7def-8123-456789abcdef");
    strcpy(c.sid, "0190f5a2-7b3c-7def-8123-456789abcde0");
    strcpy(c.jti, "0190f5a2-7b3c-7def-8123-456789abcde1");
    c.roles = 3;
    c.iat = c.nbf = 1767225600;
    c.exp = c.iat + 900;
    cJSON *p = icms__claims_json(&c);
    char *text = cJSON_PrintUnformatted(p);
    char h[256], b[1024];
    const char *hj = "{\"alg\":\"EdDSA\",\"kid\":\"kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k\","
                     "\"typ\":\"JWT\"}";
    icms__b64url_encode((const uint8_t *)hj, strlen(hj), h);
    icms__b64url_encode((const uint8_t *)text, strlen(text), b);
    signing_len = (size_t)snprintf(signing_input, sizeof signing_input, "%s.%s", h, b);
    free(text);
    cJSON_Delete(p);
}

/* ---- EdDSA ---- */

static struct {
    uint8_t pk[32], sk[64], sig[64];
    char token[2048];
} ed;

static void ed_sign(void *arg)
{
    (void)arg;
    crypto_sign_detached(ed.sig, NULL, (const uint8_t *)signing_input, signing_len, ed.sk);
}

static void ed_verify(void *arg)
{
    (void)arg;
    check(crypto_sign_verify_detached(ed.sig, (const uint8_t *)signing_input, signing_len, ed.pk) ==
              0,
          "Ed25519 verify");
}

/* The whole pure verification path: parse, decode, verify, check claims. */
static void ed_parse_verify(void *arg)
{
    (void)arg;
    icms__jws jws;
    check(icms__jws_parse(ed.token, &jws) == ICMS_OK, "jws parse");
    check(icms__jws_verify(&jws, ed.pk) == ICMS_OK, "jws verify");
    icms__claims c;
    check(icms__claims_check(jws.payload, "https://icms.example", "icms-api", 1767225600000LL, 0,
                             &c) == ICMS_OK,
          "claims");
    icms__jws_clear(&jws);
}

/* ---- RS256 ---- */

static struct {
    EVP_PKEY *key;
    unsigned char sig[512];
    size_t sig_len;
} rs;

static void rs_sign(void *arg)
{
    (void)arg;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    rs.sig_len = sizeof rs.sig;
    check(EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, rs.key) == 1 &&
              EVP_DigestSign(ctx, rs.sig, &rs.sig_len, (const unsigned char *)signing_input,
                             signing_len) == 1,
          "RS256 sign");
    EVP_MD_CTX_free(ctx);
}

static void rs_verify(void *arg)
{
    (void)arg;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    check(EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, rs.key) == 1 &&
              EVP_DigestVerify(ctx, rs.sig, rs.sig_len, (const unsigned char *)signing_input,
                               signing_len) == 1,
          "RS256 verify");
    EVP_MD_CTX_free(ctx);
}

/* ---- the library's paths ---- */

static struct {
    icms_db *db;
    icms_auth *auth;
    long n;
    char access[2048];
} lib;

static void lib_login(void *arg)
{
    (void)arg;
    char subject[32];
    snprintf(subject, sizeof subject, "bench-%ld", lib.n++ % 1000);
    char email[64];
    snprintf(email, sizeof email, "%s@example.org", subject);
    icms_auth_identity id = ICMS_AUTH_IDENTITY_INIT;
    id.provider = "google";
    id.subject = subject;
    id.email = email;
    id.email_verified = 1;
    icms_request req = ICMS_REQUEST_INIT;
    char *out = NULL;
    check(icms_auth_login_external(lib.auth, &req, &id, &out) == ICMS_OK, "login");
    if (!lib.access[0]) {
        const char *p = strstr(out, "\"access_token\":\"") + 16;
        snprintf(lib.access, sizeof lib.access, "%.*s", (int)(strchr(p, '"') - p), p);
    }
    icms_free(out);
}

static void lib_verify(void *arg)
{
    (void)arg;
    check(icms_auth_verify(lib.auth, lib.access, NULL) == ICMS_OK, "icms_auth_verify");
}

int main(int argc, char **argv)
{
    if (argc > 1)
        seconds = atof(argv[1]);
    if (seconds <= 0) {
        fprintf(stderr, "usage: bench_auth [SECONDS]\n");
        return 2;
    }
    check(icms_init() > 0, "icms_init");
    make_input();

    uint8_t seed[32];
    randombytes_buf(seed, sizeof seed);
    crypto_sign_seed_keypair(ed.pk, ed.sk, seed);
    ed_sign(NULL);
    char sig64[100];
    icms__b64url_encode(ed.sig, 64, sig64);
    snprintf(ed.token, sizeof ed.token, "%s.%s", signing_input, sig64);

    double t0 = now_s();
    rs.key = EVP_RSA_gen(4096);
    check(rs.key != NULL, "RSA-4096 key generation");
    double keygen = now_s() - t0;
    rs_sign(NULL);

    double ed_s = rate(ed_sign, NULL), ed_v = rate(ed_verify, NULL);
    double ed_pv = rate(ed_parse_verify, NULL);
    double rs_s = rate(rs_sign, NULL), rs_v = rate(rs_verify, NULL);

    icms_options o = ICMS_OPTIONS_INIT;
    check(icms_store_memory_new(&o.store) == ICMS_OK, "memory store");
    check(icms_open(&lib.db, &o) == ICMS_OK, "icms_open");
    icms_auth_options a = ICMS_AUTH_OPTIONS_INIT;
    a.issuer = "https://icms.example";
    a.audience = "icms-api";
    check(icms_secrets_static_new(seed, 32, &a.secrets) == ICMS_OK, "secrets");
    check(icms_auth_new(&lib.auth, lib.db, &a) == ICMS_OK, "icms_auth_new");
    double l_login = rate(lib_login, NULL), l_verify = rate(lib_verify, NULL);

    printf("bench_auth (%.1f s per measurement; header.payload %zu bytes)\n", seconds, signing_len);
    printf("  signature sizes: EdDSA 64 bytes, RS256/RSA-4096 %zu bytes; public keys 32 vs "
           "512+ bytes\n",
           rs.sig_len);
    printf("  RSA-4096 key generation: %.2f s (Ed25519: microseconds)\n", keygen);
    printf("  %-44s %12.0f /s\n", "EdDSA sign (libsodium)", ed_s);
    printf("  %-44s %12.0f /s\n", "RS256 sign (OpenSSL, RSA-4096)", rs_s);
    printf("  %-44s %12.1f x\n", "  sign: EdDSA / RS256", ed_s / rs_s);
    printf("  %-44s %12.0f /s\n", "EdDSA verify (libsodium)", ed_v);
    printf("  %-44s %12.0f /s\n", "RS256 verify (OpenSSL, RSA-4096)", rs_v);
    printf("  %-44s %12.2f x\n", "  verify: EdDSA / RS256", ed_v / rs_v);
    printf("  %-44s %12.0f /s\n", "EdDSA parse+verify+claims (icms__jws_*)", ed_pv);
    printf("  %-44s %12.0f /s\n", "icms_auth_login_external (memory store)", l_login);
    printf("  %-44s %12.0f /s\n", "icms_auth_verify (memory store)", l_verify);

    icms_auth_free(lib.auth);
    icms_close(lib.db);
    EVP_PKEY_free(rs.key);
    icms_shutdown();
    return 0;
}
