/*
 * The pure parts of auth: base64url, Ed25519 vectors (RFC 8032, RFC 8037),
 * compact JWS with every tamper, algorithm and claim check, PKCE (RFC 7636),
 * state, sealing of signing keys, passwords.
 */
#include "support/test_support.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "auth/crypto.h"
#include "core/core.h"
#include "core/json.h"
#include "icms/auth.h"

static int setup(void **state)
{
    (void)state;
    return icms_init() > 0 ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    icms_shutdown();
    return 0;
}

/* ---- base64url ---- */

static void test_b64url_round_trip_and_rfc4648(void **state)
{
    (void)state;
    /* RFC 4648 section 10 vectors, without padding. */
    const char *in[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    const char *out[] = {"", "Zg", "Zm8", "Zm9v", "Zm9vYg", "Zm9vYmE", "Zm9vYmFy"};
    for (size_t i = 0; i < 7; i++) {
        char text[16];
        icms__b64url_encode((const uint8_t *)in[i], strlen(in[i]), text);
        assert_string_equal(text, out[i]);
        assert_int_equal(strlen(text), icms__b64url_len(strlen(in[i])));
        uint8_t back[16];
        size_t n = 99;
        assert_icms_ok(icms__b64url_decode(text, strlen(text), back, sizeof back, &n));
        assert_int_equal(n, strlen(in[i]));
        assert_memory_equal(back, in[i], n);
    }
    /* The URL-safe alphabet: 0xfb 0xff -> "-_8". */
    uint8_t bytes[] = {0xfb, 0xff};
    char text[8];
    icms__b64url_encode(bytes, 2, text);
    assert_string_equal(text, "-_8");
}

static void test_b64url_strict(void **state)
{
    (void)state;
    uint8_t out[64];
    size_t n;
    const char *bad[] = {"Zg==", "Zm9v\n", "Zm+v", "Zm/v", "Z", "Zm9vY", "Zh", "Zm9", "Zm 9v"};
    /* "Zh" and "Zm9" are non-canonical: their unused trailing bits are set. */
    for (size_t i = 0; i < ICMS__ARRAY_LEN(bad); i++)
        assert_icms(ICMS_EINVALID,
                    icms__b64url_decode(bad[i], strlen(bad[i]), out, sizeof out, &n));
    assert_icms(ICMS_EBUFS, icms__b64url_decode("Zm9vYmFy", 8, out, 5, &n));
}

/* ---- RFC 8032 section 7.1 tests 1 and 2, through libsodium ---- */

static void check_8032(const char *sk_hex, const char *pk_hex, const char *msg_hex,
                       const char *sig_hex)
{
    size_t sk_len, pk_len, msg_len, sig_len;
    uint8_t *seed = icms_test_unhex(sk_hex, &sk_len);
    uint8_t *pk_want = icms_test_unhex(pk_hex, &pk_len);
    uint8_t *msg = msg_hex[0] ? icms_test_unhex(msg_hex, &msg_len) : NULL;
    uint8_t *sig_want = icms_test_unhex(sig_hex, &sig_len);
    if (!msg_hex[0])
        msg_len = 0;
    uint8_t pk[32], sk[64], sig[64];
    crypto_sign_seed_keypair(pk, sk, seed);
    assert_memory_equal(pk, pk_want, 32);
    crypto_sign_detached(sig, NULL, msg ? msg : (const uint8_t *)"", msg_len, sk);
    assert_memory_equal(sig, sig_want, 64);
    assert_int_equal(crypto_sign_verify_detached(sig, msg ? msg : (const uint8_t *)"", msg_len, pk),
                     0);
    sig[10] ^= 1;
    assert_int_not_equal(
        crypto_sign_verify_detached(sig, msg ? msg : (const uint8_t *)"", msg_len, pk), 0);
    free(seed);
    free(pk_want);
    free(msg);
    free(sig_want);
}

static void test_rfc8032_vectors(void **state)
{
    (void)state;
    check_8032("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
               "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
               "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
               "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b");
    check_8032("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
               "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
               "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
               "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00");
}

/* RFC 8037 appendix A: the key of A.1, thumbprint A.3, signature A.4. */
static void test_rfc8037_example(void **state)
{
    (void)state;
    const char *d = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A";
    const char *x = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
    const char *input = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc";
    const char *sig_want = "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g"
                           "7sVvpAr_MuM0KAg";
    uint8_t seed[32], pk[32], sk[64], sig[64];
    size_t n;
    assert_icms_ok(icms__b64url_decode(d, strlen(d), seed, 32, &n));
    crypto_sign_seed_keypair(pk, sk, seed);
    char text[100];
    icms__b64url_encode(pk, 32, text);
    assert_string_equal(text, x);
    char kid[ICMS__AUTH_KID_LEN + 1];
    icms__auth_kid(pk, kid);
    assert_string_equal(kid, "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k");
    crypto_sign_detached(sig, NULL, (const uint8_t *)input, strlen(input), sk);
    icms__b64url_encode(sig, 64, text);
    assert_string_equal(text, sig_want);
    /* Our parser refuses it nonetheless: no kid, and a payload that is not claims. */
    char token[256];
    snprintf(token, sizeof token, "%s.%s", input, sig_want);
    icms__jws jws;
    assert_icms(ICMS_EUNAUTHENTICATED, icms__jws_parse(token, &jws));
}

/* ---- JWS ---- */

typedef struct keypair {
    uint8_t pk[32], sk[64];
    char kid[ICMS__AUTH_KID_LEN + 1];
} keypair;

static void make_key(keypair *k, uint8_t fill)
{
    uint8_t seed[32];
    memset(seed, fill, sizeof seed);
    crypto_sign_seed_keypair(k->pk, k->sk, seed);
    icms__auth_kid(k->pk, k->kid);
}

static cJSON *header(const char *alg, const char *kid)
{
    cJSON *h = cJSON_CreateObject();
    cJSON_AddStringToObject(h, "alg", alg);
    cJSON_AddStringToObject(h, "typ", "JWT");
    if (kid)
        cJSON_AddStringToObject(h, "kid", kid);
    return h;
}

#define T0 1767225600LL /* 2026-01-01T00:00:00Z in seconds */

static icms__claims sample_claims(void)
{
    icms__claims c;
    memset(&c, 0, sizeof c);
    strcpy(c.iss, "https://icms.example");
    strcpy(c.aud, "icms-api");
    strcpy(c.sub, "01900000-0000-7000-8000-000000000001");
    strcpy(c.sid, "01900000-0000-7000-8000-000000000002");
    strcpy(c.jti, "01900000-0000-7000-8000-000000000003");
    c.roles = ICMS_ROLE_INVESTOR | ICMS_ROLE_OWNER;
    c.iat = c.nbf = T0;
    c.exp = T0 + 900;
    return c;
}

static char *sign_sample(const keypair *k, const char *alg)
{
    icms__claims c = sample_claims();
    cJSON *h = header(alg, k->kid), *p = icms__claims_json(&c);
    char *token = NULL;
    assert_icms_ok(icms__jws_sign(h, p, k->sk, &token));
    cJSON_Delete(h);
    cJSON_Delete(p);
    return token;
}

/* Parse, verify with k, check claims at T0: the whole path a token takes. */
static int accept(const char *token, const keypair *k)
{
    icms__jws jws;
    int rc = icms__jws_parse(token, &jws);
    if (rc)
        return rc;
    if (strcmp(jws.kid, k->kid) != 0)
        rc = icms__error(ICMS_EUNAUTHENTICATED, "unknown kid");
    if (rc == ICMS_OK)
        rc = icms__jws_verify(&jws, k->pk);
    icms__claims c;
    if (rc == ICMS_OK)
        rc = icms__claims_check(jws.payload, "https://icms.example", "icms-api", T0 * 1000, 0, &c);
    icms__jws_clear(&jws);
    return rc;
}

static void test_jws_round_trip(void **state)
{
    (void)state;
    keypair k;
    make_key(&k, 7);
    char *token = sign_sample(&k, "EdDSA");
    assert_icms_ok(accept(token, &k));
    icms__jws jws;
    assert_icms_ok(icms__jws_parse(token, &jws));
    icms__claims c;
    assert_icms_ok(icms__claims_check(jws.payload, "https://icms.example", "icms-api",
                                      T0 * 1000 + 1000, 0, &c));
    assert_string_equal(c.sub, "01900000-0000-7000-8000-000000000001");
    assert_int_equal(c.roles, ICMS_ROLE_INVESTOR | ICMS_ROLE_OWNER);
    assert_int_equal(c.exp, T0 + 900);
    icms__jws_clear(&jws);
    /* Another key does not verify it. */
    keypair other;
    make_key(&other, 8);
    memcpy(other.kid, k.kid, sizeof k.kid);
    assert_icms(ICMS_EUNAUTHENTICATED, accept(token, &other));
    icms__free(token);
}

static void test_jws_every_byte_tamper_refused(void **state)
{
    (void)state;
    keypair k;
    make_key(&k, 9);
    char *token = sign_sample(&k, "EdDSA");
    size_t len = strlen(token);
    const char replacements[] = {'A', 'B', 'Q', 'g', 'w', '-', '_', '0', '.', '=', '+', '/'};
    size_t tried = 0;
    for (size_t i = 0; i < len; i++) {
        for (size_t r = 0; r < sizeof replacements; r++) {
            if (token[i] == replacements[r])
                continue;
            char saved = token[i];
            token[i] = replacements[r];
            int rc = accept(token, &k);
            if (rc != ICMS_EUNAUTHENTICATED)
                fail_msg("tampered byte %zu (%c -> %c) was accepted", i, saved, replacements[r]);
            token[i] = saved;
            tried++;
        }
        /* And one bit flip of the character itself (may leave the alphabet). */
        token[i] ^= 0x01;
        assert_icms(ICMS_EUNAUTHENTICATED, accept(token, &k));
        token[i] ^= 0x01;
    }
    assert_true(tried > len * 8);
    /* Truncations and extensions too. */
    for (size_t cut = 0; cut < len; cut++) {
        char saved = token[cut];
        token[cut] = '\0';
        assert_icms(ICMS_EUNAUTHENTICATED, accept(token, &k));
        token[cut] = saved;
    }
    char *longer = malloc(len + 3);
    snprintf(longer, len + 3, "%sAA", token);
    assert_icms(ICMS_EUNAUTHENTICATED, accept(longer, &k));
    free(longer);
    assert_icms_ok(accept(token, &k));
    icms__free(token);
}

static void test_jws_wrong_alg_refused(void **state)
{
    (void)state;
    keypair k;
    make_key(&k, 10);
    /* Signed with the right key, but the header claims another algorithm. */
    const char *algs[] = {"none", "HS256", "RS256", "ES256", "eddsa", "EdDSA "};
    for (size_t i = 0; i < ICMS__ARRAY_LEN(algs); i++) {
        char *token = sign_sample(&k, algs[i]);
        assert_icms(ICMS_EUNAUTHENTICATED, accept(token, &k));
        assert_non_null(strstr(icms_error_last()->message, "alg"));
        icms__free(token);
    }
    /* The classic "none" token with an empty signature. */
    char none[1200];
    char h[128], p[512];
    const char *hj = "{\"alg\":\"none\",\"typ\":\"JWT\"}";
    icms__b64url_encode((const uint8_t *)hj, strlen(hj), h);
    const char *pj = "{\"sub\":\"x\"}";
    icms__b64url_encode((const uint8_t *)pj, strlen(pj), p);
    snprintf(none, sizeof none, "%s.%s.", h, p);
    assert_icms(ICMS_EUNAUTHENTICATED, accept(none, &k));
    /* Extra header members (crit, jku, jwk) are refused. */
    const char *extras[] = {"crit", "jku", "jwk", "x5u", "b64"};
    for (size_t i = 0; i < ICMS__ARRAY_LEN(extras); i++) {
        icms__claims c = sample_claims();
        cJSON *hd = header("EdDSA", k.kid), *pl = icms__claims_json(&c);
        cJSON_AddStringToObject(hd, extras[i], "x");
        char *token = NULL;
        assert_icms_ok(icms__jws_sign(hd, pl, k.sk, &token));
        assert_icms(ICMS_EUNAUTHENTICATED, accept(token, &k));
        icms__free(token);
        cJSON_Delete(hd);
        cJSON_Delete(pl);
    }
}

static int check_at(const icms__claims *c, int64_t now_ms, int64_t leeway_ms, const char *iss,
                    const char *aud)
{
    cJSON *p = icms__claims_json(c);
    icms__claims out;
    int rc = icms__claims_check(p, iss, aud, now_ms, leeway_ms, &out);
    cJSON_Delete(p);
    return rc;
}

static void test_claims_times_issuer_audience(void **state)
{
    (void)state;
    icms__claims c = sample_claims();
    const char *iss = "https://icms.example", *aud = "icms-api";
    int64_t exp_ms = (T0 + 900) * 1000;
    assert_icms_ok(check_at(&c, exp_ms - 1, 0, iss, aud));
    assert_icms(ICMS_EUNAUTHENTICATED, check_at(&c, exp_ms, 0, iss, aud));
    assert_non_null(strstr(icms_error_last()->message, "expired"));
    /* Leeway: 30 s past exp still passes, 30 s exactly does not. */
    assert_icms_ok(check_at(&c, exp_ms + 29999, 30000, iss, aud));
    assert_icms(ICMS_EUNAUTHENTICATED, check_at(&c, exp_ms + 30000, 30000, iss, aud));
    /* Not yet valid. */
    c.nbf = T0 + 60;
    assert_icms(ICMS_EUNAUTHENTICATED, check_at(&c, T0 * 1000, 0, iss, aud));
    assert_non_null(strstr(icms_error_last()->message, "nbf"));
    assert_icms_ok(check_at(&c, T0 * 1000, 60000, iss, aud));
    assert_icms_ok(check_at(&c, (T0 + 60) * 1000, 0, iss, aud));
    c = sample_claims();
    c.iat = T0 + 120;
    assert_icms(ICMS_EUNAUTHENTICATED, check_at(&c, T0 * 1000, 0, iss, aud));
    c = sample_claims();
    assert_icms(ICMS_EUNAUTHENTICATED, check_at(&c, T0 * 1000, 0, "https://evil.example", aud));
    assert_non_null(strstr(icms_error_last()->message, "issuer"));
    assert_icms(ICMS_EUNAUTHENTICATED, check_at(&c, T0 * 1000, 0, iss, "other-api"));
    assert_non_null(strstr(icms_error_last()->message, "audience"));
    /* Missing and mistyped claims. */
    const char *names[] = {"iss", "aud", "sub", "sid", "roles", "iat", "nbf", "exp", "jti"};
    for (size_t i = 0; i < ICMS__ARRAY_LEN(names); i++) {
        cJSON *p = icms__claims_json(&c);
        cJSON_DeleteItemFromObjectCaseSensitive(p, names[i]);
        icms__claims out;
        assert_icms(ICMS_EUNAUTHENTICATED, icms__claims_check(p, iss, aud, T0 * 1000, 0, &out));
        cJSON_AddBoolToObject(p, names[i], 1);
        assert_icms(ICMS_EUNAUTHENTICATED, icms__claims_check(p, iss, aud, T0 * 1000, 0, &out));
        cJSON_Delete(p);
    }
    cJSON *p = icms__claims_json(&c);
    cJSON_AddStringToObject(p, "admin", "yes");
    icms__claims out;
    assert_icms(ICMS_EUNAUTHENTICATED, icms__claims_check(p, iss, aud, T0 * 1000, 0, &out));
    cJSON_Delete(p);
}

/* ---- PKCE and state ---- */

static void test_pkce_rfc7636_vector(void **state)
{
    (void)state;
    const char *verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    char *challenge = NULL;
    assert_icms_ok(icms_auth_pkce_challenge(verifier, &challenge));
    assert_string_equal(challenge, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
    assert_icms_ok(icms_auth_pkce_check(verifier, challenge));
    challenge[5] ^= 1;
    assert_icms(ICMS_EUNAUTHENTICATED, icms_auth_pkce_check(verifier, challenge));
    icms_free(challenge);
    assert_icms(ICMS_EINVALID, icms_auth_pkce_challenge("short", &challenge));
    assert_null(challenge);
    assert_icms(ICMS_EINVALID, icms_auth_pkce_challenge(
                                   "dBjftJeZ4CVP+mB92K27uhbUJU1p1r_wW1gFWFOEjXk", &challenge));
    assert_icms(ICMS_EUNAUTHENTICATED, icms_auth_pkce_check(verifier, NULL));
    char *v = NULL;
    assert_icms_ok(icms_auth_pkce_verifier_new(&v));
    assert_int_equal(strlen(v), 43);
    assert_icms_ok(icms_auth_pkce_challenge(v, &challenge));
    assert_icms_ok(icms_auth_pkce_check(v, challenge));
    icms_free(v);
    icms_free(challenge);
}

static void test_state(void **state)
{
    (void)state;
    char *a = NULL, *b = NULL;
    assert_icms_ok(icms_auth_state_new(&a));
    assert_icms_ok(icms_auth_state_new(&b));
    assert_int_equal(strlen(a), 43);
    assert_string_not_equal(a, b);
    assert_icms_ok(icms_auth_state_check(a, a));
    assert_icms(ICMS_EUNAUTHENTICATED, icms_auth_state_check(a, b));
    assert_icms(ICMS_EUNAUTHENTICATED, icms_auth_state_check(a, NULL));
    assert_icms(ICMS_EUNAUTHENTICATED, icms_auth_state_check("", ""));
    /* The message never repeats the state. */
    assert_null(strstr(icms_error_last()->message, a));
    icms_free(a);
    icms_free(b);
}

/* ---- sealing and subkeys ---- */

static void test_seal_open(void **state)
{
    (void)state;
    uint8_t key[32], other[32], seed[32], back[32];
    memset(key, 1, 32);
    memset(other, 2, 32);
    memset(seed, 0x5a, 32);
    char *sealed = NULL;
    assert_icms_ok(icms__auth_seal(key, "kid-a", seed, &sealed));
    assert_icms_ok(icms__auth_open(key, "kid-a", sealed, back));
    assert_memory_equal(seed, back, 32);
    assert_icms(ICMS_ECORRUPT, icms__auth_open(other, "kid-a", sealed, back));
    assert_icms(ICMS_ECORRUPT, icms__auth_open(key, "kid-b", sealed, back)); /* bound to kid */
    sealed[10] = sealed[10] == 'A' ? 'B' : 'A';
    assert_icms(ICMS_ECORRUPT, icms__auth_open(key, "kid-a", sealed, back));
    icms__free(sealed);
    /* Subkeys differ by id and are stable. */
    icms_secrets *s = NULL;
    assert_icms(ICMS_EINVALID, icms_secrets_static_new(key, 31, &s));
    assert_icms_ok(icms_secrets_static_new(key, 32, &s));
    uint8_t k1[32], k2[32], k1b[32];
    assert_icms_ok(icms__auth_subkey(s, 1, k1));
    assert_icms_ok(icms__auth_subkey(s, 2, k2));
    assert_icms_ok(icms__auth_subkey(s, 1, k1b));
    assert_memory_not_equal(k1, k2, 32);
    assert_memory_equal(k1, k1b, 32);
    assert_memory_not_equal(k1, key, 32);
    icms_secrets_free(s);
}

static int failing_master(icms_secrets *s, uint8_t *out)
{
    (void)s;
    memset(out, 0xAA, 32);
    return -42;
}

static void test_secrets_failure(void **state)
{
    (void)state;
    icms_secrets s = ICMS_SECRETS_INIT;
    s.master_key = failing_master;
    uint8_t k[32];
    assert_icms(ICMS_ERROR, icms__auth_subkey(&s, 1, k));
}

/* ---- passwords ---- */

static void test_passwords(void **state)
{
    (void)state;
    char hash[crypto_pwhash_STRBYTES];
    unsigned long long ops = crypto_pwhash_OPSLIMIT_MIN;
    size_t mem = crypto_pwhash_MEMLIMIT_MIN;
    assert_icms_ok(icms__password_hash("correct horse battery", ops, mem, hash, sizeof hash));
    assert_non_null(strstr(hash, "$argon2id$"));
    assert_null(strstr(hash, "correct horse"));
    assert_true(icms__password_verify(hash, "correct horse battery"));
    assert_false(icms__password_verify(hash, "correct horse batterx"));
    assert_false(icms__password_verify(hash, ""));
    assert_false(icms__password_needs_rehash(hash, ops, mem));
    assert_true(icms__password_needs_rehash(hash, ops + 1, mem));
    /* A second hash of the same password differs (fresh salt) and verifies. */
    char hash2[crypto_pwhash_STRBYTES];
    assert_icms_ok(icms__password_hash("correct horse battery", ops, mem, hash2, sizeof hash2));
    assert_string_not_equal(hash, hash2);
    assert_true(icms__password_verify(hash2, "correct horse battery"));
    /* The interactive constants in the public header are libsodium's. */
    assert_int_equal(ICMS_AUTH_PASSWORD_OPSLIMIT_INTERACTIVE, crypto_pwhash_OPSLIMIT_INTERACTIVE);
    assert_int_equal(ICMS_AUTH_PASSWORD_MEMLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE);
    assert_icms(ICMS_EINVALID, icms__password_check_rules("short"));
    assert_null(strstr(icms_error_last()->message, "short"));
    assert_icms(ICMS_EINVALID, icms__password_check_rules(NULL));
    assert_icms_ok(icms__password_check_rules("longenough"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_b64url_round_trip_and_rfc4648),
        cmocka_unit_test(test_b64url_strict),
        cmocka_unit_test(test_rfc8032_vectors),
        cmocka_unit_test(test_rfc8037_example),
        cmocka_unit_test(test_jws_round_trip),
        cmocka_unit_test(test_jws_every_byte_tamper_refused),
        cmocka_unit_test(test_jws_wrong_alg_refused),
        cmocka_unit_test(test_claims_times_issuer_audience),
        cmocka_unit_test(test_pkce_rfc7636_vector),
        cmocka_unit_test(test_state),
        cmocka_unit_test(test_seal_open),
        cmocka_unit_test(test_secrets_failure),
        cmocka_unit_test(test_passwords),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
