/*
 * image.h: image validation and re-encoding with libvips.
 *
 * Dimensions are read from the header before any pixel is decoded, so a
 * small file declaring 100000 x 100000 pixels is refused without the memory.
 * The output is re-encoded in the same format without metadata (EXIF, XMP,
 * IPTC, ICC), which also drops anything smuggled in ancillary chunks.
 * Thread safe after image_init().
 */
#ifndef HWC_IMAGE_H
#define HWC_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include "sniff.h"

#define IMAGE_MAX_SIDE 16384
#define IMAGE_MAX_PIXELS (40 * 1000 * 1000)

bool image_init(void);
void image_shutdown(void);

/* Re-encodes src (of type t: JPEG, PNG or WEBP) into dst, shrunk to fit
 * max_side x max_side when max_side > 0.  Sets *w and *h to the output's
 * size.  false with a reason in err for a broken or oversized image. */
bool image_process(const char *src, const char *dst, enum file_type t, int max_side,
		   int *w, int *h, char *err, size_t errlen);

/* Writes a width x height PNG of one colour (demo content). */
bool image_solid_png(const char *dst, int width, int height, const unsigned char rgb[3], char *err, size_t errlen);

#endif
