/*
 * Throughput of the Gapcoin codec on this machine: transactions decoded with
 * their txid, headers PoW-verified, and beside them raw SHA-256d throughput,
 * the physical floor for txid work (a decoder cannot beat hashing its input
 * twice).
 *
 *   bench_gapcoin [SECONDS_PER_CASE]     default 2
 *
 * With ICMS_BENCH_ITERS=N in the environment each case instead runs a fixed
 * N rounds (1000 transactions or hashes, or 10 headers, per round), for
 * instruction counts under callgrind that do not move with machine load:
 *   ICMS_BENCH_ITERS=5 valgrind --tool=callgrind \
 *       --toggle-collect=icms_gapcoin_tx_decode bench_gapcoin
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "icms/gapcoin.h"

/* Fixed number of rounds (ICMS_BENCH_ITERS), or 0 to run for a time. */
static size_t fixed_rounds;

static int more(size_t rounds, double elapsed, double secs)
{
    return fixed_rounds ? rounds < fixed_rounds : elapsed < secs;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint8_t *unhex(const char *hex, size_t *len)
{
    uint8_t *b;
    if (icms_gapcoin_hex_decode(hex, &b, len) != 0) {
        fprintf(stderr, "bad hex: %s\n", icms_error_last()->message);
        exit(1);
    }
    return b;
}

/* A typical payment: 1 P2PKH input (107-byte script_sig), P2PKH payment + change. */
static size_t p2pkh_payment(uint8_t *b)
{
    size_t n = 0;
    memcpy(b + n, "\x01\x00\x00\x00\x01", 5);
    n += 5;
    for (int i = 0; i < 32; i++)
        b[n++] = (uint8_t)(i * 7 + 3);
    memcpy(b + n, "\x01\x00\x00\x00", 4);
    n += 4;
    b[n++] = 107;
    memset(b + n, 0x30, 107);
    n += 107;
    memcpy(b + n, "\xff\xff\xff\xff\x02", 5);
    n += 5;
    for (int k = 0; k < 2; k++) {
        memcpy(b + n, "\x00\xe1\xf5\x05\x00\x00\x00\x00", 8);
        n += 8;
        memcpy(b + n, "\x19\x76\xa9\x14", 4);
        n += 4;
        memset(b + n, 0x42 + k, 20);
        n += 20;
        memcpy(b + n, "\x88\xac", 2);
        n += 2;
    }
    memset(b + n, 0, 4);
    return n + 4;
}

static void bench_tx(const char *label, const uint8_t *tx, size_t len, double secs)
{
    size_t iters = 0, rounds = 0;
    double t0 = now(), t;
    do {
        rounds++;
        for (int k = 0; k < 1000; k++) {
            icms_gapcoin_tx *out;
            if (icms_gapcoin_tx_decode(tx, len, &out) != 0) {
                fprintf(stderr, "decode failed: %s\n", icms_error_last()->message);
                exit(1);
            }
            icms_gapcoin_tx_free(out);
        }
        iters += 1000;
    } while (more(rounds, t = now() - t0, secs));
    printf("tx decode + txid   %-28s %10.0f tx/s   %7.1f MB/s\n", label, (double)iters / t,
           (double)iters * (double)len / t / 1e6);
}

static void bench_sha256d(size_t len, double secs)
{
    uint8_t *buf = calloc(1, len), out[32];
    size_t iters = 0, batch = len >= 65536 ? 4 : 1000, rounds = 0;
    double t0 = now(), t;
    do {
        rounds++;
        for (size_t k = 0; k < batch; k++) {
            icms_gapcoin_sha256d(buf, len, out);
            buf[0] ^= out[0];
        }
        iters += batch;
    } while (more(rounds, t = now() - t0, secs));
    printf("SHA-256d           %-28zu %10.0f msg/s  %7.1f MB/s\n", len, (double)iters / t,
           (double)iters * (double)len / t / 1e6);
    free(buf);
}

int main(int argc, char **argv)
{
    double secs = argc > 1 ? atof(argv[1]) : 2.0;
    if (secs <= 0)
        secs = 2.0;
    const char *fixed = getenv("ICMS_BENCH_ITERS");
    fixed_rounds = fixed ? (size_t)strtoul(fixed, NULL, 10) : 0;
    if (icms_init() < 1)
        return 1;

    uint8_t pay[512];
    size_t pay_len = p2pkh_payment(pay);
    /* The Gapcoin genesis coinbase (tests/data/gapcoin/genesis.json). */
    size_t cb_len;
    uint8_t *cb = unhex(
        "01000000010000000000000000000000000000000000000000000000000000000000000000ffffffff4804"
        "ffff001d0104405468652054696d65732031352f4f63742f3230313420555320646174612073656e64732067"
        "6c6f62616c2073746f636b7320696e746f207461696c2d7370696effffffff01000000000000000043410445"
        "88d54931b7de2f9faaa5a3c1fde654114ae51273754e1f3f9720127f8977af6bfaa1f33e22e80e4b83f52699"
        "21501b411d254929faf1b10d2174ded28ac59dac00000000",
        &cb_len);
    char label[64];
    snprintf(label, sizeof label, "P2PKH payment, %zu B", pay_len);
    bench_tx(label, pay, pay_len, secs);
    snprintf(label, sizeof label, "genesis coinbase, %zu B", cb_len);
    bench_tx(label, cb, cb_len, secs);
    bench_sha256d(pay_len, secs);
    bench_sha256d(1 << 20, secs);

    /* Genesis and real mainnet headers 1-9 (tests/data/gapcoin). */
    static const char *headers[] = {
        "01000000000000000000000000000000000000000000000000000000000000000000000094110eb4e3b9c2b70d"
        "f4b71df19d5405cca21e55c2565e356ae22aadcf101026209f465400000000000010003a340000140003e99c0"
        "f",
        "02000000b06cff89df252b9ec88b56a1435dfdc45ed90031e40f7425cfad574faef398e77901ad8b5183f406c5"
        "de7a76a0d6b43b3a79b862c300d5fc154fa2887b92df1a299f465400000000000010002100000014000379460"
        "6",
        "02000000b1a35761c15a06a871fbf6b8830e8e51b50ca7955813381e15b0b6f3e3e9839903557f1ed0435d63ba"
        "8f79b8caa56ec90c71cd27b0f5f619198b55baf0c1076fae9f46540000000000001000b7010000140003f3250"
        "c",
        "02000000321f99fc633f20c7c41568928e5f5bfff90db826cde72cf6b07f1964ead0ffa8bf952250e08fa5461e"
        "c9b0738148bfdb57a3b4bd30e73a7001f4029e9b76009dd29f465497fc12cb1e001000c90000001400034f630"
        "9",
        "0200000028ec9cb489a52ed9664e9973fe8b1be7f2a634ddc7e958b2e8aaddd1c75c9d9744099f752f7f876acb"
        "94675427bdb003cff00a8064a3dd16cbbad59f92beb64cff9f4654a65792228c0110007d000000140003a58e0"
        "1",
        "02000000bd7ca616a4ec73b63e42841efd1650480f8817de8ce9ba315958b0b4e4f0ccf427597168ed5a161600"
        "11d6d2d6826e903968635b5fcf40cb15e6fbec6e001dfc01a046548023225ac002100006000000140003c5160"
        "8",
        "020000009b34370c8968d6704c014ebd0d602e9cf6f09356b7d007c58dc346242b1d10dc11851ae60972593501"
        "3d0a55666574056850cf3504e0bf302ce1c519de2357a823a0465402cc08a11107100041010000140003575d0"
        "8",
        "02000000f1bcfec3c30a44462d9fe0e709b1a20dfccae38520829ff0cda20434c105978e923b3bd6e32a0fcf01"
        "e909f64733caa80593dbd389d3e1d17d0951caf9a8ea9057a046543435779a8d0810002101000014000341860"
        "2",
        "02000000f8f6def210bc767a3bd7fa5a7fc482213de2f713cbb3d5d7cb7f1af884d042ac5af99ef602577272ba"
        "13e7fc27684d14ba19fdc44920d57ce8d7d57b5a78ffa56ea04654b27fc0ce9c0910004d00000014000335ea0"
        "b",
        "020000008f3d140730617d9cdd67bb9620244f4582828e40f8886439bf2f7e4cb9dc6fe242fdaff41eca082401"
        "cb865e8994583bd8431d83d5992d90f632ac0136fa381277a04654cf65ffd77c0b1000310000001400022b10",
    };
    uint8_t *hb[10];
    size_t hl[10];
    for (int i = 0; i < 10; i++)
        hb[i] = unhex(headers[i], &hl[i]);
    size_t iters = 0, rounds = 0;
    double t0 = now(), t;
    do {
        rounds++;
        for (int i = 0; i < 10; i++) {
            icms_gapcoin_pow pow;
            if (icms_gapcoin_header_verify(hb[i], hl[i], NULL, &pow) != 0) {
                fprintf(stderr, "header %d: %s\n", i, icms_error_last()->message);
                return 1;
            }
        }
        iters += 10;
    } while (more(rounds, t = now() - t0, secs));
    printf("header PoW verify  %-28s %10.1f hdr/s  %7.2f ms/header\n", "mainnet 0-9, shift 20",
           (double)iters / t, t * 1e3 / (double)iters);

    /* The whole chain 0-9: links, retarget, MTP and PoW. */
    size_t total = 0;
    for (int i = 0; i < 10; i++)
        total += hl[i];
    uint8_t *chain = malloc(total);
    total = 0;
    for (int i = 0; i < 10; i++) {
        memcpy(chain + total, hb[i], hl[i]);
        total += hl[i];
    }
    iters = 0;
    rounds = 0;
    t0 = now();
    do {
        rounds++;
        if (icms_gapcoin_chain_verify(chain, total, NULL, NULL) != 0) {
            fprintf(stderr, "chain: %s\n", icms_error_last()->message);
            return 1;
        }
        iters += 10;
    } while (more(rounds, t = now() - t0, secs));
    printf("chain verify       %-28s %10.1f hdr/s\n", "mainnet 0-9", (double)iters / t);

    free(chain);
    for (int i = 0; i < 10; i++)
        icms_free(hb[i]);
    icms_free(cb);
    icms_shutdown();
    return 0;
}
