/*
 * test_safety.c: the safety scan's byte checks (media/safety.h) on files
 * built here: .blend Text blocks, polyglots, glTF uris and bounds, and the
 * verdict.  (The API tests cover what an upload can carry; files the
 * upload already refuses, such as glTF with external uris, only reach
 * these checks here.)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include "t.h"
#include "media/safety.h"
#include "core/strbuf.h"

static const char *worst(json_t *f, const char *check)
{
	static const char *const order[] = { "info", "low", "medium", "high", "critical" };
	int w = -1;
	size_t i;
	json_t *e;
	json_array_foreach(f, i, e) {
		if (strcmp(json_string_value(json_object_get(e, "check")), check))
			continue;
		for (int k = 0; k < 5; k++)
			if (!strcmp(json_string_value(json_object_get(e, "severity")), order[k]) && k > w)
				w = k;
	}
	return w < 0 ? "none" : order[w];
}

static void le32(strbuf_t *b, uint32_t v)
{
	unsigned char x[4] = { (unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16), (unsigned char)(v >> 24) };
	sb_add(b, x, 4);
}

static void le16(strbuf_t *b, uint16_t v)
{
	unsigned char x[2] = { (unsigned char)v, (unsigned char)(v >> 8) };
	sb_add(b, x, 2);
}

static void pad4(strbuf_t *b)
{
	while (b->len % 4)
		sb_addc(b, 0);
}

static void block(strbuf_t *b, const char code[4], uint32_t sdna, const void *data, uint32_t len)
{
	sb_add(b, code, 4);
	le32(b, len);
	sb_add(b, "\0\0\0\0\0\0\0\0", 8);
	le32(b, sdna);
	le32(b, 1);
	sb_add(b, data, len);
}

/* A 64-bit little-endian .blend: a Text block named name (content in a
 * DATA block), and an SDNA whose struct 0 is Text and 1 ChannelDriver. */
static void blend(strbuf_t *b, const char *name, const char *content, bool driver)
{
	sb_init(b, 0);
	sb_adds(b, "BLENDER-v300");
	char text[96] = { 0 };
	snprintf(text + 40, sizeof(text) - 40, "TX%s", name);
	block(b, "TX\0\0", 0, text, sizeof(text));
	if (content)
		block(b, "DATA", 2, content, (uint32_t)strlen(content));
	if (driver)
		block(b, "DATA", 1, "\0\0\0\0\0\0\0\0", 8);
	strbuf_t d;
	sb_init(&d, 0);
	sb_adds(&d, "SDNANAME");
	le32(&d, 1);
	sb_add(&d, "id\0", 3);
	pad4(&d);
	sb_adds(&d, "TYPE");
	le32(&d, 3);
	sb_add(&d, "Text\0ChannelDriver\0char\0", 24);
	pad4(&d);
	sb_adds(&d, "TLEN");
	le16(&d, 8);
	le16(&d, 8);
	le16(&d, 1);
	pad4(&d);
	sb_adds(&d, "STRC");
	le32(&d, 2);
	le16(&d, 0);
	le16(&d, 0);
	le16(&d, 1);
	le16(&d, 0);
	block(b, "DNA1", 0, d.buf, (uint32_t)d.len);
	sb_release(&d);
	block(b, "ENDB", 0, "", 0);
}

TEST(safety_blend_python_text_is_critical)
{
	strbuf_t b;
	json_t *f = json_array();
	blend(&b, "autorun.py", "import os\nos.system('x')\n", false);
	safety_check_blend(f, (const unsigned char *)b.buf, b.len);
	CHECK_STR(worst(f, "blend_script"), "critical");
	char *dump = json_dumps(f, 0);
	CHECK(strstr(dump, "autorun.py") && !strstr(dump, "SDNA"));
	if (!strstr(dump, "autorun.py") || strstr(dump, "SDNA"))
		fprintf(stderr, "    %s\n", dump);
	free(dump);
	CHECK_STR(safety_verdict(f), "unsafe");
	sb_release(&b);
	json_decref(f);
	/* a plain Text block: high; a driver: medium */
	f = json_array();
	blend(&b, "notes", NULL, true);
	safety_check_blend(f, (const unsigned char *)b.buf, b.len);
	CHECK_STR(worst(f, "blend_script"), "high");
	CHECK_STR(safety_verdict(f), "warning");
	json_t *last = json_array_get(f, json_array_size(f) - 1);
	CHECK(strstr(json_string_value(json_object_get(last, "message")), "driver"));
	/* truncated anywhere: never a read past the end */
	for (size_t n = 0; n < b.len; n += 7) {
		json_t *g = json_array();
		unsigned char *cut = malloc(n ? n : 1);
		memcpy(cut, b.buf, n);
		safety_check_blend(g, cut, n);
		free(cut);
		json_decref(g);
	}
	sb_release(&b);
	json_decref(f);
}

