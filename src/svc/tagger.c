/*
 * tagger.c: see tagger.h.
 */
#include <ctype.h>
#include <curl/curl.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <vips/vips.h>
#include "tagger.h"
#include "../core/config.h"
#include "../core/num.h"
#include "../core/strbuf.h"
#include "../core/util.h"
#include "../media/image.h"
#include "../media/sniff.h"
#include "storage.h"

#define TAG_MIN 2
#define TAG_MAX 30
#define REMOTE_MAX_TAGS 15
#define REMOTE_MAX_BYTES (64 * 1024)
#define COLOUR_SIDE 16

/* Words that say nothing about what a model shows: English stop words,
 * the names exporters give everything, and modelling jargon. */
static const char *const STOP[] = {
	"the", "and", "for", "with", "from", "that", "this", "into", "onto", "its", "are", "was", "you", "your",
	"our", "has", "have", "not", "but", "all", "any", "can", "will", "very", "made", "make", "model",
	"models", "mesh", "meshes", "node", "nodes", "object", "objects", "material", "materials", "mat",
	"default", "defaultmaterial", "untitled", "scene", "root", "rootnode", "geo", "geometry", "polygon",
	"poly", "polys", "obj", "fbx", "glb", "gltf", "blend", "blender", "export", "exported", "copy", "new",
	"group", "shape", "primitive", "primitives", "lod", "col", "collision", "armature", "empty", "null",
	"none", "main", "base", "part", "parts", "low", "high", "final", "version", "test", "hwc3d", "3d",
	"sub", "subdivision", "surface", "component", "instance", "transform", "pivot", "dummy", "helper",
	"one", "two", "left", "right", "top", "bottom", "front", "back", "side", "inner", "outer", "uv", "uvs",
	"texture", "textures", "tex", "map", "maps", "diffuse", "normal", "normals", "specular", "rough",
	"roughness", "metal", "metallic", "metalness", "albedo", "basecolor", "emissive", "occlusion", "ao",
	"baked", "bake", "cube", "sphere", "plane", "cylinder",
};

static bool is_stop(const char *w)
{
	for (size_t i = 0; i < ARRAY_LEN(STOP); i++)
		if (!strcmp(w, STOP[i]))
			return true;
	return false;
}

/* A valid tag from s (lower case, [a-z0-9-], runs of other characters
 * made one '-', trimmed), into out; false when nothing valid is left. */
static bool clean_tag(const char *s, char out[TAG_MAX + 1])
{
	size_t n = 0;
	bool dash = false;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		int c = tolower(*p);
		if (isalnum(c) && c < 0x80) {
			if (dash && n && n < TAG_MAX)
				out[n++] = '-';
			dash = false;
			if (n >= TAG_MAX)
				return false;
			out[n++] = (char)c;
		} else {
			dash = true;
		}
	}
	out[n] = '\0';
	return n >= TAG_MIN;
}

void tagger_add(json_t *tags, const char *tag, double score, const char *source)
{
	char t[TAG_MAX + 1];
	if (!clean_tag(tag, t))
		return;
	if (score > 1)
		score = 1;
	json_t *old = json_object_get(tags, t);
	if (old) {
		/* Seen from another source too: more certain. */
		double s = json_real_value(json_object_get(old, "score"));
		double merged = s > score ? s + 0.1 * score : score + 0.1 * s;
		json_object_set_new(old, "score", json_real(merged > 1 ? 1 : merged));
		if (score > s)
			json_object_set_new(old, "source", json_string(source));
		return;
	}
	json_object_set_new(tags, t, json_pack("{s:f, s:s}", "score", score, "source", source));
}

json_t *tagger_words(const char *text)
{
	json_t *out = json_array();
	if (!text)
		return out;
	char w[64];
	size_t n = 0;
	for (const unsigned char *p = (const unsigned char *)text;; p++) {
		int c = *p;
		/* a word ends at a non-letter, at a letter-digit change, and at
		 * a camelCase hump ("woodenChair") */
		bool boundary = !c || !isalnum(c) || c >= 0x80 ||
				(n && isdigit(c) != isdigit((unsigned char)w[n - 1])) ||
				(n && isupper(c) && islower((unsigned char)p[-1]));
		if (boundary && n) {
			w[n] = '\0';
			for (size_t i = 0; i < n; i++)
				w[i] = (char)tolower((unsigned char)w[i]);
			bool keep = n >= 3 && !isdigit((unsigned char)w[0]) && !is_stop(w);
			size_t i;
			json_t *e;
			json_array_foreach(out, i, e)
				keep = keep && strcmp(json_string_value(e), w);
			if (keep && json_array_size(out) < 200)
				json_array_append_new(out, json_string(w));
			n = 0;
		}
		if (!c)
			break;
		if (isalnum(c) && c < 0x80 && n < sizeof(w) - 1)
			w[n++] = (char)c;
	}
	return out;
}

