/*
 * safety.c: the file checks of the safety scan (safety.h).
 */
#include <ctype.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "analyze.h"
#include "clam.h"
#include "safety.h"
#include "sniff.h"
#include "../core/util.h"

#define MAX_PER_CHECK 5      /* findings of one kind reported at most */
#define BLEND_MAX_BLOCKS 20000000
#define SDNA_MAX 200000      /* names, types or structs */

static const char *const SEV[] = { "info", "low", "medium", "high", "critical" };

const char *safety_sev_name(enum safety_sev s)
{
	return SEV[s];
}

void safety_add(json_t *findings, const char *check, enum safety_sev sev, const char *fmt, ...)
{
	char msg[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_array_append_new(findings, json_pack("{s:s, s:s, s:s}", "check", check, "severity", SEV[sev],
						  "message", msg));
}

const char *safety_verdict(json_t *findings)
{
	int worst = SEV_INFO;
	size_t i;
	json_t *f;
	json_array_foreach(findings, i, f) {
		const char *s = json_string_value(json_object_get(f, "severity"));
		for (int k = 0; s && k < (int)ARRAY_LEN(SEV); k++)
			if (!strcmp(s, SEV[k]) && k > worst)
				worst = k;
	}
	return worst == SEV_CRITICAL ? "unsafe" : worst >= SEV_MEDIUM ? "warning" : "safe";
}

/* Printable, for quoting bytes from the file in a message. */
static void shown(const char *in, size_t n, char *out, size_t outlen)
{
	size_t j = 0;
	for (size_t i = 0; i < n && in[i] && j + 1 < outlen && j < 80; i++)
		out[j++] = in[i] < 0x20 || in[i] >= 0x7f ? '?' : in[i];
	out[j] = '\0';
}

/* ------------------------------------------------------------------ glTF */

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

struct uri_walk {
	json_t *findings;
	bool glb;
	int bad, rel;
};

static void check_uris(struct uri_walk *w, json_t *v, int depth)
{
	if (depth > 64)
		return;
	const char *key;
	json_t *val;
	size_t i;
	if (json_is_object(v)) {
		json_object_foreach(v, key, val) {
			if (!strcmp(key, "uri") && json_is_string(val)) {
				const char *u = json_string_value(val);
				char s[100];
				shown(u, json_string_length(val), s, sizeof(s));
				const char *why = gltf_uri_problem(u, !w->glb);
				if (why && w->bad++ < MAX_PER_CHECK)
					safety_add(w->findings, "gltf_uri", SEV_CRITICAL,
						   "refers to \"%s\": %s", s, why);
				else if (!why && strncasecmp(u, "data:", 5) && w->rel++ < MAX_PER_CHECK)
					safety_add(w->findings, "gltf_uri", SEV_LOW,
						   "refers to the file \"%s\", which is not part of the upload", s);
			} else {
				check_uris(w, val, depth + 1);
			}
		}
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, val)
			check_uris(w, val, depth + 1);
	}
}

/* The decoded size of a base64 data: URI, or -1 when it is not base64. */
static int64_t data_uri_bytes(const char *u)
{
	const char *comma = strchr(u, ',');
	if (strncasecmp(u, "data:", 5) || !comma || !strstr(u, ";base64"))
		return -1;
	size_t len = strlen(comma + 1), pad = 0;
	while (len > pad && comma[1 + len - 1 - pad] == '=')
		pad++;
	return (int64_t)(len * 3 / 4) - (int64_t)(pad > 2 ? 2 : pad);
}

static int64_t num(json_t *o, const char *key, int64_t dflt)
{
	json_t *v = json_object_get(o, key);
	if (!v)
		return dflt;
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return -1;
	return json_integer_value(v);
}

static int components(const char *type)
{
	static const struct { const char *t; int n; } T[] = {
		{ "SCALAR", 1 }, { "VEC2", 2 }, { "VEC3", 3 }, { "VEC4", 4 },
		{ "MAT2", 4 }, { "MAT3", 9 }, { "MAT4", 16 },
	};
	for (size_t i = 0; type && i < ARRAY_LEN(T); i++)
		if (!strcmp(type, T[i].t))
			return T[i].n;
	return 0;
}

static int component_bytes(int64_t ctype)
{
	switch (ctype) {
	case 5120: case 5121: return 1;
	case 5122: case 5123: return 2;
	case 5125: case 5126: return 4;
	default: return 0;
	}
}

