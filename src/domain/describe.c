/* A transition table rendered as Markdown, so docs/domain.md shows the table the code runs. */
#include <stdio.h>
#include <string.h>

#include "core/core.h"
#include "domain/machine.h"

struct buf {
    char *data;
    size_t len, cap;
    int failed;
};

static void put(struct buf *b, const char *s)
{
    size_t n = strlen(s), need;
    if (b->failed)
        return;
    if (!icms__add_size(b->len, n + 1, &need)) {
        b->failed = 1;
        return;
    }
    if (need > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < need)
            cap *= 2;
        char *p = icms__realloc(b->data, cap);
        if (p == NULL) {
            b->failed = 1;
            return;
        }
        b->data = p;
        b->cap = cap;
    }
    memcpy(b->data + b->len, s, n + 1);
    b->len += n;
}

/* Names joined by ", " for the set bits of mask, in bit order; "-" for none. */
static void put_list(struct buf *b, unsigned long mask, int limit, const char *(*name)(int))
{
    int first = 1;
    for (int i = 0; i < limit; i++) {
        if (!((mask >> i) & 1u))
            continue;
        put(b, first ? "" : ", ");
        put(b, name(i));
        first = 0;
    }
    if (first)
        put(b, "-");
}

static const char *party_name(int bit)
{
    static const char *const names[] = {"owner", "admin", "system", "investor"};
    return bit >= 0 && bit < 4 ? names[bit] : "?";
}

int icms__machine_markdown(const icms__machine *m, char **out)
{
    if (m == NULL || out == NULL)
        return icms__error(ICMS_EINVALID, "markdown: machine and out may not be NULL");
    struct buf b = {NULL, 0, 0, 0};
    put(&b, "| from | action | to | who | guards | event |\n");
    put(&b, "|---|---|---|---|---|---|\n");
    for (size_t i = 0; i < m->rule_count; i++) {
        const icms__rule *r = &m->rules[i];
        put(&b, "| ");
        put_list(&b, r->from, m->state_count, m->state_name);
        put(&b, " | ");
        put(&b, m->action_name(r->action));
        put(&b, " | ");
        put(&b, m->state_name(r->to));
        put(&b, " | ");
        put_list(&b, r->actors, 4, party_name);
        if (r->flags & ICMS__RULE_AUTO)
            put(&b, " (automatic)");
        put(&b, " | ");
        int first = 1;
        for (unsigned bit = 1; bit != 0 && bit <= r->guards; bit <<= 1) {
            if (!(r->guards & bit))
                continue;
            put(&b, first ? "" : "; ");
            put(&b, m->guard_name(bit));
            first = 0;
        }
        if (first)
            put(&b, "-");
        put(&b, " | `");
        put(&b, r->event);
        put(&b, "` |\n");
    }
    if (b.failed) {
        icms__free(b.data);
        return icms__error(ICMS_ENOMEM, "markdown: out of memory");
    }
    *out = b.data;
    return ICMS_OK;
}