static void add_names(json_t *tags, json_t *names, const char *skip_prefix)
{
	size_t i;
	json_t *e;
	json_array_foreach(names, i, e) {
		const char *s = json_string_value(e);
		if (!s || (skip_prefix && str_has_prefix(s, skip_prefix)))
			continue;
		json_t *words = tagger_words(s);
		size_t k;
		json_t *w;
		json_array_foreach(words, k, w)
			tagger_add(tags, json_string_value(w), 0.5, "names");
		json_decref(words);
	}
}

void tagger_from_analysis(json_t *tags, json_t *a)
{
	if (!json_is_object(a))
		return;
	add_names(tags, json_object_get(a, "node_names"), "hwc3d-model");
	add_names(tags, json_object_get(a, "mesh_names"), NULL);
	add_names(tags, json_object_get(a, "materials"), NULL);
	json_int_t polys = json_integer_value(json_object_get(a, "poly_count"));
	if (polys > 0 && polys <= 5000)
		tagger_add(tags, "low-poly", 0.9, "geometry");
	else if (polys >= 100000)
		tagger_add(tags, "high-poly", 0.9, "geometry");
	if (json_is_true(json_object_get(a, "has_rigging")))
		tagger_add(tags, "rigged", 0.95, "geometry");
	if (json_is_true(json_object_get(a, "has_animations")))
		tagger_add(tags, "animated", 0.95, "geometry");
	bool pbr = false;
	size_t i;
	json_t *t;
	json_array_foreach(json_object_get(a, "textures"), i, t) {
		const char *type = json_string_value(json_object_get(t, "type"));
		pbr = pbr || (type && (strstr(type, "metal") || strstr(type, "rough") || !strcmp(type, "normals") ||
				       !strcmp(type, "base_color")));
	}
	if (pbr)
		tagger_add(tags, "pbr", 0.85, "geometry");
	if (json_is_true(json_object_get(a, "has_textures")))
		tagger_add(tags, "textured", 0.85, "geometry");
}

static bool in_vocab(json_t *vocab, const char *w)
{
	size_t i;
	json_t *e;
	json_array_foreach(vocab, i, e)
		if (!strcmp(json_string_value(e), w))
			return true;
	return false;
}

void tagger_from_text(json_t *tags, const char *title, const char *description, json_t *vocab)
{
	const char *texts[2] = { title, description };
	for (int k = 0; k < 2; k++) {
		json_t *words = tagger_words(texts[k]);
		size_t i;
		json_t *w;
		json_array_foreach(words, i, w) {
			const char *s = json_string_value(w);
			if (in_vocab(vocab, s))
				tagger_add(tags, s, k == 0 ? 0.8 : 0.7, "vocabulary");
			else if (k == 0)
				tagger_add(tags, s, 0.45, "title");
		}
		json_decref(words);
	}
}

/* ------------------------------------------------------------- colours */

static const char *colour_name(const unsigned char *p)
{
	double r = p[0] / 255.0, g = p[1] / 255.0, b = p[2] / 255.0;
	double mx = fmax(r, fmax(g, b)), mn = fmin(r, fmin(g, b)), d = mx - mn;
	double s = mx > 0 ? d / mx : 0;
	if (mx < 0.18)
		return "black";
	if (s < 0.18)
		return mx > 0.85 ? "white" : "gray";
	double h;
	if (mx == r)
		h = fmod((g - b) / d, 6);
	else if (mx == g)
		h = (b - r) / d + 2;
	else
		h = (r - g) / d + 4;
	h *= 60;
	if (h < 0)
		h += 360;
	if (h < 15 || h >= 340)
		return "red";
	if (h < 45)
		return mx < 0.6 ? "brown" : "orange";
	if (h < 70)
		return "yellow";
	if (h < 165)
		return "green";
	if (h < 195)
		return "cyan";
	if (h < 255)
		return "blue";
	if (h < 290)
		return "purple";
	return "pink";
}

