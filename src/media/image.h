/*
 * image.h: image validation and re-encoding with libvips, in a sandboxed
 * child (image.c): the server never decodes an untrusted image itself.
 *
 * Dimensions are read from the header before any pixel is decoded, so a
 * small file declaring 100000 x 100000 pixels is refused without the memory.
 * The output is re-encoded in the same format without metadata (EXIF, XMP,
 * IPTC, ICC), which also drops anything smuggled in ancillary chunks.  The
 * child has the model analysis's kind of limits: IMAGE_MEMORY_MB of address
 * space (default 2048), IMAGE_CPU_S (60), IMAGE_TIMEOUT_S (120 s wall
 * clock), ANALYZE_CONCURRENCY children at once, no new privileges, a
 * seccomp allowlist without open, socket or exec, no run-time code
 * generation.  Thread safe.
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

/* Re-encodes src (of type t: JPEG, PNG or WEBP) into dst (created; removed
 * again on failure), shrunk to fit max_side x max_side when max_side > 0,
 * in the sandboxed child.  Sets *w and *h to the output's size.  false
 * with a reason in err for a broken, oversized or hostile image. */
bool image_process(const char *src, const char *dst, enum file_type t, int max_side,
		   int *w, int *h, char *err, size_t errlen);

/* Writes a width x height PNG of one colour (demo content; in-process,
 * nothing untrusted is decoded). */
bool image_solid_png(const char *dst, int width, int height, const unsigned char rgb[3], char *err, size_t errlen);
/* Writes width x height pixels of 8-bit RGB (rows top down) as a PNG. */
bool image_rgb_png(const char *dst, int width, int height, const unsigned char *rgb, char *err, size_t errlen);

/* An image the server stored itself (already re-encoded by the child:
 * thumbnails) as a PNG in memory fitting max_side x max_side, for the
 * PDF spec sheet; *png is g_free()d by the caller.  In-process. */
bool image_png_thumb(const void *data, size_t len, int max_side, void **png, size_t *png_len, char *err,
		     size_t errlen);

/* The child: `hwc3d image-process JPEG|PNG|WEBP MAX_SIDE [--memory-mb N]
 * [--cpu-s N]`, the image on stdin, the output file on fd 3; prints
 * {"width", "height"} or {"error"}.  Returns the exit code. */
int image_child_main(int argc, char **argv);

#endif
