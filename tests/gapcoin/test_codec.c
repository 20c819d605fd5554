/*
 * Hex, hashes, base58check, bech32/bech32m, output scripts and addresses.
 * Address vectors: tests/data/gapcoin/addresses.json and genesis.json (copies
 * of the shared vectors); bech32 strings from BIP173/BIP350.
 */
#include "gapcoin_test.h"

#include "gapcoin/gapcoin_internal.h"

static void test_hex(void **state)
{
    (void)state;
    char *s;
    assert_icms_ok(icms_gapcoin_hex_encode((const uint8_t *)"\x00\x01\xab\xff", 4, &s));
    assert_string_equal(s, "0001abff");
    uint8_t *b;
    size_t n;
    assert_icms_ok(icms_gapcoin_hex_decode("0001ABff", &b, &n));
    assert_int_equal(n, 4);
    assert_memory_equal(b, "\x00\x01\xab\xff", 4);
    icms_free(b);
    icms_free(s);
    assert_icms_ok(icms_gapcoin_hex_encode(NULL, 0, &s));
    assert_string_equal(s, "");
    icms_free(s);
    assert_icms_ok(icms_gapcoin_hex_decode("", &b, &n));
    assert_int_equal(n, 0);
    icms_free(b);
    /* Round trip of every byte value. */
    uint8_t all[256];
    for (int i = 0; i < 256; i++)
        all[i] = (uint8_t)i;
    assert_icms_ok(icms_gapcoin_hex_encode(all, 256, &s));
    assert_icms_ok(icms_gapcoin_hex_decode(s, &b, &n));
    assert_int_equal(n, 256);
    assert_memory_equal(b, all, 256);
    icms_free(b);
    icms_free(s);

    assert_icms(ICMS_EINVALID, icms_gapcoin_hex_decode("abc", &b, &n));
    assert_non_null(strstr(icms_error_last()->message, "odd length 3"));
    assert_null(b);
    assert_icms(ICMS_EINVALID, icms_gapcoin_hex_decode("00g0", &b, &n));
    assert_non_null(strstr(icms_error_last()->message, "'g' at position 2"));
    assert_icms(ICMS_EINVALID, icms_gapcoin_hex_decode("0 ", &b, &n));
    assert_non_null(strstr(icms_error_last()->message, "0x20 at position 1"));
    assert_icms(ICMS_EINVALID, icms_gapcoin_hex_decode(NULL, &b, &n));
    assert_icms(ICMS_EINVALID, icms_gapcoin_hex_decode("00", NULL, &n));
    assert_icms(ICMS_EINVALID, icms_gapcoin_hex_encode(NULL, 3, &s));
}

static void test_hash_display(void **state)
{
    (void)state;
    const char *disp = "e798f3ae4f57adcf25740fe43100d95ec4fd5d43a1568bc89e2b25df89ff6cb0";
    uint8_t h[32];
    assert_icms_ok(icms_gapcoin_hash_from_hex(disp, h));
    assert_int_equal(h[0], 0xb0);
    assert_int_equal(h[31], 0xe7);
    gap_assert_hash(h, disp);
    assert_icms(ICMS_EINVALID, icms_gapcoin_hash_from_hex("e798", h));
    assert_non_null(strstr(icms_error_last()->message, "64 hex digits"));
    char longer[80];
    memset(longer, 'a', 66);
    longer[66] = 0;
    assert_icms(ICMS_EINVALID, icms_gapcoin_hash_from_hex(longer, h));
    longer[64] = 0;
    longer[10] = 'x';
    assert_icms(ICMS_EINVALID, icms_gapcoin_hash_from_hex(longer, h));
    assert_non_null(strstr(icms_error_last()->message, "'x'"));
}

static void hex_of(const uint8_t *b, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", b[i]);
}

