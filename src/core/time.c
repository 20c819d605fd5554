/*
 * RFC 3339 text <-> UTC milliseconds.
 *
 * The calendar arithmetic is written out (Howard Hinnant's days_from_civil and
 * civil_from_days, proleptic Gregorian) instead of using mktime/timegm: those
 * read the process time zone, are not in C11, and differ on years before 1970.
 */
#include <string.h>

#include "core.h"
#include "rfc3339.h"

#define MS_PER_DAY 86400000LL

int64_t icms__days_from_civil(int64_t year, int64_t month, int64_t day)
{
    year -= month <= 2;
    int64_t era = (year >= 0 ? year : year - 399) / 400;
    int64_t yoe = year - era * 400;                                              /* [0, 399] */
    int64_t doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1; /* [0, 365] */
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;                         /* [0, 146096] */
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t days, int64_t *year, int64_t *month, int64_t *day)
{
    days += 719468;
    int64_t era = (days >= 0 ? days : days - 146096) / 146097;
    int64_t doe = days - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *day = doy - (153 * mp + 2) / 5 + 1;
    *month = mp < 10 ? mp + 3 : mp - 9;
    *year = yoe + era * 400 + (*month <= 2);
}

static bool is_leap(int64_t year)
{
    return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

static int64_t days_in_month(int64_t year, int64_t month)
{
    static const int8_t days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return month == 2 && is_leap(year) ? 29 : days[month - 1];
}

/* Exactly n decimal digits of v (0 <= v < 10^n), zero-padded. */
static void put_digits(char *out, int64_t v, int n)
{
    for (int i = n - 1; i >= 0; i--, v /= 10)
        out[i] = (char)('0' + v % 10);
}

int icms__time_format(int64_t ms, char out[ICMS_TIME_STRING_SIZE])
{
    if (ms < ICMS_TIME_MIN_MS || ms > ICMS_TIME_MAX_MS)
        return icms__error(
            ICMS_EINVALID,
            "time %lld ms is outside 0001-01-01T00:00:00.000Z..9999-12-31T23:59:59.999Z",
            (long long)ms);
    /* Floor division, so instants before 1970 land on the right day. */
    int64_t days = ms / MS_PER_DAY;
    int64_t rem = ms % MS_PER_DAY;
    if (rem < 0) {
        rem += MS_PER_DAY;
        days--;
    }
    int64_t year, month, day;
    civil_from_days(days, &year, &month, &day);
    put_digits(out, year, 4);
    out[4] = '-';
    put_digits(out + 5, month, 2);
    out[7] = '-';
    put_digits(out + 8, day, 2);
    out[10] = 'T';
    put_digits(out + 11, rem / 3600000, 2);
    out[13] = ':';
    put_digits(out + 14, rem / 60000 % 60, 2);
    out[16] = ':';
    put_digits(out + 17, rem / 1000 % 60, 2);
    out[19] = '.';
    put_digits(out + 20, rem % 1000, 3);
    out[23] = 'Z';
    out[24] = '\0';
    return ICMS_OK;
}

int icms_time_format(int64_t ms, char *out, size_t out_len)
{
    if (!out)
        return icms__error(ICMS_EINVALID, "time: out may not be NULL");
    if (out_len < ICMS_TIME_STRING_SIZE)
        return icms__error(ICMS_EBUFS, "time: the buffer needs %d bytes, got %zu",
                           ICMS_TIME_STRING_SIZE, out_len);
    return icms__time_format(ms, out);
}

/* A cursor over the text being parsed; every read is bounds-checked against end. */
struct cursor {
    const char *p;
    const char *end;
};

/* Read exactly n ASCII digits; false (cursor unmoved) if they are not there. */
static bool digits(struct cursor *c, int n, int64_t *out)
{
    if (c->end - c->p < n)
        return false;
    int64_t v = 0;
    for (int i = 0; i < n; i++) {
        char ch = c->p[i];
        if (ch < '0' || ch > '9')
            return false;
        v = v * 10 + (ch - '0');
    }
    c->p += n;
    *out = v;
    return true;
}

static bool literal(struct cursor *c, char ch)
{
    if (c->p >= c->end || *c->p != ch)
        return false;
    c->p++;
    return true;
}

/* 'T' or 't', 'Z' or 'z': RFC 3339 section 5.6 allows either case. */
static bool letter(struct cursor *c, char upper)
{
    if (c->p >= c->end || (*c->p != upper && *c->p != upper + ('a' - 'A')))
        return false;
    c->p++;
    return true;
}

#define BAD_TIME(...) icms__error(ICMS_EINVALID, "invalid RFC 3339 timestamp: " __VA_ARGS__)

int icms__time_parse(const char *text, size_t len, int64_t *out_ms)
{
    if (!text || !out_ms)
        return icms__error(ICMS_EINVALID, "time: text and out_ms may not be NULL");
    struct cursor c = {text, text + len};
    int64_t year, month, day, hour, minute, second, frac_ms = 0;

    if (!digits(&c, 4, &year) || !literal(&c, '-') || !digits(&c, 2, &month) || !literal(&c, '-') ||
        !digits(&c, 2, &day))
        return BAD_TIME("expected a date YYYY-MM-DD at the start");
    if (!letter(&c, 'T'))
        return BAD_TIME("expected 'T' between the date and the time");
    if (!digits(&c, 2, &hour) || !literal(&c, ':') || !digits(&c, 2, &minute) ||
        !literal(&c, ':') || !digits(&c, 2, &second))
        return BAD_TIME("expected a time HH:MM:SS after 'T'");
    if (literal(&c, '.')) {
        int n = 0;
        while (c.p < c.end && *c.p >= '0' && *c.p <= '9') {
            if (++n > 9)
                return BAD_TIME("the fraction of a second has more than 9 digits");
            /* Keep the first three digits: truncation to the millisecond. */
            if (n <= 3)
                frac_ms = frac_ms * 10 + (*c.p - '0');
            c.p++;
        }
        if (n == 0)
            return BAD_TIME("expected digits after '.'");
        for (; n < 3; n++)
            frac_ms *= 10;
    }
    int64_t offset_min = 0;
    if (letter(&c, 'Z')) {
        /* UTC */
    } else if (c.p < c.end && (*c.p == '+' || *c.p == '-')) {
        int sign = *c.p == '-' ? -1 : 1;
        c.p++;
        int64_t oh, om;
        if (!digits(&c, 2, &oh) || !literal(&c, ':') || !digits(&c, 2, &om))
            return BAD_TIME("expected an offset +hh:mm or -hh:mm");
        if (oh > 23)
            return BAD_TIME("offset hour %02lld is out of range", (long long)oh);
        if (om > 59)
            return BAD_TIME("offset minute %02lld is out of range", (long long)om);
        offset_min = sign * (oh * 60 + om);
    } else {
        return BAD_TIME("expected 'Z' or an offset like +01:00 after the time");
    }
    if (c.p != c.end)
        return BAD_TIME("unexpected characters after the time zone");

    if (year < 1)
        return BAD_TIME("year 0000 is out of range (0001-9999)");
    if (month < 1 || month > 12)
        return BAD_TIME("month %02lld is out of range", (long long)month);
    if (day < 1 || day > days_in_month(year, month))
        return BAD_TIME("day %02lld does not exist in %04lld-%02lld", (long long)day,
                        (long long)year, (long long)month);
    if (hour > 23)
        return BAD_TIME("hour %02lld is out of range", (long long)hour);
    if (minute > 59)
        return BAD_TIME("minute %02lld is out of range", (long long)minute);
    if (second == 60)
        return BAD_TIME("leap seconds (second 60) are not supported");
    if (second > 59)
        return BAD_TIME("second %02lld is out of range", (long long)second);

    /* Local time minus the offset is UTC; cannot overflow for years 1..9999. */
    int64_t ms = icms__days_from_civil(year, month, day) * MS_PER_DAY +
                 ((hour * 60 + minute - offset_min) * 60 + second) * 1000 + frac_ms;
    if (ms < ICMS_TIME_MIN_MS || ms > ICMS_TIME_MAX_MS)
        return BAD_TIME("the instant falls outside the years 0001-9999 in UTC");
    *out_ms = ms;
    return ICMS_OK;
}

int icms_time_parse(const char *text, int64_t *out_ms)
{
    if (!text || !out_ms)
        return icms__error(ICMS_EINVALID, "time: text and out_ms may not be NULL");
    return icms__time_parse(text, strlen(text), out_ms);
}
