#include "int_text.h"

#include <string.h>

size_t icms__int64_text(int64_t v, char out[ICMS__INT64_TEXT_SIZE])
{
    /* The magnitude as unsigned, so INT64_MIN needs no special case. */
    uint64_t u = v < 0 ? 0u - (uint64_t)v : (uint64_t)v;
    char digits[20];
    size_t n = 0;
    do { /* least significant first */
        digits[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    size_t len = 0;
    if (v < 0)
        out[len++] = '-';
    while (n)
        out[len++] = digits[--n];
    out[len] = '\0';
    return len;
}