static void test_ripemd160_and_hash160(void **state)
{
    (void)state;
    /* Test vectors from the RIPEMD-160 paper. */
    static const struct {
        const char *msg, *digest;
    } v[] = {
        {"", "9c1185a5c5e9fc54612808977ee8f548b2258d31"},
        {"a", "0bdc9d2d256b3ee9daae347be6f4dc835a467ffe"},
        {"abc", "8eb208f7e05d987a9b044a8e98c6b087f15a0bfc"},
        {"message digest", "5d0689ef49d2fae572b881b123a85ffa21595f36"},
        {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "12a053384a9c0c88e405a06c27dcf49ada62eb2b"},
    };
    char hex[41];
    uint8_t d[20];
    for (size_t i = 0; i < ICMS__ARRAY_LEN(v); i++) {
        icms__ripemd160((const uint8_t *)v[i].msg, strlen(v[i].msg), d);
        hex_of(d, 20, hex);
        assert_string_equal(hex, v[i].digest);
    }
    uint8_t *million = malloc(1000000);
    memset(million, 'a', 1000000);
    icms__ripemd160(million, 1000000, d);
    hex_of(d, 20, hex);
    assert_string_equal(hex, "52783243c1697bdbe16d37f97f68f08325dc1528");
    free(million);

    cJSON *a = gap_load("addresses.json");
    size_t n;
    uint8_t *pub = icms_test_unhex(gap_str(a, "compressed_pubkey"), &n);
    icms_gapcoin_hash160(pub, n, d);
    hex_of(d, 20, hex);
    assert_string_equal(hex, gap_str(a, "hash160"));
    free(pub);
    cJSON_Delete(a);

    /* SHA-256d of the empty string. */
    uint8_t h[32];
    char h64[65];
    icms_gapcoin_sha256d(NULL, 0, h);
    hex_of(h, 32, h64);
    assert_string_equal(h64, "5df6e0e2761359d30a8275058e299fcc0381534545f55cf43e41983f5d4c9456");
}

static void test_base58check(void **state)
{
    (void)state;
    cJSON *a = gap_load("addresses.json");
    uint8_t version, *payload;
    size_t n;
    char hex[200];
    assert_icms_ok(
        icms_gapcoin_base58check_decode(gap_str(a, "p2pkh_mainnet"), &version, &payload, &n));
    assert_int_equal(version, 38);
    assert_int_equal(n, 20);
    hex_of(payload, n, hex);
    assert_string_equal(hex, gap_str(a, "hash160"));
    char *s;
    assert_icms_ok(icms_gapcoin_base58check_encode(38, payload, n, &s));
    assert_string_equal(s, gap_str(a, "p2pkh_mainnet"));
    icms_free(s);
    icms_free(payload);

    /* WIF: version 97, 32-byte key and the compression flag. */
    assert_icms_ok(
        icms_gapcoin_base58check_decode(gap_str(a, "wif_mainnet"), &version, &payload, &n));
    assert_int_equal(version, 97);
    assert_int_equal(n, 33);
    assert_int_equal(payload[32], 1);
    assert_icms_ok(icms_gapcoin_base58check_encode(97, payload, n, &s));
    assert_string_equal(s, gap_str(a, "wif_mainnet"));
    icms_free(s);
    icms_free(payload);

    /* Leading zero bytes become leading '1's and back. */
    uint8_t zeros[5] = {0, 0, 0, 7, 9};
    assert_icms_ok(icms_gapcoin_base58check_encode(0, zeros, 5, &s));
    assert_memory_equal(s, "1111", 4);
    assert_icms_ok(icms_gapcoin_base58check_decode(s, &version, &payload, &n));
    assert_int_equal(version, 0);
    assert_int_equal(n, 5);
    assert_memory_equal(payload, zeros, 5);
    icms_free(payload);
    icms_free(s);

    /* Every character of an address replaced by another alphabet character: checksum fails. */
    const char *addr = gap_str(a, "p2pkh_mainnet");
    char buf[64];
    const char *alpha = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
    for (size_t i = 0; i < strlen(addr); i++) {
        for (const char *c = alpha; *c; c++) {
            if (*c == addr[i])
                continue;
            strcpy(buf, addr);
            buf[i] = *c;
            int rc = icms_gapcoin_base58check_decode(buf, &version, &payload, &n);
            assert_int_equal(rc, ICMS_EINVALID);
            assert_null(payload);
        }
    }
    strcpy(buf, addr);
    buf[5] = '0';
    assert_icms(ICMS_EINVALID, icms_gapcoin_base58check_decode(buf, &version, &payload, &n));
    assert_non_null(strstr(icms_error_last()->message, "'0' at position 5"));
    buf[5] = 'l';
    assert_icms(ICMS_EINVALID, icms_gapcoin_base58check_decode(buf, &version, &payload, &n));
    assert_non_null(strstr(icms_error_last()->message, "'l'"));
    assert_icms(ICMS_EINVALID, icms_gapcoin_base58check_decode("", &version, &payload, &n));
    assert_icms(ICMS_EINVALID, icms_gapcoin_base58check_decode("1111", &version, &payload, &n));
    assert_non_null(strstr(icms_error_last()->message, "fewer than"));
    strcpy(buf, addr);
    buf[strlen(buf) - 1] = buf[strlen(buf) - 1] == 'F' ? 'G' : 'F';
    assert_icms(ICMS_EINVALID, icms_gapcoin_base58check_decode(buf, &version, &payload, &n));
    assert_non_null(strstr(icms_error_last()->message, "checksum"));
    char big[400];
    memset(big, '2', 300);
    big[300] = 0;
    assert_icms(ICMS_ELIMIT, icms_gapcoin_base58check_decode(big, &version, &payload, &n));
    uint8_t large[200] = {0};
    assert_icms(ICMS_ELIMIT, icms_gapcoin_base58check_encode(1, large, 129, &s));
    assert_null(s);
    assert_icms(ICMS_EINVALID, icms_gapcoin_base58check_decode(NULL, &version, &payload, &n));
    cJSON_Delete(a);
}

