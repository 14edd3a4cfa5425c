/* specsheet.c: the PDF spec sheet (specsheet.h). */
#include <cairo.h>
#include <cairo-pdf.h>
#include <fontconfig/fontconfig.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "media/specsheet.h"
#include "core/util.h"

#define PAGE_W 595.0 /* A4 in points */
#define PAGE_H 842.0
#define MARGIN 48.0
#define THUMB 200.0
#define LEFT_W (PAGE_W - 2 * MARGIN - THUMB - 16) /* beside the thumbnail */
#define FULL_W (PAGE_W - 2 * MARGIN)

struct out {
	char *buf;
	size_t len, cap;
	bool overflow;
};

static cairo_status_t write_out(void *closure, const unsigned char *data, unsigned int n)
{
	struct out *o = closure;
	if (o->len + n > SPECSHEET_MAX_BYTES) {
		o->overflow = true;
		return CAIRO_STATUS_WRITE_ERROR;
	}
	if (o->len + n > o->cap) {
		o->cap = MAX(o->cap * 2, o->len + n + 4096);
		o->buf = xrealloc(o->buf, o->cap);
	}
	memcpy(o->buf + o->len, data, n);
	o->len += n;
	return CAIRO_STATUS_SUCCESS;
}

struct png_in {
	const unsigned char *data;
	size_t len, pos;
};

static cairo_status_t read_png(void *closure, unsigned char *data, unsigned int n)
{
	struct png_in *p = closure;
	if (p->len - p->pos < n)
		return CAIRO_STATUS_READ_ERROR;
	memcpy(data, p->data + p->pos, n);
	p->pos += n;
	return CAIRO_STATUS_SUCCESS;
}

/* Text at (x, y) no wider than max_w points: cut at a character boundary
 * with "…" added when it is longer (user text: titles, names, reasons). */
static void text(cairo_t *cr, double x, double y, double size, bool bold, const char *s, double max_w)
{
	char buf[512];
	size_t n = strlen(s);
	if (n > sizeof(buf) - 4)
		n = sizeof(buf) - 4;
	while (n && ((unsigned char)s[n] & 0xC0) == 0x80)
		n--;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (n < strlen(s))
		memcpy(buf + n, "\xe2\x80\xa6", 4);
	cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL,
			       bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
	cairo_set_font_size(cr, size);
	cairo_text_extents_t ext;
	cairo_text_extents(cr, buf, &ext);
	while (n && ext.x_advance > max_w) {
		do
			n--;
		while (n && ((unsigned char)s[n] & 0xC0) == 0x80);
		memcpy(buf + n, "\xe2\x80\xa6", 4);
		cairo_text_extents(cr, buf, &ext);
	}
	cairo_move_to(cr, x, y);
	cairo_show_text(cr, buf);
}

static const char *str_or(json_t *o, const char *key, const char *def)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : def;
}

/* A count, "not checked" for null, "-" when absent. */
static void count_text(json_t *v, char *buf, size_t len)
{
	if (json_is_integer(v))
		snprintf(buf, len, "%lld", (long long)json_integer_value(v));
	else if (json_is_real(v))
		snprintf(buf, len, "%.6g", json_real_value(v));
	else if (json_is_null(v))
		snprintf(buf, len, "not checked");
	else
		snprintf(buf, len, "-");
}

static void badge(cairo_t *cr, double x, double y, const char *b)
{
	/* the web client's colours (web/css/app.css) */
	if (!strcmp(b, "gold"))
		cairo_set_source_rgb(cr, 0.66, 0.48, 0.0);
	else if (!strcmp(b, "silver"))
		cairo_set_source_rgb(cr, 0.37, 0.40, 0.45);
	else
		cairo_set_source_rgb(cr, 0.54, 0.35, 0.21);
	cairo_rectangle(cr, x, y, 110, 26);
	cairo_fill(cr);
	cairo_set_source_rgb(cr, 1, 1, 1);
	char label[32];
	snprintf(label, sizeof(label), "%s", b);
	for (char *p = label; *p; p++)
		if (*p >= 'a' && *p <= 'z')
			*p = (char)(*p - 32);
	text(cr, x + 10, y + 18, 13, true, label, 100);
}

