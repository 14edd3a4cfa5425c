/*
 * num.h: strict number parsing for untrusted text.
 *
 * The whole string must be the number: no leading or trailing space, no
 * "+", no "0x", no empty string; out of range is a failure, not a clamp.
 * On failure *out is untouched and false is returned.
 */
#ifndef HWC_NUM_H
#define HWC_NUM_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

bool parse_i64(const char *s, int64_t *out);
bool parse_i64_range(const char *s, int64_t lo, int64_t hi, int64_t *out);
/* Parses a decimal amount of money ("12", "12.5", "12.50") into cents. */
bool parse_cents(const char *s, int64_t *out);
/* "true"/"false"/"1"/"0" */
bool parse_bool(const char *s, bool *out);

#endif