static void test_bech32_bip_vectors(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        icms_gapcoin_bech32_t enc;
    } valid[] = {
        {"A12UEL5L", ICMS_GAPCOIN_BECH32},
        {"a12uel5l", ICMS_GAPCOIN_BECH32},
        {"abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw", ICMS_GAPCOIN_BECH32},
        {"?1ezyfcl", ICMS_GAPCOIN_BECH32},
        {"A1LQFN3A", ICMS_GAPCOIN_BECH32M},
        {"a1lqfn3a", ICMS_GAPCOIN_BECH32M},
        {"?1v759aa", ICMS_GAPCOIN_BECH32M},
    };
    for (size_t i = 0; i < ICMS__ARRAY_LEN(valid); i++) {
        char *hrp, *again;
        uint8_t *data;
        size_t n;
        icms_gapcoin_bech32_t enc;
        assert_icms_ok(icms_gapcoin_bech32_decode(valid[i].text, &hrp, &data, &n, &enc));
        assert_int_equal(enc, valid[i].enc);
        /* Encoding gives back the text in lower case. */
        assert_icms_ok(icms_gapcoin_bech32_encode(hrp, data, n, enc, &again));
        char lower[100];
        size_t k = 0;
        for (; valid[i].text[k]; k++)
            lower[k] =
                (char)((valid[i].text[k] >= 'A' && valid[i].text[k] <= 'Z') ? valid[i].text[k] + 32
                                                                            : valid[i].text[k]);
        lower[k] = 0;
        assert_string_equal(again, lower);
        icms_free(again);
        icms_free(hrp);
        icms_free(data);
    }
    static const struct {
        const char *text, *why;
    } invalid[] = {
        {"1nwldj5", "empty HRP"},
        {"pzry9x0s0muk", "no separator"},
        {"x1b4n0q5v", "'b'"},
        {"li1dgmt3", "shorter than"},
        {"A1G7SGD8", "checksum"},
        {"a12UEL5L", "mixed"},
        {"abc1rzgt4 ", "0x20"},
        {"an84characterslonghumanreadablepartthatcontainsthetheexcludedcharactersbioandnumber11"
         "sg7hg6",
         "longer than 90"},
    };
    for (size_t i = 0; i < ICMS__ARRAY_LEN(invalid); i++) {
        char *hrp;
        uint8_t *data;
        size_t n;
        icms_gapcoin_bech32_t enc;
        assert_icms(ICMS_EINVALID,
                    icms_gapcoin_bech32_decode(invalid[i].text, &hrp, &data, &n, &enc));
        if (!strstr(icms_error_last()->message, invalid[i].why))
            fail_msg("%s: message '%s' lacks '%s'", invalid[i].text, icms_error_last()->message,
                     invalid[i].why);
        assert_null(hrp);
        assert_null(data);
    }
    char *s;
    uint8_t five[3] = {1, 2, 32};
    assert_icms(ICMS_EINVALID, icms_gapcoin_bech32_encode("gp", five, 3, ICMS_GAPCOIN_BECH32, &s));
    assert_icms(ICMS_EINVALID, icms_gapcoin_bech32_encode("Gp", five, 2, ICMS_GAPCOIN_BECH32, &s));
    assert_icms(ICMS_EINVALID, icms_gapcoin_bech32_encode("", five, 2, ICMS_GAPCOIN_BECH32, &s));
    assert_icms(ICMS_EINVALID, icms_gapcoin_bech32_encode("gp", five, 2, 7, &s));
    uint8_t many[90] = {0};
    assert_icms(ICMS_ELIMIT, icms_gapcoin_bech32_encode("gp", many, 82, ICMS_GAPCOIN_BECH32, &s));
    assert_null(s);
}