static void thumbnail(cairo_t *cr, const unsigned char *png, size_t png_len)
{
	double x = PAGE_W - MARGIN - THUMB, y = MARGIN;
	cairo_surface_t *img = NULL;
	if (png) {
		struct png_in in = { png, png_len, 0 };
		img = cairo_image_surface_create_from_png_stream(read_png, &in);
		if (cairo_surface_status(img) != CAIRO_STATUS_SUCCESS) {
			cairo_surface_destroy(img);
			img = NULL;
		}
	}
	cairo_save(cr);
	if (img) {
		double w = cairo_image_surface_get_width(img), h = cairo_image_surface_get_height(img);
		double s = MIN(THUMB / w, THUMB / h);
		cairo_translate(cr, x + (THUMB - w * s) / 2, y + (THUMB - h * s) / 2);
		cairo_scale(cr, s, s);
		cairo_set_source_surface(cr, img, 0, 0);
		cairo_paint(cr);
		cairo_surface_destroy(img);
	} else {
		cairo_set_source_rgb(cr, 0.93, 0.93, 0.95);
		cairo_rectangle(cr, x, y, THUMB, THUMB);
		cairo_fill(cr);
		cairo_set_source_rgb(cr, 0.5, 0.5, 0.55);
		text(cr, x + 60, y + THUMB / 2, 11, false, "no thumbnail", THUMB);
	}
	cairo_restore(cr);
}

