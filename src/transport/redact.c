/* URLs made fit for error messages: no credentials, no query strings. */
#include <string.h>

#include "transport/transport_internal.h"

void icms__url_redact(const char *url, char *buf, size_t size)
{
    if (size == 0)
        return;
    buf[0] = '\0';
    if (!url)
        return;
    size_t used = 0;
    const char *p = url;
    const char *scheme_end = strstr(url, "://");
    if (!scheme_end) {
        /* Without a scheme there is no telling where a password might sit. */
        strncpy(buf, "(invalid URL)", size - 1);
        buf[size - 1] = '\0';
        return;
    }
    {
        size_t n = (size_t)(scheme_end - url) + 3;
        /* The authority runs to the first '/', '?' or '#'; userinfo ends at its last '@'. */
        const char *auth = scheme_end + 3;
        size_t auth_len = strcspn(auth, "/?#");
        const char *at = NULL;
        for (size_t i = 0; i < auth_len; i++)
            if (auth[i] == '@')
                at = auth + i;
        const char *host = at ? at + 1 : auth;
        size_t head = n < size - 1 ? n : size - 1;
        memcpy(buf, url, head);
        used = head;
        p = host;
    }
    size_t rest = strcspn(p, "?#");
    if (used + rest > size - 1)
        rest = size - 1 - used;
    memcpy(buf + used, p, rest);
    buf[used + rest] = '\0';
}