/* Decode an address, check its fields, and that the script maps back to it. */
static void check_address(const char *text, icms_gapcoin_network_t net,
                          icms_gapcoin_script_type_t type, icms_gapcoin_node_t node,
                          const char *program_hex)
{
    icms_gapcoin_address a;
    assert_icms_ok(icms_gapcoin_address_decode(text, &a));
    assert_int_equal(a.network, net);
    assert_int_equal(a.type, type);
    assert_int_equal(a.node, node);
    char hex[100];
    hex_of(a.program, a.program_len, hex);
    assert_string_equal(hex, program_hex);
    assert_int_equal(icms_gapcoin_script_classify(a.script, a.script_len), type);
    char *back;
    assert_icms_ok(icms_gapcoin_script_to_address(a.script, a.script_len, net, node, &back));
    assert_string_equal(back, text);
    icms_free(back);
    uint8_t *script;
    size_t len;
    assert_icms_ok(icms_gapcoin_address_to_script(text, net, &script, &len));
    assert_int_equal(len, a.script_len);
    assert_memory_equal(script, a.script, len);
    icms_free(script);
    assert_icms(
        ICMS_EINVALID,
        icms_gapcoin_address_to_script(
            text, net == ICMS_GAPCOIN_MAIN ? ICMS_GAPCOIN_TEST : ICMS_GAPCOIN_MAIN, &script, &len));
    assert_non_null(strstr(icms_error_last()->message, "belongs to"));
    assert_null(script);
}