bool specsheet_pdf(json_t *spec, const unsigned char *png, size_t png_len, char **pdf, size_t *len, char *err,
		   size_t errlen)
{
	struct out o = { NULL, 0, 0, false };
	cairo_surface_t *surf = cairo_pdf_surface_create_for_stream(write_out, &o, PAGE_W, PAGE_H);
	cairo_pdf_surface_set_metadata(surf, CAIRO_PDF_METADATA_CREATOR, "HWC3D");
	cairo_t *cr = cairo_create(surf);
	json_t *model = json_object_get(spec, "model"), *q = json_object_get(spec, "quality");
	char line[512];

	cairo_set_source_rgb(cr, 0.1, 0.1, 0.15);
	text(cr, MARGIN, MARGIN + 14, 10, false, "HWC3D spec sheet", LEFT_W);
	text(cr, MARGIN, MARGIN + 40, 18, true, str_or(model, "title", ""), LEFT_W);
	snprintf(line, sizeof(line), "by %s", str_or(json_object_get(model, "creator"), "username", ""));
	text(cr, MARGIN, MARGIN + 60, 11, false, line, LEFT_W);
	snprintf(line, sizeof(line), "%s, %.1f MB, license %s", str_or(model, "file_format", "?"),
		 json_number_value(json_object_get(model, "file_size")) / 1048576.0, str_or(model, "license", "?"));
	text(cr, MARGIN, MARGIN + 76, 11, false, line, LEFT_W);
	const char *b = str_or(spec, "quality_badge", NULL);
	if (b)
		badge(cr, MARGIN, MARGIN + 92, b);
	else
		text(cr, MARGIN, MARGIN + 110, 11, false, "Quality not measured", LEFT_W);
	thumbnail(cr, png, png_len);

	/* the table */
	struct { const char *label, *key; } rows[] = {
		{ "Triangles", "triangles" }, { "Vertices", "vertices" }, { "Meshes", "meshes" },
		{ "Materials", "materials" }, { "Textures", "texture_count" }, { "Animations", "animations" },
		{ "Bones", "bones" }, { "Non-manifold edges", "non_manifold_edges" },
		{ "Open boundary edges", "boundary_edges" }, { "Degenerate faces", "degenerate_faces" },
		{ "Duplicate faces", "duplicate_faces" },
	};
	double y = MARGIN + THUMB + 40, row_h = 20, col2 = MARGIN + 190;
	cairo_set_line_width(cr, 0.5);
	for (size_t i = 0; i < ARRAY_LEN(rows) + 3; i++) {
		char value[256];
		const char *label;
		if (i < ARRAY_LEN(rows)) {
			label = rows[i].label;
			count_text(json_object_get(q, rows[i].key), value, sizeof(value));
		} else if (i == ARRAY_LEN(rows)) {
			label = "UV coverage";
			json_t *uv = json_object_get(q, "uv_coverage");
			if (json_is_number(uv))
				snprintf(value, sizeof(value), "%.0f%% of meshes", json_number_value(uv) * 100);
			else
				snprintf(value, sizeof(value), "-");
		} else if (i == ARRAY_LEN(rows) + 1) {
			label = "Dimensions";
			json_t *d = json_object_get(q, "dimensions");
			if (d)
				snprintf(value, sizeof(value), "%.4g x %.4g x %.4g m", json_number_value(json_object_get(d, "x")),
					 json_number_value(json_object_get(d, "y")), json_number_value(json_object_get(d, "z")));
			else
				snprintf(value, sizeof(value), "-");
		} else {
			label = "Units";
			snprintf(value, sizeof(value), "%s", str_or(q, "unit_note", "-"));
		}
		if (i % 2 == 0) {
			cairo_set_source_rgb(cr, 0.95, 0.95, 0.97);
			cairo_rectangle(cr, MARGIN, y - 14, PAGE_W - 2 * MARGIN, row_h);
			cairo_fill(cr);
		}
		cairo_set_source_rgb(cr, 0.1, 0.1, 0.15);
		text(cr, MARGIN + 8, y, 11, true, label, col2 - MARGIN - 16);
		text(cr, col2, y, 11, false, value, PAGE_W - MARGIN - col2 - 8);
		y += row_h;
	}
	/* texture resolutions */
	y += 14;
	text(cr, MARGIN, y, 12, true, "Textures", FULL_W);
	y += 18;
	size_t i;
	json_t *t;
	size_t shown = 0;
	json_array_foreach(json_object_get(q, "textures"), i, t) {
		if (shown == 6)
			break;
		json_t *w = json_object_get(t, "width"), *h = json_object_get(t, "height");
		if (json_is_integer(w) && json_is_integer(h))
			snprintf(line, sizeof(line), "%s (%s): %lld x %lld", str_or(t, "name", "?"), str_or(t, "source", "?"),
				 (long long)json_integer_value(w), (long long)json_integer_value(h));
		else
			snprintf(line, sizeof(line), "%s (%s): resolution unknown", str_or(t, "name", "?"),
				 str_or(t, "source", "?"));
		text(cr, MARGIN + 8, y, 10, false, line, FULL_W - 8);
		y += 15;
		shown++;
	}
	if (!shown) {
		text(cr, MARGIN + 8, y, 10, false, "none", FULL_W);
		y += 15;
	}
	/* what kept it from the next badge */
	y += 10;
	json_t *why = json_object_get(q, "badge_reasons");
	if (json_array_size(why)) {
		text(cr, MARGIN, y, 12, true, "Badge notes", FULL_W);
		y += 18;
		json_array_foreach(why, i, t) {
			if (i == 5 || !json_is_string(t))
				break;
			text(cr, MARGIN + 8, y, 10, false, json_string_value(t), FULL_W - 8);
			y += 15;
		}
	}
	cairo_set_source_rgb(cr, 0.5, 0.5, 0.55);
	snprintf(line, sizeof(line), "Generated %s by HWC3D from the platform's own analysis of the file.",
		 str_or(spec, "generated_at", ""));
	text(cr, MARGIN, PAGE_H - MARGIN, 9, false, line, FULL_W);

	cairo_show_page(cr);
	cairo_destroy(cr);
	cairo_surface_finish(surf);
	cairo_status_t st = cairo_surface_status(surf);
	cairo_surface_destroy(surf);
	if (st != CAIRO_STATUS_SUCCESS || o.overflow) {
		free(o.buf);
		snprintf(err, errlen, "%s", o.overflow ? "the PDF is too large" : cairo_status_to_string(st));
		return false;
	}
	*pdf = o.buf;
	*len = o.len;
	return true;
}

void specsheet_shutdown(void)
{
	cairo_debug_reset_static_data();
	FcFini();
}
