#include "kv/hints.h"

#include <pthread.h>
#include <string.h>

#include "core/core.h"

/* A handle has three logs; a few more slots cost nothing. */
enum { SLOTS = 8 };

struct icms__hints {
    pthread_mutex_t lock;
    const void *tags[SLOTS];
    icms__log_hint hints[SLOTS];
};

int icms__hints_new(icms__hints **out)
{
    icms__hints *h = icms__calloc(1, sizeof *h);
    if (!h)
        return icms__error(ICMS_ENOMEM, "out of memory");
    if (pthread_mutex_init(&h->lock, NULL) != 0) {
        icms__free(h);
        return icms__error(ICMS_ERROR, "cannot create a lock");
    }
    *out = h;
    return ICMS_OK;
}

void icms__log_hint_clear(icms__log_hint *hint)
{
    icms__free(hint->entry);
    hint->entry = NULL;
    hint->entry_len = 0;
}

void icms__hints_free(icms__hints *h)
{
    if (!h)
        return;
    for (size_t i = 0; i < SLOTS; i++)
        icms__log_hint_clear(&h->hints[i]);
    pthread_mutex_destroy(&h->lock);
    icms__free(h);
}

static size_t slot_of(const icms__hints *h, const void *tag)
{
    for (size_t i = 0; i < SLOTS; i++)
        if (h->tags[i] == tag)
            return i;
    return SLOTS;
}

bool icms__hints_get(icms__hints *h, const void *tag, icms__log_hint *out)
{
    bool found = false;
    pthread_mutex_lock(&h->lock);
    size_t i = slot_of(h, tag);
    if (i < SLOTS) {
        const icms__log_hint *hint = &h->hints[i];
        uint8_t *copy = icms__malloc(hint->entry_len ? hint->entry_len : 1);
        if (copy) {
            *out = *hint;
            out->entry = copy;
            memcpy(copy, hint->entry, hint->entry_len);
            found = true;
        }
    }
    pthread_mutex_unlock(&h->lock);
    return found;
}

void icms__hints_set(icms__hints *h, const void *tag, icms__log_hint *hint)
{
    pthread_mutex_lock(&h->lock);
    size_t i = slot_of(h, tag);
    if (i == SLOTS)
        i = slot_of(h, NULL);
    if (i < SLOTS) {
        icms__log_hint_clear(&h->hints[i]);
        h->tags[i] = tag;
        h->hints[i] = *hint;
        hint->entry = NULL; /* taken */
        hint->entry_len = 0;
    }
    pthread_mutex_unlock(&h->lock);
    icms__log_hint_clear(hint); /* not taken when every slot is in use */
}
