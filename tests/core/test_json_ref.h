/* The pre-rewrite JSON reader and writer (test_json_ref.c), for differential checks. */
#ifndef ICMS_TEST_JSON_REF_H
#define ICMS_TEST_JSON_REF_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "core/json.h"

int ref_json_parse(const char *text, size_t len, const icms__json_limits *limits, cJSON **out);
int ref_json_write(const cJSON *item, unsigned int flags, char **out, size_t *out_len);

#endif