static void test_address_vectors(void **state)
{
    (void)state;
    cJSON *a = gap_load("addresses.json");
    const char *h160 = gap_str(a, "hash160");
    check_address(gap_str(a, "p2pkh_mainnet"), ICMS_GAPCOIN_MAIN, ICMS_GAPCOIN_SCRIPT_P2PKH,
                  ICMS_GAPCOIN_NODE_0_9, h160);
    check_address(gap_str(a, "p2sh_p2wpkh_mainnet"), ICMS_GAPCOIN_MAIN, ICMS_GAPCOIN_SCRIPT_P2SH,
                  ICMS_GAPCOIN_NODE_0_9, gap_str(a, "p2sh_hash160"));
    check_address(gap_str(a, "bech32_v0_hrp_gp"), ICMS_GAPCOIN_MAIN, ICMS_GAPCOIN_SCRIPT_P2WPKH,
                  ICMS_GAPCOIN_NODE_0_16, h160);
    check_address(gap_str(a, "bech32m_v0_hrp_gap_2606"), ICMS_GAPCOIN_MAIN,
                  ICMS_GAPCOIN_SCRIPT_P2WPKH, ICMS_GAPCOIN_NODE_2606, h160);
    const cJSON *other;
    cJSON_ArrayForEach(other, cJSON_GetObjectItem(a, "other_real_mainnet_p2pkh"))
        check_address(gap_str(other, "address"), ICMS_GAPCOIN_MAIN, ICMS_GAPCOIN_SCRIPT_P2PKH,
                      ICMS_GAPCOIN_NODE_0_9, gap_str(other, "hash160"));

    /* The P2SH-P2WPKH redeem script is OP_0 <hash160>: its hash160 is the P2SH hash. */
    uint8_t redeem[22] = {0, 20};
    size_t n;
    uint8_t *h = icms_test_unhex(h160, &n);
    memcpy(redeem + 2, h, 20);
    uint8_t d[20];
    char hex[41];
    icms_gapcoin_hash160(redeem, 22, d);
    hex_of(d, 20, hex);
    assert_string_equal(hex, gap_str(a, "p2sh_hash160"));

    /* The same P2WPKH script on each generation. */
    icms_gapcoin_address p2wpkh;
    assert_icms_ok(icms_gapcoin_address_decode(gap_str(a, "bech32_v0_hrp_gp"), &p2wpkh));
    char *s;
    assert_icms(ICMS_ENOTFOUND,
                icms_gapcoin_script_to_address(p2wpkh.script, p2wpkh.script_len, ICMS_GAPCOIN_MAIN,
                                               ICMS_GAPCOIN_NODE_0_9, &s));
    assert_null(s);
    assert_icms(ICMS_ENOTFOUND,
                icms_gapcoin_script_to_address(p2wpkh.script, p2wpkh.script_len, ICMS_GAPCOIN_TEST,
                                               ICMS_GAPCOIN_NODE_0_16, &s));
    assert_icms_ok(icms_gapcoin_script_to_address(p2wpkh.script, p2wpkh.script_len,
                                                  ICMS_GAPCOIN_TEST, ICMS_GAPCOIN_NODE_2606, &s));
    assert_memory_equal(s, "tgap1", 5);
    check_address(s, ICMS_GAPCOIN_TEST, ICMS_GAPCOIN_SCRIPT_P2WPKH, ICMS_GAPCOIN_NODE_2606, h160);
    icms_free(s);

    /* The P2PKH script on testnet. */
    icms_gapcoin_address p2pkh;
    assert_icms_ok(icms_gapcoin_address_decode(gap_str(a, "p2pkh_mainnet"), &p2pkh));
    assert_icms_ok(icms_gapcoin_script_to_address(p2pkh.script, p2pkh.script_len, ICMS_GAPCOIN_TEST,
                                                  ICMS_GAPCOIN_NODE_0_9, &s));
    assert_true(s[0] == 'm' || s[0] == 'n');
    check_address(s, ICMS_GAPCOIN_TEST, ICMS_GAPCOIN_SCRIPT_P2PKH, ICMS_GAPCOIN_NODE_0_9, h160);
    icms_free(s);
    free(h);
    cJSON_Delete(a);
}

static void test_genesis_p2pk_address(void **state)
{
    (void)state;
    cJSON *g = gap_load("genesis.json");
    const cJSON *out = cJSON_GetArrayItem(
        cJSON_GetObjectItem(cJSON_GetObjectItem(g, "coinbase_tx"), "outputs"), 0);
    size_t n;
    uint8_t *pub = icms_test_unhex(gap_str(out, "pubkey"), &n);
    uint8_t script[67];
    script[0] = 65;
    memcpy(script + 1, pub, 65);
    script[66] = 0xac;
    assert_int_equal(icms_gapcoin_script_classify(script, 67), ICMS_GAPCOIN_SCRIPT_P2PK);
    char *s;
    for (int node = 0; node < 3; node++) {
        assert_icms_ok(icms_gapcoin_script_to_address(script, 67, ICMS_GAPCOIN_MAIN,
                                                      (icms_gapcoin_node_t)node, &s));
        assert_string_equal(s, gap_str(out, "address_mainnet"));
        icms_free(s);
    }
    assert_icms_ok(
        icms_gapcoin_script_to_address(script, 67, ICMS_GAPCOIN_TEST, ICMS_GAPCOIN_NODE_0_9, &s));
    assert_string_equal(s, gap_str(out, "address_testnet"));
    icms_free(s);
    icms_gapcoin_address a;
    assert_icms_ok(icms_gapcoin_address_decode(gap_str(out, "address_mainnet"), &a));
    char hex[41];
    hex_of(a.program, 20, hex);
    assert_string_equal(hex, gap_str(out, "hash160"));
    free(pub);
    cJSON_Delete(g);
}

