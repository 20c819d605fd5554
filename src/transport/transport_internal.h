/* Helpers the transport and RPC modules share; nothing here is exported. */
#ifndef ICMS_SRC_TRANSPORT_INTERNAL_H
#define ICMS_SRC_TRANSPORT_INTERNAL_H

#include <stddef.h>

/*
 * Copy url into buf (always NUL-terminated, truncated to size) without what
 * must not reach a message or a log: user:password@ is dropped, and so are
 * the query and the fragment. "http://u:p@host:1/x?k=v" -> "http://host:1/x".
 */
void icms__url_redact(const char *url, char *buf, size_t size);

#endif