static void check_bounds(json_t *findings, json_t *doc, int64_t bin_len)
{
	json_t *buffers = json_object_get(doc, "buffers"), *views = json_object_get(doc, "bufferViews");
	json_t *accessors = json_object_get(doc, "accessors");
	int reported = 0;
	size_t i;
	json_t *b;
	json_array_foreach(buffers, i, b) {
		int64_t declared = num(b, "byteLength", -1), have = -1;
		const char *uri = json_string_value(json_object_get(b, "uri"));
		if (!uri && i == 0)
			have = bin_len;
		else if (uri)
			have = data_uri_bytes(uri);
		if (declared < 0) {
			if (reported++ < MAX_PER_CHECK)
				safety_add(findings, "gltf_bounds", SEV_HIGH, "buffer %zu has no valid byteLength", i);
		} else if (have >= 0 && declared > have && reported++ < MAX_PER_CHECK) {
			safety_add(findings, "gltf_bounds", SEV_HIGH,
				   "buffer %zu declares %lld bytes, the file holds %lld", i, (long long)declared,
				   (long long)have);
		}
	}
	json_array_foreach(views, i, b) {
		int64_t bi = num(b, "buffer", -1), off = num(b, "byteOffset", 0), len = num(b, "byteLength", -1);
		json_t *buf = bi >= 0 ? json_array_get(buffers, (size_t)bi) : NULL;
		int64_t blen = buf ? num(buf, "byteLength", -1) : -1;
		if ((!buf || off < 0 || len < 0 || blen < 0 || off > blen || len > blen - off) &&
		    reported++ < MAX_PER_CHECK)
			safety_add(findings, "gltf_bounds", SEV_HIGH,
				   "buffer view %zu (offset %lld, %lld bytes) lies outside its buffer", i,
				   (long long)off, (long long)len);
	}
	json_array_foreach(accessors, i, b) {
		json_t *view = json_object_get(b, "bufferView");
		if (!view)
			continue; /* all zeros (or sparse): no bytes read */
		json_t *v = json_is_integer(view) ? json_array_get(views, (size_t)json_integer_value(view)) : NULL;
		int64_t count = num(b, "count", -1), off = num(b, "byteOffset", 0);
		int elem = components(json_string_value(json_object_get(b, "type"))) *
			   component_bytes(json_integer_value(json_object_get(b, "componentType")));
		int64_t vlen = v ? num(v, "byteLength", -1) : -1, stride = v ? num(v, "byteStride", 0) : -1;
		bool bad = !v || count < 0 || off < 0 || vlen < 0 || stride < 0 || elem == 0;
		if (!bad && count > 0) {
			int64_t step = stride ? stride : elem;
			/* off + (count - 1) * step + elem <= vlen, without overflow */
			bad = off > vlen || (count - 1) > (vlen - off) / (step ? step : 1) ||
			      off + (count - 1) * step + elem > vlen;
		}
		if (bad && reported++ < MAX_PER_CHECK)
			safety_add(findings, "gltf_bounds", SEV_HIGH,
				   "accessor %zu (%lld elements) reads past its buffer view", i, (long long)count);
	}
}

void safety_check_gltf(json_t *findings, const unsigned char *d, size_t n, bool glb)
{
	const unsigned char *js = d;
	size_t jlen = n;
	int64_t bin_len = 0;
	if (glb) {
		if (n < 20 || memcmp(d, "glTF", 4)) {
			safety_add(findings, "format", SEV_CRITICAL, "not a GLB container");
			return;
		}
		uint32_t total = le32(d + 8), clen = le32(d + 12);
		if (total > n || clen > n - 20) {
			safety_add(findings, "gltf_bounds", SEV_HIGH,
				   "the GLB header declares %u bytes (JSON chunk %u), the file holds %zu", total, clen, n);
			return;
		}
		js = d + 20;
		jlen = clen;
		size_t next = 20 + (size_t)clen;
		if (next + 8 <= n) {
			uint32_t blen = le32(d + next);
			if (blen > n - next - 8) {
				safety_add(findings, "gltf_bounds", SEV_HIGH,
					   "the GLB binary chunk declares %u bytes, the file holds %zu", blen, n - next - 8);
				bin_len = (int64_t)(n - next - 8);
			} else {
				bin_len = blen;
			}
		}
	}
	json_error_t jerr;
	json_t *doc = json_loadb((const char *)js, jlen, 0, &jerr);
	if (!json_is_object(doc)) {
		safety_add(findings, "format", SEV_HIGH, "the glTF JSON does not parse");
		json_decref(doc);
		return;
	}
	struct uri_walk w = { .findings = findings, .glb = glb };
	check_uris(&w, doc, 0);
	check_bounds(findings, doc, bin_len);
	json_decref(doc);
}

