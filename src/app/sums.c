#include "app/sums.h"

#include <string.h>

#include "core/core.h"

typedef struct slot {
    char *name;
    int64_t sum;
} slot;

struct icms__sums {
    slot *slots;
    size_t cap; /* a power of two */
    size_t used;
};

static uint64_t hash(const char *s)
{
    uint64_t h = 1469598103934665603u; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211u;
    return h;
}

int icms__sums_new(icms__sums **out)
{
    icms__sums *sums = icms__calloc(1, sizeof *sums);
    if (!sums)
        return ICMS_ENOMEM;
    sums->cap = 64;
    sums->slots = icms__calloc(sums->cap, sizeof *sums->slots);
    if (!sums->slots) {
        icms__free(sums);
        return ICMS_ENOMEM;
    }
    *out = sums;
    return ICMS_OK;
}

void icms__sums_free(icms__sums *sums)
{
    if (!sums)
        return;
    for (size_t i = 0; i < sums->cap; i++)
        icms__free(sums->slots[i].name);
    icms__free(sums->slots);
    icms__free(sums);
}

static slot *find(const icms__sums *sums, const char *name)
{
    size_t i = (size_t)hash(name) & (sums->cap - 1);
    while (sums->slots[i].name && strcmp(sums->slots[i].name, name) != 0)
        i = (i + 1) & (sums->cap - 1);
    return &sums->slots[i];
}

static int grow(icms__sums *sums)
{
    icms__sums bigger = {icms__calloc(sums->cap * 2, sizeof(slot)), sums->cap * 2, sums->used};
    if (!bigger.slots)
        return ICMS_ENOMEM;
    for (size_t i = 0; i < sums->cap; i++)
        if (sums->slots[i].name)
            *find(&bigger, sums->slots[i].name) = sums->slots[i];
    icms__free(sums->slots);
    *sums = bigger;
    return ICMS_OK;
}

int icms__sums_add(icms__sums *sums, const char *name, int64_t delta)
{
    if (2 * (sums->used + 1) > sums->cap && grow(sums) != ICMS_OK)
        return ICMS_ENOMEM;
    slot *s = find(sums, name);
    if (!s->name) {
        if (!(s->name = icms__strdup(name)))
            return ICMS_ENOMEM;
        sums->used++;
    }
    if (!icms__add_i64(s->sum, delta, &s->sum))
        return icms__error(ICMS_EINVALID, "sum of %s overflows", name);
    return ICMS_OK;
}

int64_t icms__sums_get(const icms__sums *sums, const char *name, bool *seen)
{
    const slot *s = find(sums, name);
    if (seen)
        *seen = s->name != NULL;
    return s->name ? s->sum : 0;
}

int icms__sums_each(const icms__sums *sums, int (*fn)(const char *name, int64_t sum, void *p),
                    void *p)
{
    for (size_t i = 0; i < sums->cap; i++) {
        if (!sums->slots[i].name)
            continue;
        int rc = fn(sums->slots[i].name, sums->slots[i].sum, p);
        if (rc)
            return rc;
    }
    return ICMS_OK;
}