void tagger_from_pixels(json_t *tags, const unsigned char *rgb, size_t n)
{
	if (!n)
		return;
	json_t *count = json_object();
	for (size_t i = 0; i < n; i++) {
		const char *c = colour_name(rgb + 3 * i);
		json_object_set_new(count, c, json_integer(json_integer_value(json_object_get(count, c)) + 1));
	}
	const char *key;
	json_t *v;
	json_object_foreach(count, key, v) {
		double share = (double)json_integer_value(v) / (double)n;
		if (share >= 0.15)
			tagger_add(tags, key, 0.3 + 0.5 * share, "colour");
	}
	json_decref(count);
}

bool tagger_colours(json_t *tags, const char *path, const char *format, char *err, size_t errlen)
{
	enum file_type t = !strcmp(format, "PNG") ? FT_PNG : !strcmp(format, "WEBP") ? FT_WEBP : FT_JPEG;
	char small[PATH_MAX];
	snprintf(small, sizeof(small), "%s/colours-XXXXXX", store_tmp_dir());
	int fd = mkstemp(small);
	if (fd < 0) {
		snprintf(err, errlen, "no temp file");
		return false;
	}
	close(fd);
	unlink(small); /* image_process creates it */
	int w = 0, h = 0;
	if (!image_process(path, small, t, COLOUR_SIDE, &w, &h, err, errlen))
		return false;
	bool ok = false;
	/* Only the child's 16-pixel output is decoded here, after its header
	 * says so. */
	VipsImage *im = w > 0 && h > 0 && w <= COLOUR_SIDE && h <= COLOUR_SIDE && VIPS_INIT("hwc3d") == 0
				? vips_image_new_from_file(small, "access", VIPS_ACCESS_SEQUENTIAL, NULL)
				: NULL;
	VipsImage *rgb = NULL;
	if (im && im->Xsize <= COLOUR_SIDE && im->Ysize <= COLOUR_SIDE &&
	    !vips_colourspace(im, &rgb, VIPS_INTERPRETATION_sRGB, NULL)) {
		VipsImage *three = NULL;
		if (!vips_extract_band(rgb, &three, 0, "n", 3, NULL)) {
			VipsImage *u8 = NULL;
			if (!vips_cast_uchar(three, &u8, NULL)) {
				size_t len = 0;
				unsigned char *px = vips_image_write_to_memory(u8, &len);
				if (px && len == (size_t)u8->Xsize * (size_t)u8->Ysize * 3) {
					tagger_from_pixels(tags, px, len / 3);
					ok = true;
				}
				g_free(px);
				g_object_unref(u8);
			}
			g_object_unref(three);
		}
		g_object_unref(rgb);
	}
	if (im)
		g_object_unref(im);
	unlink(small);
	if (!ok)
		snprintf(err, errlen, "the thumbnail's colours could not be read");
	return ok;
}

/* -------------------------------------------------------------- remote */

bool tagger_remote_configured(void)
{
	return config_get("AI_TAGS_URL") != NULL;
}

json_t *tagger_parse_remote(const char *content)
{
	if (!content)
		return NULL;
	/* A fenced ```json block is the one kind of wrapping accepted. */
	const char *start = strchr(content, '[');
	const char *end = strrchr(content, ']');
	if (!start || !end || end < start)
		return NULL;
	for (const char *p = content; p < start; p++)
		if (!isspace((unsigned char)*p) && !strchr("`json", *p))
			return NULL;
	for (const char *p = end + 1; *p; p++)
		if (!isspace((unsigned char)*p) && *p != '`')
			return NULL;
	json_t *arr = json_loadb(start, (size_t)(end - start + 1), JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_array(arr) || json_array_size(arr) > 50) {
		json_decref(arr);
		return NULL;
	}
	json_t *out = json_array();
	size_t i;
	json_t *e;
	json_array_foreach(arr, i, e) {
		char t[TAG_MAX + 1];
		if (!json_is_string(e) || json_string_length(e) > TAG_MAX) {
			json_decref(arr);
			json_decref(out);
			return NULL;
		}
		if (clean_tag(json_string_value(e), t))
			json_array_append_new(out, json_string(t));
	}
	json_decref(arr);
	return out;
}

struct body {
	strbuf_t sb;
	bool too_big;
};

static size_t on_body(char *p, size_t size, size_t n, void *ctx)
{
	struct body *b = ctx;
	if (b->sb.len + size * n > REMOTE_MAX_BYTES) {
		b->too_big = true;
		return 0;
	}
	sb_add(&b->sb, p, size * n);
	return size * n;
}

