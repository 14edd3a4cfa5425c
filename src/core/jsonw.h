/*
 * jsonw.h: JSON text written straight into a strbuf, for the documents
 * served on the hot paths (model lists and pages), where building a
 * jansson tree only to print it cost a third of the CPU.  The text is the
 * one reply.c's jansson dump gives (compact, reals with 15 significant
 * digits), so both paths agree byte for byte.
 */
#ifndef HWC_JSONW_H
#define HWC_JSONW_H

#include <stdbool.h>
#include <stdint.h>
#include "strbuf.h"

/* A string literal (NULL: null).  Bytes that are not UTF-8 become U+FFFD. */
void jw_str(strbuf_t *sb, const char *s);
void jw_int(strbuf_t *sb, int64_t v);
void jw_bool(strbuf_t *sb, bool b);
/* As jansson prints a real: %.15g, with ".0" when that looks like an integer. */
void jw_real(strbuf_t *sb, double d);
/* Cents as a real number of units (9.99). */
void jw_money(strbuf_t *sb, int64_t cents);
/* ISO 8601 UTC, null for 0 or less (json_time). */
void jw_time(strbuf_t *sb, int64_t ms);
/* A stored JSON array of strings, written compact; anything else that is
 * stored there is written as []. */
void jw_str_array(strbuf_t *sb, const char *text);

#endif
