/*
 * specsheet.h: the one-page PDF spec sheet of a model (issue 13, point 5),
 * drawn with cairo from the spec JSON of POST /api/models/{id}/download-specs
 * (src/api/specs.c) and the model's thumbnail as a PNG.
 *
 * Runs on a pool thread (it takes milliseconds, but text layout and PNG
 * decoding are not poll-thread work).  Thread safe: each call has its own
 * surface.
 */
#ifndef HWC_SPECSHEET_H
#define HWC_SPECSHEET_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define SPECSHEET_MAX_BYTES ((size_t)32 << 20)

/* The PDF (A4, one page) into *pdf (malloc'd, *len bytes); png may be
 * NULL (no thumbnail: a placeholder box).  False with a reason in err. */
bool specsheet_pdf(json_t *spec, const unsigned char *png, size_t png_len, char **pdf, size_t *len, char *err,
		   size_t errlen);

/* Frees cairo's and fontconfig's caches (at exit, after the last sheet:
 * no sheet may be drawn at the same time or after). */
void specsheet_shutdown(void);

#endif
