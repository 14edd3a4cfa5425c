#include <pthread.h>
#include <vips/vips.h>
#include "image.h"
#include "../core/log.h"
#include "../core/util.h"

static pthread_once_t vips_once = PTHREAD_ONCE_INIT;
static bool vips_ready;

/* libvips and its loaders cost ~10 MB of resident memory: started on the
 * first image, not at start-up. */
static void vips_start(void)
{
	if (VIPS_INIT("hwc3d"))
		return;
	/* Only the loaders we asked for; no operation cache (every image is
	 * seen once); one worker thread per operation: requests already
	 * run in parallel. */
	vips_block_untrusted_set(TRUE);
	vips_cache_set_max(0);
	vips_cache_set_max_mem(0);
	vips_concurrency_set(1);
	vips_ready = true;
}

bool image_init(void)
{
	return true;
}

void image_shutdown(void)
{
	if (vips_ready)
		vips_shutdown();
}

static void vips_reason(char *err, size_t errlen, const char *what)
{
	const char *msg = vips_error_buffer();
	char line[160];
	snprintf(line, sizeof(line), "%s", msg && *msg ? msg : "unknown error");
	char *nl = strchr(line, '\n');
	if (nl)
		*nl = '\0';
	snprintf(err, errlen, "%s: %s", what, line);
	vips_error_clear();
}

static VipsImage *load(const char *src, enum file_type t)
{
	VipsImage *img = NULL;
	int rc = -1;
	switch (t) {
	case FT_JPEG:
		rc = vips_jpegload(src, &img, "access", VIPS_ACCESS_SEQUENTIAL, "fail_on", VIPS_FAIL_ON_ERROR, NULL);
		break;
	case FT_PNG:
		rc = vips_pngload(src, &img, "access", VIPS_ACCESS_SEQUENTIAL, "fail_on", VIPS_FAIL_ON_ERROR, NULL);
		break;
	case FT_WEBP:
		rc = vips_webpload(src, &img, "access", VIPS_ACCESS_SEQUENTIAL, "fail_on", VIPS_FAIL_ON_ERROR, NULL);
		break;
	default:
		break;
	}
	return rc ? NULL : img;
}

static int save(VipsImage *img, const char *dst, enum file_type t)
{
	switch (t) {
	case FT_JPEG:
		return vips_jpegsave(img, dst, "strip", TRUE, "Q", 90, NULL);
	case FT_PNG:
		return vips_pngsave(img, dst, "strip", TRUE, "compression", 6, NULL);
	case FT_WEBP:
		return vips_webpsave(img, dst, "strip", TRUE, "Q", 90, NULL);
	default:
		return -1;
	}
}

bool image_process(const char *src, const char *dst, enum file_type t, int max_side,
		   int *w, int *h, char *err, size_t errlen)
{
	pthread_once(&vips_once, vips_start);
	if (!vips_ready) {
		snprintf(err, errlen, "image processing is unavailable");
		return false;
	}
	VipsImage *in = load(src, t);
	if (!in) {
		vips_reason(err, errlen, "not a readable image");
		return false;
	}
	int width = vips_image_get_width(in), height = vips_image_get_height(in);
	if (width <= 0 || height <= 0 || width > IMAGE_MAX_SIDE || height > IMAGE_MAX_SIDE ||
	    (int64_t)width * height > IMAGE_MAX_PIXELS) {
		snprintf(err, errlen, "image of %dx%d pixels is larger than allowed (%d per side, %d megapixels)",
			 width, height, IMAGE_MAX_SIDE, IMAGE_MAX_PIXELS / 1000000);
		g_object_unref(in);
		return false;
	}
	VipsImage *out = NULL;
	if (max_side > 0 && (width > max_side || height > max_side)) {
		g_object_unref(in);
		/* thumbnail reloads with shrink-on-load: cheap for JPEG/WebP. */
		if (vips_thumbnail(src, &out, max_side, "height", max_side, "size", VIPS_SIZE_DOWN, NULL)) {
			vips_reason(err, errlen, "cannot resize the image");
			return false;
		}
	} else {
		if (vips_copy(in, &out, NULL)) {
			g_object_unref(in);
			vips_reason(err, errlen, "cannot read the image");
			return false;
		}
		g_object_unref(in);
	}
	/* libvips 8.14's webpsave keeps EXIF/XMP despite "strip": remove the
	 * metadata fields themselves. */
	static const char *fields[] = { "exif-data", "xmp-data", "iptc-data", "icc-profile-data" };
	for (size_t i = 0; i < ARRAY_LEN(fields); i++)
		vips_image_remove(out, fields[i]);
	int rc = save(out, dst, t);
	if (rc == 0) {
		*w = vips_image_get_width(out);
		*h = vips_image_get_height(out);
	} else {
		vips_reason(err, errlen, "the image is damaged");
	}
	g_object_unref(out);
	return rc == 0;
}

bool image_solid_png(const char *dst, int width, int height, const unsigned char rgb[3], char *err, size_t errlen)
{
	pthread_once(&vips_once, vips_start);
	if (!vips_ready) {
		snprintf(err, errlen, "image processing is unavailable");
		return false;
	}
	VipsImage *black = NULL, *img = NULL, *out = NULL;
	double a[3] = { 1, 1, 1 }, b[3] = { rgb[0], rgb[1], rgb[2] };
	bool ok = !vips_black(&black, width, height, "bands", 3, NULL) &&
		  !vips_linear(black, &img, a, b, 3, NULL) &&
		  !vips_cast(img, &out, VIPS_FORMAT_UCHAR, NULL) &&
		  !vips_pngsave(out, dst, "strip", TRUE, NULL);
	if (!ok)
		vips_reason(err, errlen, "cannot make the image");
	if (black)
		g_object_unref(black);
	if (img)
		g_object_unref(img);
	if (out)
		g_object_unref(out);
	return ok;
}
