/*
 * fuzz_json: JSON bodies, from the bytes to the validators.
 *
 * Input: a request body.  It goes the way of server.c's parse_json_body:
 * the depth pre-check (json_depth_exceeds with cfg.json_max_depth), then
 * json_loadb with the server's flags; an object is then read field by
 * field with every body validator (v_str, v_int, v_bool, v_money, v_slug,
 * v_enum, v_username, and email_valid/email_normalize on strings), under the
 * field names the handlers use and under each key the body has, and the
 * 422 is rendered.  Checked: what the validators return honours their
 * contract (ranges, lengths, no control characters), and the depth
 * pre-check is never weaker than the real nesting of a parsed document.
 * The same bytes also go through the JSON text writer (check_writer).
 */
#include <stdlib.h>
#include "fuzz.h"
#include "auth/identity.h"
#include "core/config.h"
#include "core/jsonw.h"
#include "core/strbuf.h"
#include "core/util.h"
#include "http/reply.h"
#include "http/validate.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	UNUSED(argc);
	UNUSED(argv);
	fz_setup(false);
	return 0;
}

#define ASSERT(c) do { if (!(c)) { fprintf(stderr, "fuzz_json: %s\n", #c); abort(); } } while (0)

static const char *const fields[] = {
	"email", "password", "username", "full_name", "user_type", "title", "description", "price",
	"tags", "category_id", "license", "is_free", "name", "slug", "sort_order", "is_active", "code",
	"rating", "content", "reason", "is_featured", "upload_id", "model_id", "bio", "country",
	"new_password", "token", "author_name", "link_url", "body",
};

static const char *const kinds[] = { "buyer", "creator", NULL };

static int depth(const json_t *j)
{
	int d = 0;
	if (json_is_object(j)) {
		const char *k;
		json_t *v;
		json_object_foreach((json_t *)j, k, v) {
			int x = depth(v);
			d = x > d ? x : d;
		}
		return d + 1;
	}
	if (json_is_array(j)) {
		size_t i;
		json_t *v;
		json_array_foreach(j, i, v) {
			int x = depth(v);
			d = x > d ? x : d;
		}
		return d + 1;
	}
	return 0;
}

static void check_text(const char *s, size_t lo, size_t hi, bool multiline)
{
	if (!s)
		return;
	size_t n = utf8_chars(s);
	ASSERT(n >= lo && (!hi || n <= hi));
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		ASSERT((*p >= 0x20 && *p != 0x7f) || (multiline && (*p == '\n' || *p == '\t' || *p == '\r')));
}

static void read_field(valid_t *v, const char *f)
{
	v_present(v, f);
	v_is_null(v, f);
	check_text(v_str(v, f, 0, 0, 0), 0, 0, false);
	check_text(v_str(v, f, V_REQUIRED, 1, 50), 1, 50, false);
	check_text(v_str(v, f, V_NULLABLE | V_MULTILINE | V_NO_TRIM, 3, 5000), 3, 5000, true);
	int64_t i = v_int(v, f, V_REQUIRED, -1000, 1000, 7);
	ASSERT(i >= -1000 && i <= 1000);
	v_bool(v, f, V_NULLABLE, false);
	int64_t c = v_money(v, f, 0, 99999999, 0);
	ASSERT(c >= 0 && c <= 99999999);
	const char *slug = v_slug(v, f, 0, 60);
	if (slug)
		ASSERT(*slug && slug[0] != '-' && !strstr(slug, "--"));
	const char *k = v_enum(v, f, 0, kinds, "buyer");
	ASSERT(k && (!strcmp(k, "buyer") || !strcmp(k, "creator")));
	const char *u = v_username(v, f, 0);
	if (u)
		ASSERT(username_valid(u));
	json_t *j = v->obj ? json_object_get(v->obj, f) : NULL;
	if (json_is_string(j)) {
		const char *s = json_string_value(j);
		email_valid(s);
		free(email_normalize(s));
	}
}

/* core/jsonw.c: a stored tags or preview_images text, whatever it holds,
 * is written as a JSON array of strings that jansson reads back; and any
 * string, UTF-8 or not, is written as a string literal. */
static void check_writer(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	memcpy(text, data, size);
	text[size] = '\0';
	strbuf_t sb;
	sb_init(&sb, 0);
	jw_str_array(&sb, text);
	json_error_t e;
	json_t *arr = json_loadb(sb.buf, sb.len, 0, &e);
	ASSERT(json_is_array(arr));
	for (size_t i = 0; i < json_array_size(arr); i++)
		ASSERT(json_is_string(json_array_get(arr, i)));
	json_decref(arr);
	sb_reset(&sb);
	jw_str(&sb, text);
	json_t *str = json_loadb(sb.buf, sb.len, JSON_DECODE_ANY, &e);
	ASSERT(json_is_string(str));
	json_decref(str);
	sb_release(&sb);
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 262144)
		return 0;
	check_writer(data, size);
	const char *body = (const char *)data;
	if (json_depth_exceeds(body, size, cfg.json_max_depth))
		return 0; /* 400, nested too deep */
	json_error_t jerr;
	json_t *j = json_loadb(body, size, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
	if (!j)
		return 0; /* 400, malformed */
	/* The pre-check must bound what jansson accepted. */
	ASSERT(depth(j) <= cfg.json_max_depth);
	req_t *req = fz_req_new(M_POST, "/", 1, FZ_ANON, NULL);
	if (!json_is_object(j)) {
		reply_invalid1(req, "body", "Must be a JSON object");
	} else {
		valid_t v;
		v_init(&v, req, j);
		for (size_t i = 0; i < ARRAY_LEN(fields); i++)
			read_field(&v, fields[i]);
		const char *key;
		json_t *val;
		json_object_foreach(j, key, val)
			read_field(&v, key);
		if (v_ok(&v))
			reply_ok(req, json_incref(j));
		else
			v_reply(&v);
		ASSERT(req->resp);
	}
	json_decref(j);
	fz_req_free(req);
	return 0;
}