bool tagger_remote(json_t *tags, json_t *analysis, const char *title, const char *description, char *err,
		   size_t errlen)
{
	const char *url = config_get("AI_TAGS_URL");
	if (!url) {
		snprintf(err, errlen, "not configured");
		return false;
	}
	const char *key = config_get("AI_TAGS_KEY"), *model = config_get("AI_TAGS_MODEL");
	int64_t timeout = 10;
	const char *ts = config_get("AI_TAGS_TIMEOUT_S");
	if (ts && !parse_i64_range(ts, 1, 120, &timeout))
		timeout = 10;
	/* What we know, as plain facts; the model's answer is validated. */
	json_t *facts = json_pack("{s:s?, s:s?, s:O?, s:O?, s:O?, s:O?}", "title", title, "description", description,
				  "materials", json_object_get(analysis, "materials"),
				  "node_names", json_object_get(analysis, "node_names"),
				  "poly_count", json_object_get(analysis, "poly_count"),
				  "has_rigging", json_object_get(analysis, "has_rigging"));
	char *facts_text = json_dumps(facts, JSON_COMPACT);
	json_decref(facts);
	json_t *req = json_pack("{s:s, s:[{s:s, s:s}, {s:s, s:s}], s:f, s:i}", "model", model ? model : "gpt-4o-mini",
		"messages", "role", "system", "content",
		"You tag 3D models for a marketplace. Answer with only a JSON array of at most 15 short "
		"lower-case tags (1-3 words each), nothing else.",
		"role", "user", "content", facts_text ? facts_text : "{}", "temperature", 0.2, "max_tokens", 200);
	free(facts_text);
	char *payload = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	struct body b = { 0 };
	sb_init(&b.sb, REMOTE_MAX_BYTES + 1);
	CURL *c = curl_easy_init();
	struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
	char *auth = key ? xasprintf("Authorization: Bearer %s", key) : NULL;
	if (auth)
		h = curl_slist_append(h, auth);
	long status = 0;
	CURLcode rc = CURLE_FAILED_INIT;
	if (c) {
		curl_easy_setopt(c, CURLOPT_URL, url);
		curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
		curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
		curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, (long)timeout);
		curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)timeout);
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, payload);
		curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
		curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
		rc = curl_easy_perform(c);
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
		curl_easy_cleanup(c);
	}
	curl_slist_free_all(h);
	free(auth);
	free(payload);
	bool ok = false;
	if (rc != CURLE_OK) {
		snprintf(err, errlen, "%s", rc == CURLE_OPERATION_TIMEDOUT ? "timed out" : curl_easy_strerror(rc));
	} else if (status != 200) {
		snprintf(err, errlen, "answered %ld", status);
	} else {
		json_t *doc = json_loadb(b.sb.buf ? b.sb.buf : "", b.sb.len, 0, NULL);
		const char *content = json_string_value(json_object_get(
			json_object_get(json_array_get(json_object_get(doc, "choices"), 0), "message"), "content"));
		json_t *list = tagger_parse_remote(content);
		if (!list) {
			snprintf(err, errlen, "its answer is not a JSON list of short strings");
		} else {
			size_t i;
			json_t *e;
			json_array_foreach(list, i, e) {
				if (i >= REMOTE_MAX_TAGS)
					break;
				tagger_add(tags, json_string_value(e), 0.6, "ai");
			}
			ok = true;
		}
		json_decref(list);
		json_decref(doc);
	}
	sb_release(&b.sb);
	return ok;
}

/* -------------------------------------------------------------- ranking */

struct ranked {
	const char *tag;
	double score;
	const char *source;
};

static int cmp_ranked(const void *x, const void *y)
{
	const struct ranked *a = x, *b = y;
	if (a->score != b->score)
		return a->score < b->score ? 1 : -1;
	return strcmp(a->tag, b->tag);
}

json_t *tagger_ranked(json_t *tags, size_t max)
{
	size_t n = json_object_size(tags), k = 0;
	struct ranked *r = xcalloc(n ? n : 1, sizeof(*r));
	const char *key;
	json_t *v;
	json_object_foreach(tags, key, v) {
		r[k].tag = key;
		r[k].score = json_real_value(json_object_get(v, "score"));
		r[k].source = json_string_value(json_object_get(v, "source"));
		k++;
	}
	qsort(r, k, sizeof(*r), cmp_ranked);
	json_t *out = json_array();
	for (size_t i = 0; i < k && i < max; i++)
		json_array_append_new(out, json_pack("{s:s, s:f, s:s}", "tag", r[i].tag, "score",
						     round(r[i].score * 100) / 100, "source", r[i].source));
	free(r);
	return out;
}