/* ---------------------------------------------------------------- .blend */

struct blend {
	const unsigned char *d;
	size_t n;
	bool big, wide;
	size_t bhead; /* block header size: 20 or 24 */
	/* SDNA: struct index -> type name */
	const char **types;
	int ntypes;
	int *struct_type;
	int nstructs;
};

static uint32_t b32(const struct blend *b, const unsigned char *p)
{
	return b->big ? (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3] : le32(p);
}

static uint16_t b16(const struct blend *b, const unsigned char *p)
{
	return b->big ? (uint16_t)(p[0] << 8 | p[1]) : (uint16_t)(p[0] | p[1] << 8);
}

/* Aligns p to 4 from base (the SDNA's start: blocks need not be aligned
 * in the file). */
static size_t align4(size_t base, size_t p)
{
	return base + ((p - base + 3) & ~(size_t)3);
}

/* Skips count NUL-terminated strings from *pos (within lim), then aligns
 * to 4 from base; keeps their starts in out (when out).  False on overrun. */
static bool sdna_strings(const struct blend *b, size_t base, size_t *pos, size_t lim, int count, const char **out)
{
	size_t p = *pos;
	for (int i = 0; i < count; i++) {
		const unsigned char *z = p < lim ? memchr(b->d + p, 0, lim - p) : NULL;
		if (!z)
			return false;
		if (out)
			out[i] = (const char *)b->d + p;
		p = (size_t)(z - b->d) + 1;
	}
	p = align4(base, p);
	*pos = p;
	return p <= lim;
}

/* Parses the DNA1 block at [pos, pos + len): type names and which type
 * each struct is.  False when it is malformed (then names are unknown). */
static bool sdna_parse(struct blend *b, size_t pos, size_t len)
{
	size_t lim = pos + len, p = pos;
	if (len < 16 || memcmp(b->d + p, "SDNANAME", 8))
		return false;
	int64_t nnames = b32(b, b->d + p + 8);
	p += 12;
	if (nnames < 0 || nnames > SDNA_MAX || !sdna_strings(b, pos, &p, lim, (int)nnames, NULL))
		return false;
	if (p + 8 > lim || memcmp(b->d + p, "TYPE", 4))
		return false;
	int64_t ntypes = b32(b, b->d + p + 4);
	p += 8;
	if (ntypes < 0 || ntypes > SDNA_MAX)
		return false;
	b->types = xcalloc((size_t)ntypes + 1, sizeof(*b->types));
	b->ntypes = (int)ntypes;
	if (!sdna_strings(b, pos, &p, lim, (int)ntypes, b->types))
		return false;
	if (p + 4 > lim || memcmp(b->d + p, "TLEN", 4))
		return false;
	if ((size_t)ntypes * 2 > lim - p - 4)
		return false;
	p = align4(pos, p + 4 + (size_t)ntypes * 2);
	if (p + 8 > lim || memcmp(b->d + p, "STRC", 4))
		return false;
	int64_t nstructs = b32(b, b->d + p + 4);
	p += 8;
	if (nstructs < 0 || nstructs > SDNA_MAX)
		return false;
	b->struct_type = xcalloc((size_t)nstructs + 1, sizeof(int));
	for (int64_t i = 0; i < nstructs; i++) {
		if (p + 4 > lim)
			return false;
		int type = b16(b, b->d + p), fields = b16(b, b->d + p + 2);
		if (type >= ntypes)
			return false;
		b->struct_type[i] = type;
		p += 4 + (size_t)fields * 4;
	}
	b->nstructs = (int)nstructs;
	return true;
}

static const char *block_type(const struct blend *b, uint32_t sdna)
{
	if (!b->struct_type || sdna >= (uint32_t)b->nstructs)
		return "";
	return b->types[b->struct_type[sdna]];
}