static void test_script_classes(void **state)
{
    (void)state;
    uint8_t s[80];
    memset(s, 0x11, sizeof s);
    /* Compressed P2PK. */
    s[0] = 33;
    s[1] = 2;
    s[34] = 0xac;
    assert_int_equal(icms_gapcoin_script_classify(s, 35), ICMS_GAPCOIN_SCRIPT_P2PK);
    s[1] = 5; /* not a key prefix */
    assert_int_equal(icms_gapcoin_script_classify(s, 35), ICMS_GAPCOIN_SCRIPT_NONSTANDARD);
    /* Witness programs. */
    s[0] = 0x00;
    s[1] = 32;
    assert_int_equal(icms_gapcoin_script_classify(s, 34), ICMS_GAPCOIN_SCRIPT_P2WSH);
    s[1] = 21;
    assert_int_equal(icms_gapcoin_script_classify(s, 23), ICMS_GAPCOIN_SCRIPT_NONSTANDARD);
    s[0] = 0x51;
    s[1] = 32;
    assert_int_equal(icms_gapcoin_script_classify(s, 34), ICMS_GAPCOIN_SCRIPT_P2TR);
    s[0] = 0x52;
    assert_int_equal(icms_gapcoin_script_classify(s, 34), ICMS_GAPCOIN_SCRIPT_WITNESS_UNKNOWN);
    s[0] = 0x60;
    s[1] = 40;
    assert_int_equal(icms_gapcoin_script_classify(s, 42), ICMS_GAPCOIN_SCRIPT_WITNESS_UNKNOWN);
    s[1] = 41;
    assert_int_equal(icms_gapcoin_script_classify(s, 43), ICMS_GAPCOIN_SCRIPT_NONSTANDARD);
    s[0] = 0x6a;
    assert_int_equal(icms_gapcoin_script_classify(s, 5), ICMS_GAPCOIN_SCRIPT_OP_RETURN);
    assert_int_equal(icms_gapcoin_script_classify(s, 0), ICMS_GAPCOIN_SCRIPT_NONSTANDARD);
    assert_int_equal(icms_gapcoin_script_classify(NULL, 3), ICMS_GAPCOIN_SCRIPT_NONSTANDARD);
    assert_string_equal(icms_gapcoin_script_type_name(ICMS_GAPCOIN_SCRIPT_P2TR), "p2tr");
    assert_string_equal(icms_gapcoin_script_type_name((icms_gapcoin_script_type_t)99),
                        "nonstandard");
    char *addr;
    assert_icms(ICMS_ENOTFOUND, icms_gapcoin_script_to_address(s, 5, ICMS_GAPCOIN_MAIN,
                                                               ICMS_GAPCOIN_NODE_2606, &addr));
    assert_non_null(strstr(icms_error_last()->message, "op_return"));
    assert_icms(ICMS_EINVALID, icms_gapcoin_script_to_address(s, 5, (icms_gapcoin_network_t)3,
                                                              ICMS_GAPCOIN_NODE_2606, &addr));
    assert_icms(ICMS_EINVALID, icms_gapcoin_script_to_address(s, 5, ICMS_GAPCOIN_MAIN,
                                                              (icms_gapcoin_node_t)3, &addr));

    /* P2WSH, P2TR and a v16 program round trip through 2606 and 0.16.3 forms. */
    static const struct {
        uint8_t op;
        size_t len;
        icms_gapcoin_script_type_t type;
    } w[] = {{0x00, 32, ICMS_GAPCOIN_SCRIPT_P2WSH},
             {0x51, 32, ICMS_GAPCOIN_SCRIPT_P2TR},
             {0x60, 2, ICMS_GAPCOIN_SCRIPT_WITNESS_UNKNOWN}};
    for (size_t i = 0; i < ICMS__ARRAY_LEN(w); i++) {
        uint8_t script[42];
        script[0] = w[i].op;
        script[1] = (uint8_t)w[i].len;
        for (size_t k = 0; k < w[i].len; k++)
            script[2 + k] = (uint8_t)(k * 7 + i);
        char prog[100];
        hex_of(script + 2, w[i].len, prog);
        for (int node = 1; node <= 2; node++) {
            assert_icms_ok(icms_gapcoin_script_to_address(script, 2 + w[i].len, ICMS_GAPCOIN_MAIN,
                                                          (icms_gapcoin_node_t)node, &addr));
            check_address(addr, ICMS_GAPCOIN_MAIN, w[i].type, (icms_gapcoin_node_t)node, prog);
            icms_free(addr);
        }
    }
}

