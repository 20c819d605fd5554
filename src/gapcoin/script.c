/* Output script classification: the templates nodes give addresses to. */
#include "gapcoin_internal.h"

enum {
    OP_0 = 0x00,
    OP_1 = 0x51,
    OP_16 = 0x60,
    OP_RETURN = 0x6a,
    OP_DUP = 0x76,
    OP_EQUAL = 0x87,
    OP_EQUALVERIFY = 0x88,
    OP_HASH160 = 0xa9,
    OP_CHECKSIG = 0xac,
};

/* A witness program: OP_0..OP_16 then one direct push of 2-40 bytes (BIP141). */
static bool witness_program(const uint8_t *s, size_t n, int *version)
{
    if (n < 4 || n > 42)
        return false;
    if (s[0] != OP_0 && (s[0] < OP_1 || s[0] > OP_16))
        return false;
    if ((size_t)s[1] + 2 != n)
        return false;
    *version = s[0] == OP_0 ? 0 : s[0] - OP_1 + 1;
    return true;
}

icms_gapcoin_script_type_t icms_gapcoin_script_classify(const uint8_t *bytes, size_t bytes_len)
{
    const uint8_t *s = bytes;
    size_t n = bytes_len;
    if (!s || n == 0)
        return ICMS_GAPCOIN_SCRIPT_NONSTANDARD;
    if (n == 25 && s[0] == OP_DUP && s[1] == OP_HASH160 && s[2] == 20 && s[23] == OP_EQUALVERIFY &&
        s[24] == OP_CHECKSIG)
        return ICMS_GAPCOIN_SCRIPT_P2PKH;
    if (n == 23 && s[0] == OP_HASH160 && s[1] == 20 && s[22] == OP_EQUAL)
        return ICMS_GAPCOIN_SCRIPT_P2SH;
    /* A public key of a valid size for its prefix byte, as nodes test it. */
    if (n == 35 && s[0] == 33 && (s[1] == 2 || s[1] == 3) && s[34] == OP_CHECKSIG)
        return ICMS_GAPCOIN_SCRIPT_P2PK;
    if (n == 67 && s[0] == 65 && (s[1] == 4 || s[1] == 6 || s[1] == 7) && s[66] == OP_CHECKSIG)
        return ICMS_GAPCOIN_SCRIPT_P2PK;
    if (s[0] == OP_RETURN)
        return ICMS_GAPCOIN_SCRIPT_OP_RETURN;
    int version;
    if (witness_program(s, n, &version)) {
        size_t prog = n - 2;
        if (version == 0 && prog == 20)
            return ICMS_GAPCOIN_SCRIPT_P2WPKH;
        if (version == 0 && prog == 32)
            return ICMS_GAPCOIN_SCRIPT_P2WSH;
        if (version == 0)
            return ICMS_GAPCOIN_SCRIPT_NONSTANDARD; /* v0 allows only 20 or 32 bytes */
        if (version == 1 && prog == 32)
            return ICMS_GAPCOIN_SCRIPT_P2TR;
        return ICMS_GAPCOIN_SCRIPT_WITNESS_UNKNOWN;
    }
    return ICMS_GAPCOIN_SCRIPT_NONSTANDARD;
}

const char *icms_gapcoin_script_type_name(icms_gapcoin_script_type_t type)
{
    switch (type) {
    case ICMS_GAPCOIN_SCRIPT_P2PK:
        return "p2pk";
    case ICMS_GAPCOIN_SCRIPT_P2PKH:
        return "p2pkh";
    case ICMS_GAPCOIN_SCRIPT_P2SH:
        return "p2sh";
    case ICMS_GAPCOIN_SCRIPT_P2WPKH:
        return "p2wpkh";
    case ICMS_GAPCOIN_SCRIPT_P2WSH:
        return "p2wsh";
    case ICMS_GAPCOIN_SCRIPT_P2TR:
        return "p2tr";
    case ICMS_GAPCOIN_SCRIPT_WITNESS_UNKNOWN:
        return "witness_unknown";
    case ICMS_GAPCOIN_SCRIPT_OP_RETURN:
        return "op_return";
    case ICMS_GAPCOIN_SCRIPT_NONSTANDARD:
    default:
        return "nonstandard";
    }
}