/* The ID name of a Text block ("TXname" near its start), or "". */
static void text_name(const unsigned char *p, size_t len, char *out, size_t outlen)
{
	out[0] = '\0';
	size_t lim = len < 256 ? len : 256;
	for (size_t i = 0; i + 2 < lim; i++)
		if (p[i] == 'T' && p[i + 1] == 'X' && isprint(p[i + 2]) && (i == 0 || p[i - 1] == 0)) {
			shown((const char *)p + i + 2, lim - i - 2, out, outlen);
			return;
		}
}

static bool ends_with_py(const char *s)
{
	size_t n = strlen(s);
	return n >= 3 && !strcasecmp(s + n - 3, ".py");
}

/* Python source in the file's bytes (a Text block's lines are separate
 * blocks, so the whole file is searched once a Text block exists). */
static const char *python_marker(const unsigned char *d, size_t n)
{
	static const char *const M[] = {
		"import bpy", "import os", "import subprocess", "import sys", "__import__", "exec(",
		"eval(", "os.system", "from bpy", "import socket", "urllib.request",
	};
	for (size_t i = 0; i < ARRAY_LEN(M); i++)
		if (memmem(d, n, M[i], strlen(M[i])))
			return M[i];
	return NULL;
}

void safety_check_blend(json_t *findings, const unsigned char *d, size_t n)
{
	if (n < 12 || memcmp(d, "BLENDER", 7) || (d[7] != '_' && d[7] != '-') || (d[8] != 'v' && d[8] != 'V') ||
	    !isdigit(d[9])) {
		safety_add(findings, "blend_script", SEV_MEDIUM,
			   "the .blend header is not one this scan reads: its blocks were not inspected");
		return;
	}
	struct blend b = { .d = d, .n = n, .big = d[8] == 'V', .wide = d[7] == '-' };
	b.bhead = b.wide ? 24 : 20;
	/* Pass 1: find DNA1 (the struct names), usually at the end. */
	size_t pos = 12;
	long blocks = 0;
	bool truncated = false, have_dna = false;
	while (pos + b.bhead <= n && blocks++ < BLEND_MAX_BLOCKS) {
		uint32_t len = b32(&b, d + pos + 4);
		if (!memcmp(d + pos, "ENDB", 4))
			break;
		if (len > n - pos - b.bhead) {
			truncated = true;
			break;
		}
		if (!memcmp(d + pos, "DNA1", 4) && !have_dna) {
			free(b.types);
			free(b.struct_type);
			b.types = NULL;
			b.struct_type = NULL;
			b.nstructs = b.ntypes = 0;
			have_dna = sdna_parse(&b, pos + b.bhead, len);
			if (!have_dna)
				b.nstructs = 0;
		}
		pos += b.bhead + len;
	}
	if (truncated)
		safety_add(findings, "blend_script", SEV_MEDIUM, "a .blend block runs past the end of the file");
	if (!have_dna)
		safety_add(findings, "blend_script", SEV_LOW, "the .blend has no readable SDNA: block types unknown");
	/* Pass 2: what the blocks are. */
	int texts = 0, py_texts = 0, drivers = 0, controllers = 0;
	char first_text[100] = "";
	pos = 12;
	blocks = 0;
	while (pos + b.bhead <= n && blocks++ < BLEND_MAX_BLOCKS) {
		uint32_t len = b32(&b, d + pos + 4);
		if (!memcmp(d + pos, "ENDB", 4) || len > n - pos - b.bhead)
			break;
		uint32_t sdna = b32(&b, d + pos + 8 + (b.wide ? 8 : 4));
		const char *type = block_type(&b, sdna);
		const unsigned char *data = d + pos + b.bhead;
		if (!memcmp(d + pos, "TX\0\0", 4) || !strcmp(type, "Text")) {
			char name[100];
			text_name(data, len, name, sizeof(name));
			texts++;
			if (ends_with_py(name))
				py_texts++;
			if (!first_text[0])
				snprintf(first_text, sizeof(first_text), "%s", name[0] ? name : "(unnamed)");
		} else if (!strcmp(type, "ChannelDriver")) {
			drivers++;
		} else if (!strcmp(type, "bPythonCont")) {
			controllers++;
		}
		pos += b.bhead + len;
	}
	free(b.types);
	free(b.struct_type);
	const char *marker = texts ? python_marker(d, n) : NULL;
	if (py_texts || marker)
		safety_add(findings, "blend_script", SEV_CRITICAL,
			   "%d Text block(s) with Python (\"%s\"%s%s%s): Blender runs such scripts when "
			   "auto-run is enabled", texts, first_text, marker ? ", contains \"" : "",
			   marker ? marker : "", marker ? "\"" : "");
	else if (texts)
		safety_add(findings, "blend_script", SEV_HIGH, "%d Text block(s) (\"%s\"): they can hold scripts",
			   texts, first_text);
	if (controllers)
		safety_add(findings, "blend_script", SEV_HIGH, "%d Python controller(s) (game logic script links)",
			   controllers);
	if (drivers)
		safety_add(findings, "blend_script", SEV_MEDIUM,
			   "%d driver(s): scripted drivers run Python expressions when auto-run is enabled", drivers);
}