static void test_address_errors(void **state)
{
    (void)state;
    cJSON *a = gap_load("addresses.json");
    icms_gapcoin_address out;
    /* The bech32 data of the gp address under the gap HRP's rule and vice versa. */
    char *hrp, *s;
    uint8_t *data;
    size_t n;
    icms_gapcoin_bech32_t enc;
    assert_icms_ok(
        icms_gapcoin_bech32_decode(gap_str(a, "bech32_v0_hrp_gp"), &hrp, &data, &n, &enc));
    assert_icms_ok(icms_gapcoin_bech32_encode("gp", data, n, ICMS_GAPCOIN_BECH32M, &s));
    assert_icms(ICMS_EINVALID, icms_gapcoin_address_decode(s, &out));
    assert_non_null(strstr(icms_error_last()->message, "requires bech32 (BIP173)"));
    icms_free(s);
    assert_icms_ok(icms_gapcoin_bech32_encode("gap", data, n, ICMS_GAPCOIN_BECH32, &s));
    assert_icms(ICMS_EINVALID, icms_gapcoin_address_decode(s, &out));
    assert_non_null(strstr(icms_error_last()->message, "requires bech32m"));
    icms_free(s);
    /* Witness version 17, and a v0 program of 21 bytes' worth. */
    data[0] = 17;
    assert_icms_ok(icms_gapcoin_bech32_encode("gap", data, n, ICMS_GAPCOIN_BECH32M, &s));
    assert_icms(ICMS_EINVALID, icms_gapcoin_address_decode(s, &out));
    assert_non_null(strstr(icms_error_last()->message, "above 16"));
    icms_free(s);
    uint8_t prog[30] = {0};
    uint8_t five[60];
    size_t five_len;
    five[0] = 0;
    assert_true(icms__convert_bits(five + 1, &five_len, 5, prog, 21, 8, true));
    assert_icms_ok(icms_gapcoin_bech32_encode("gap", five, five_len + 1, ICMS_GAPCOIN_BECH32M, &s));
    assert_icms(ICMS_EINVALID, icms_gapcoin_address_decode(s, &out));
    assert_non_null(strstr(icms_error_last()->message, "must be 20 or 32"));
    icms_free(s);
    /* A program of 1 byte is too short for any version. */
    five[0] = 1;
    assert_true(icms__convert_bits(five + 1, &five_len, 5, prog, 1, 8, true));
    assert_icms_ok(icms_gapcoin_bech32_encode("gap", five, five_len + 1, ICMS_GAPCOIN_BECH32M, &s));
    assert_icms(ICMS_EINVALID, icms_gapcoin_address_decode(s, &out));
    icms_free(s);
    /* An unknown HRP that still parses as bech32 is not mistaken for base58. */
    assert_icms_ok(icms_gapcoin_bech32_encode("bc", data, n, ICMS_GAPCOIN_BECH32, &s));
    assert_icms(ICMS_EINVALID, icms_gapcoin_address_decode(s, &out));
    icms_free(s);
    icms_free(hrp);
    icms_free(data);

    /* A corrupted checksum in each segwit form. */
    char buf[100];
    strcpy(buf, gap_str(a, "bech32m_v0_hrp_gap_2606"));
    buf[10] = buf[10] == 'q' ? 'p' : 'q';
    assert_icms(ICMS_EINVALID, icms_gapcoin_address_decode(buf, &out));
    assert_non_null(strstr(icms_error_last()->message, "address: bech32: checksum"));
    /* Upper case is a valid bech32 form. */
    strcpy(buf, gap_str(a, "bech32_v0_hrp_gp"));
    for (char *c = buf; *c; c++)
        if (*c >= 'a' && *c <= 'z')
            *c = (char)(*c - 32);
    assert_icms_ok(icms_gapcoin_address_decode(buf, &out));
    /* A WIF key is not an address; a version byte of another coin is unknown. */
    assert_icms(ICMS_EINVALID, icms_gapcoin_address_decode(gap_str(a, "wif_mainnet"), &out));
    assert_non_null(strstr(icms_error_last()->message, "private key"));
    uint8_t payload[20] = {1, 2, 3};
    assert_icms_ok(icms_gapcoin_base58check_encode(0, payload, 20, &s));
    assert_icms(ICMS_EINVALID, icms_gapcoin_address_decode(s, &out));
    assert_non_null(strstr(icms_error_last()->message, "version byte 0"));
    icms_free(s);
    assert_icms_ok(icms_gapcoin_base58check_encode(38, payload, 19, &s));
    assert_icms(ICMS_EINVALID, icms_gapcoin_address_decode(s, &out));
    assert_non_null(strstr(icms_error_last()->message, "19 bytes"));
    icms_free(s);
    /* A base58 address that starts like the "gp" HRP (found by fuzz_gapcoin_tx). */
    check_address("GP1aKKwsdAc5Bu1EcPMZjRoeX5CKgXtLPB", ICMS_GAPCOIN_MAIN,
                  ICMS_GAPCOIN_SCRIPT_P2PKH, ICMS_GAPCOIN_NODE_0_9,
                  "38ac02893c7d5ff2fc1596da3882026174a96e5f");
    assert_icms(ICMS_EINVALID,
                icms_gapcoin_address_decode("GP1aKKwsdAc5Bu1EcPMZjRoeX5CKgXtLPC", &out));
    assert_non_null(strstr(icms_error_last()->message, "mixed"));
    assert_icms(ICMS_EINVALID, icms_gapcoin_address_decode("", &out));
    assert_icms(ICMS_EINVALID, icms_gapcoin_address_decode(NULL, &out));
    uint8_t *script;
    assert_icms(ICMS_EINVALID,
                icms_gapcoin_address_to_script("Gxyz", (icms_gapcoin_network_t)5, &script, &n));
    cJSON_Delete(a);
}