TEST(safety_polyglots)
{
	static const struct { const char *data; size_t len; const char *expect; } cases[] = {
		{ "v 0 0 0\n# <HTML><body>hi</body>\n", 30, "critical" },
		{ "abc%PDF-1.7\n", 12, "critical" },
		{ "xx\177ELF\2\1\1\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 24, "critical" },
		{ "xxPK\3\4\24\0\0\0\10\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\5\0\0\0a.exe", 37, "critical" },
		{ "xxPK\3\4\377\377\0\0\10\0", 12, "none" }, /* not a plausible header */
		{ "xxPK\5\6\0\0\0\0\1\0\1\0\0\0\0\0\0\0\0\0\0\0", 24, "critical" }, /* ends the file */
		{ "xxPK\5\6\0\0\0\0\1\0\1\0\0\0\0\0\0\0\0\0\0\0zz", 26, "none" }, /* does not */
		{ "bin<svg\0<body\1<embed", 20, "none" }, /* short tags binary data can spell */
		{ "v 1 2 3\nf 1 2 3\n", 16, "none" },
		{ "3 < 4 and <b>", 13, "none" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *f = json_array();
		safety_check_polyglot(f, (const unsigned char *)cases[i].data, cases[i].len);
		if (strcmp(worst(f, "polyglot"), cases[i].expect))
			fprintf(stderr, "    case %zu: %s\n", i, worst(f, "polyglot"));
		CHECK_STR(worst(f, "polyglot"), cases[i].expect);
		json_decref(f);
	}
	/* a PE: MZ whose e_lfanew points at "PE\0\0" */
	unsigned char pe[128] = { 'M', 'Z' };
	pe[0x3c] = 64;
	memcpy(pe + 64, "PE\0\0", 4);
	json_t *f = json_array();
	safety_check_polyglot(f, pe, sizeof(pe));
	CHECK_STR(worst(f, "polyglot"), "critical");
	json_decref(f);
}

static const char *gltf_worst(const char *doc, const char *check)
{
	static char out[16];
	json_t *f = json_array();
	safety_check_gltf(f, (const unsigned char *)doc, strlen(doc), false);
	snprintf(out, sizeof(out), "%s", worst(f, check));
	json_decref(f);
	return out;
}

TEST(safety_gltf_uris_and_bounds)
{
	CHECK_STR(gltf_worst("{\"asset\":{\"version\":\"2.0\"},\"images\":[{\"uri\":\"http://x.invalid/a.png\"}]}", "gltf_uri"),
		  "critical");
	CHECK_STR(gltf_worst("{\"asset\":{\"version\":\"2.0\"},\"images\":[{\"uri\":\"file:///etc/passwd\"}]}", "gltf_uri"),
		  "critical");
	CHECK_STR(gltf_worst("{\"asset\":{\"version\":\"2.0\"},\"buffers\":[{\"uri\":\"../../etc/passwd\",\"byteLength\":4}]}",
			     "gltf_uri"), "critical");
	CHECK_STR(gltf_worst("{\"asset\":{\"version\":\"2.0\"},\"images\":[{\"uri\":\"tex/wood.png\"}]}", "gltf_uri"), "low");
	/* 12 bytes declared, 3 in the data: URI */
	CHECK_STR(gltf_worst("{\"buffers\":[{\"uri\":\"data:application/octet-stream;base64,AAAA\",\"byteLength\":12}]}",
			     "gltf_bounds"), "high");
	/* a view past its buffer, an accessor past its view */
	CHECK_STR(gltf_worst("{\"buffers\":[{\"uri\":\"data:application/octet-stream;base64,AAAAAAAAAAAAAAAA\",\"byteLength\":12}],"
			     "\"bufferViews\":[{\"buffer\":0,\"byteOffset\":8,\"byteLength\":8}]}", "gltf_bounds"), "high");
	CHECK_STR(gltf_worst("{\"buffers\":[{\"uri\":\"data:application/octet-stream;base64,AAAAAAAAAAAAAAAA\",\"byteLength\":12}],"
			     "\"bufferViews\":[{\"buffer\":0,\"byteLength\":12}],"
			     "\"accessors\":[{\"bufferView\":0,\"componentType\":5126,\"count\":333333333,\"type\":\"VEC3\"}]}",
			     "gltf_bounds"), "high");
	CHECK_STR(gltf_worst("{\"buffers\":[{\"uri\":\"data:application/octet-stream;base64,AAAAAAAAAAAAAAAA\",\"byteLength\":12}],"
			     "\"bufferViews\":[{\"buffer\":0,\"byteLength\":12}],"
			     "\"accessors\":[{\"bufferView\":0,\"componentType\":5126,\"count\":1,\"type\":\"VEC3\"}]}",
			     "gltf_bounds"), "none");
}

TEST(safety_geometry_and_verdict)
{
	json_t *f = json_array();
	json_t *a = json_pack("{s:I, s:I}", "poly_count", (json_int_t)60000000, "nonfinite_vertices", (json_int_t)3);
	safety_check_geometry(f, a);
	CHECK(json_array_size(f) == 2);
	CHECK_STR(worst(f, "geometry"), "high");
	CHECK_STR(safety_verdict(f), "warning");
	json_decref(a);
	json_decref(f);
	f = json_array();
	safety_add(f, "malware", SEV_INFO, "skipped");
	CHECK_STR(safety_verdict(f), "safe");
	json_decref(f);
}