/* -------------------------------------------------------------- polyglot */

static uint16_t le16(const unsigned char *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static bool zip_local_ok(const unsigned char *p, size_t left)
{
	if (left < 30)
		return false;
	uint16_t version = le16(p + 4), method = le16(p + 8), name_len = le16(p + 26);
	static const uint16_t methods[] = { 0, 1, 6, 8, 9, 12, 14, 93, 95, 98, 99 };
	bool m = false;
	for (size_t i = 0; i < ARRAY_LEN(methods); i++)
		m |= methods[i] == method;
	if (version > 63 || !m || name_len == 0 || name_len > 1024 || (size_t)30 + name_len > left)
		return false;
	for (uint16_t i = 0; i < name_len; i++)
		if (p[30 + i] < 0x20 || p[30 + i] == 0x7f)
			return false;
	return true;
}

/* An end-of-central-directory record that ends the file (its comment
 * reaches the last byte), as a ZIP reader finds it: four random bytes of
 * vertex data almost never pass that. */
static bool zip_end_ok(const unsigned char *p, size_t left)
{
	return left >= 22 && (size_t)22 + le16(p + 20) == left && le16(p + 8) <= le16(p + 10);
}

static bool elf_ok(const unsigned char *p, size_t left)
{
	return left >= 20 && (p[4] == 1 || p[4] == 2) && (p[5] == 1 || p[5] == 2) && p[6] == 1;
}

static bool pe_ok(const unsigned char *base, size_t off, size_t n)
{
	if (n - off < 0x40)
		return false;
	uint32_t e = le32(base + off + 0x3c);
	return e >= 0x40 && e <= 0x1000 && off + e + 4 <= n && !memcmp(base + off + e, "PE\0\0", 4);
}

static bool pdf_ok(const unsigned char *p, size_t left)
{
	return left >= 8 && isdigit(p[5]) && p[6] == '.' && isdigit(p[7]);
}

typedef bool (*verify_fn)(const unsigned char *p, size_t left);

/* First offset of sig whose verify passes, or -1. */
static int64_t find_sig(const unsigned char *d, size_t n, const char *sig, size_t slen, verify_fn ok)
{
	const unsigned char *p = d, *end = d + n;
	while (p < end) {
		const unsigned char *hit = memmem(p, (size_t)(end - p), sig, slen);
		if (!hit)
			return -1;
		if (!ok || ok(hit, (size_t)(end - hit)))
			return hit - d;
		p = hit + 1;
	}
	return -1;
}

void safety_check_polyglot(json_t *findings, const unsigned char *d, size_t n)
{
	static const struct { const char *sig; size_t len; verify_fn ok; const char *what; } S[] = {
		{ "PK\3\4", 4, zip_local_ok, "a ZIP archive (local file header)" },
		{ "PK\5\6", 4, zip_end_ok, "a ZIP archive (end of central directory)" },
		{ "%PDF-", 5, pdf_ok, "a PDF document" },
		{ "\177ELF", 4, elf_ok, "an ELF executable" },
	};
	for (size_t i = 0; i < ARRAY_LEN(S); i++) {
		int64_t at = find_sig(d, n, S[i].sig, S[i].len, S[i].ok);
		if (at >= 0)
			safety_add(findings, "polyglot", SEV_CRITICAL, "contains %s at byte %lld", S[i].what,
				   (long long)at);
	}
	for (const unsigned char *p = d; p && p + 2 <= d + n;) {
		const unsigned char *hit = memmem(p, (size_t)(d + n - p), "MZ", 2);
		if (!hit)
			break;
		if (pe_ok(d, (size_t)(hit - d), n)) {
			safety_add(findings, "polyglot", SEV_CRITICAL, "contains a Windows executable (PE) at byte %lld",
				   (long long)(hit - d));
			break;
		}
		p = hit + 1;
	}
	/* Long enough that binary vertex data does not spell them by chance
	 * ("<svg" would, about once per 500 MB). */
	static const char *const markup[] = {
		"<script", "<html>", "<html ", "<!doctype html", "<iframe", "<?php", "<object",
	};
	for (const unsigned char *p = d; p < d + n;) {
		const unsigned char *lt = memchr(p, '<', (size_t)(d + n - p));
		const unsigned char *js = NULL;
		if (!lt)
			break;
		for (size_t i = 0; i < ARRAY_LEN(markup); i++) {
			size_t ml = strlen(markup[i]);
			if (markup[i][0] == '<' && (size_t)(d + n - lt) >= ml && !strncasecmp((const char *)lt, markup[i], ml)) {
				js = lt;
				safety_add(findings, "polyglot", SEV_CRITICAL, "contains HTML or script markup (\"%s\") at byte %lld",
					   markup[i], (long long)(lt - d));
				break;
			}
		}
		if (js)
			return;
		p = lt + 1;
	}
	const unsigned char *js = memmem(d, n, "javascript:", 11);
	if (js)
		safety_add(findings, "polyglot", SEV_HIGH, "contains a javascript: URL at byte %lld", (long long)(js - d));
}

/* -------------------------------------------------------------- geometry */

void safety_check_geometry(json_t *findings, json_t *analysis)
{
	if (!analysis)
		return;
	json_int_t polys = json_integer_value(json_object_get(analysis, "poly_count"));
	if (polys > SAFETY_MAX_TRIANGLES)
		safety_add(findings, "geometry", SEV_HIGH, "%lld triangles: over the 50 million a viewer can open",
			   (long long)polys);
	json_int_t nf = json_integer_value(json_object_get(analysis, "nonfinite_vertices"));
	if (nf > 0)
		safety_add(findings, "geometry", SEV_HIGH,
			   "%lld vertex position(s) are NaN or infinite: viewers and tools may crash on them",
			   (long long)nf);
	if (!json_object_get(analysis, "nonfinite_vertices"))
		safety_add(findings, "geometry", SEV_INFO, "analysed before NaN detection existed: not checked");
}

/* ------------------------------------------------------------- the file */

json_t *safety_scan_file(const char *path, const char *format, json_t *analysis, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "the stored file cannot be read");
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	json_t *f = json_array();
	char what[256];
	switch (clam_scan_fd(fd, what, sizeof(what))) {
	case CLAM_FOUND:
		safety_add(f, "malware", SEV_CRITICAL, "ClamAV: %s", what);
		break;
	case CLAM_CLEAN:
		safety_add(f, "malware", SEV_INFO, "ClamAV found no known malware");
		break;
	case CLAM_SKIPPED:
		safety_add(f, "malware", SEV_INFO, "skipped: %s", what);
		break;
	case CLAM_ERROR:
		safety_add(f, "malware", SEV_LOW, "%s", what);
		break;
	}
	enum file_type t = sniff_file(path);
	if (strcmp(file_type_name(t), format))
		safety_add(f, "format", SEV_CRITICAL, "the bytes are %s, not the %s the upload claims",
			   t == FT_UNKNOWN ? "no known format" : file_type_name(t), format);
	size_t n = (size_t)st.st_size;
	const unsigned char *d = n ? mmap(NULL, n, PROT_READ, MAP_PRIVATE, fd, 0) : NULL;
	close(fd);
	if (n && d == MAP_FAILED) {
		json_decref(f);
		snprintf(err, errlen, "the stored file cannot be mapped");
		return NULL;
	}
	if (n) {
		if (!strcmp(format, "GLB") || !strcmp(format, "GLTF"))
			safety_check_gltf(f, d, n, !strcmp(format, "GLB"));
		if (!strcmp(format, "BLEND"))
			safety_check_blend(f, d, n);
		safety_check_polyglot(f, d, n);
		munmap((void *)d, n);
	}
	safety_check_geometry(f, analysis);
	return f;
}