static void test_params(void **state)
{
    (void)state;
    const icms_gapcoin_params *m = icms_gapcoin_params_get(ICMS_GAPCOIN_MAIN);
    const icms_gapcoin_params *t = icms_gapcoin_params_get(ICMS_GAPCOIN_TEST);
    assert_int_equal(m->p2pkh_version, 38);
    assert_int_equal(m->p2sh_version, 5);
    assert_int_equal(m->wif_version, 97);
    assert_int_equal(t->p2pkh_version, 111);
    assert_int_equal(t->p2sh_version, 196);
    assert_int_equal(t->wif_version, 239);
    assert_int_equal(m->rpc_port, 31397);
    assert_int_equal(t->rpc_port, 19609);
    assert_int_equal(m->p2p_port, 31469);
    assert_int_equal(t->p2p_port, 19661);
    assert_string_equal(m->hrp_2606, "gap");
    assert_string_equal(t->hrp_2606, "tgap");
    assert_null(icms_gapcoin_params_get((icms_gapcoin_network_t)2));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hex),
        cmocka_unit_test(test_hash_display),
        cmocka_unit_test(test_ripemd160_and_hash160),
        cmocka_unit_test(test_base58check),
        cmocka_unit_test(test_bech32_bip_vectors),
        cmocka_unit_test(test_address_vectors),
        cmocka_unit_test(test_genesis_p2pk_address),
        cmocka_unit_test(test_script_classes),
        cmocka_unit_test(test_address_errors),
        cmocka_unit_test(test_params),
    };
    return cmocka_run_group_tests(tests, gap_init, gap_shutdown);
}
