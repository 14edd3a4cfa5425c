/*
 * pay_http.c: the plumbing the provider clients share (pay_internal.h).
 *
 * An answer from a provider is untrusted input, like an OAuth provider's
 * (auth/oauth.c): the body is capped, parsed strictly, and what leaves the
 * clients is checked field by field.  Nothing here logs a body, a token or
 * a secret: a log line names the provider, the URL (ids only) and what
 * went wrong.
 */
#include <curl/curl.h>
#include <inttypes.h>
#include "pay_internal.h"
#include "../core/config.h"
#include "../core/log.h"
#include "../core/strbuf.h"
#include "../core/util.h"

/* ------------------------------------------------------------ pure helpers */

bool pay_amount_str(int64_t cents, char out[32])
{
	if (cents < 0) {
		out[0] = '\0';
		return false;
	}
	int n = snprintf(out, 32, "%" PRId64 ".%02d", cents / 100, (int)(cents % 100));
	return n > 0 && n < 32;
}

bool pay_currency_ok(const char *currency)
{
	/* ISO 4217 minor units other than 2, and the currencies Stripe or
	 * PayPal treat as whole units although ISO gives them cents (HUF,
	 * TWD at PayPal; MGA at Stripe). */
	static const char *const not_cents[] = {
		"BHD", "BIF", "CLF", "CLP", "DJF", "GNF", "HUF", "IQD", "ISK", "JOD", "JPY", "KMF", "KRW",
		"KWD", "LYD", "MGA", "OMR", "PYG", "RWF", "TND", "TWD", "UGX", "UYI", "UYW", "VND", "VUV",
		"XAF", "XOF", "XPF",
	};
	if (!currency || strlen(currency) != 3)
		return false;
	for (int i = 0; i < 3; i++)
		if (currency[i] < 'A' || currency[i] > 'Z')
			return false;
	for (size_t i = 0; i < ARRAY_LEN(not_cents); i++)
		if (!strcmp(currency, not_cents[i]))
			return false;
	return true;
}

static bool chars_ok(const char *s, size_t max, const char *extra)
{
	if (!s)
		return false;
	size_t n = 0;
	for (; s[n]; n++) {
		char ch = s[n];
		if (n >= max)
			return false;
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
		      strchr(extra, ch)))
			return false;
	}
	return n > 0;
}

bool pay_id_ok(const char *s, size_t max)
{
	return chars_ok(s, max, "_-");
}

bool pay_key_ok(const char *key)
{
	return chars_ok(key, PAY_KEY_MAX, "_.:-");
}

bool pay_token_ok(const char *s)
{
	if (!s || !*s)
		return false;
	size_t n = 0;
	for (; s[n]; n++)
		if (n >= PAY_TOKEN_MAX || s[n] <= ' ' || s[n] > '~')
			return false;
	return true;
}

void pay_message_set(char out[PAY_MESSAGE_MAX], const char *s, const char *fallback)
{
	if (!s || !*s)
		s = fallback ? fallback : "";
	size_t n = strlen(s);
	if (n > PAY_MESSAGE_MAX - 1) {
		n = PAY_MESSAGE_MAX - 1;
		/* back to the first byte of the character that did not fit */
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		out[i] = ch < 0x20 || ch == 0x7f ? ' ' : (char)ch;
	}
	out[n] = '\0';
}

/* ------------------------------------------------------------ settings, forms */

const char *pay_setting(const char *name, const char *def)
{
	const char *v = config_get(name);
	return v ? v : def;
}

char *pay_url(const char *who, const char *base, const char *path)
{
	if (!(str_has_prefix(base, "https://") || str_has_prefix(base, "http://")) || strlen(base) > 512 ||
	    strpbrk(base, " \t\r\n?#")) {
		log_error("%s: the API base \"%.80s\" is not an http(s) URL without query", who, base);
		return NULL;
	}
	size_t n = strlen(base);
	while (n > 0 && base[n - 1] == '/')
		n--;
	strbuf_t sb;
	sb_init(&sb, 2048);
	sb_add(&sb, base, n);
	sb_adds(&sb, path);
	if (sb.overflow) {
		sb_release(&sb);
		return NULL;
	}
	return sb_detach(&sb, NULL);
}

void pay_form_add(strbuf_t *form, const char *name, const char *value)
{
	char *esc = curl_easy_escape(NULL, value, 0);
	if (!esc)
		die("out of memory (curl_easy_escape)");
	sb_addf(form, "%s%s=%s", form->len ? "&" : "", name, esc);
	curl_free(esc);
}

void pay_result(pay_charge_t *c, pay_status_t st, const char *ref, const char *message)
{
	c->status = st;
	c->ref[0] = '\0';
	if (ref && strlen(ref) < sizeof(c->ref))
		memcpy(c->ref, ref, strlen(ref) + 1);
	pay_message_set(c->message, message, "");
}

const char *pay_jstr(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	const char *s = json_string_value(v);
	if (!s || !*s || strlen(s) != json_string_length(v))
		return NULL;
	return s;
}

/* ------------------------------------------------------------ HTTP */

static size_t write_cb(char *data, size_t size, size_t n, void *arg)
{
	/* Returning less than given aborts the transfer (CURLE_WRITE_ERROR). */
	return sb_add(arg, data, size * n) ? size * n : 0;
}

static struct curl_slist *add_header(struct curl_slist *h, const char *name, const char *value)
{
	strbuf_t line;
	sb_init(&line, 8192);
	sb_addf(&line, "%s: %s", name, value);
	struct curl_slist *out = line.overflow ? h : curl_slist_append(h, line.buf);
	sb_release(&line);
	if (!out)
		die("out of memory (curl_slist_append)");
	return out;
}

bool pay_http(const pay_req_t *r, pay_ans_t *a)
{
	a->status = 0;
	a->json = NULL;
	const char *method = r->body ? "POST" : "GET";
	CURL *c = curl_easy_init();
	if (!c) {
		log_error("%s: curl_easy_init failed", r->who);
		return false;
	}
	struct curl_slist *h = add_header(NULL, "Accept", "application/json");
	h = curl_slist_append(h, "Expect:"); /* no 100-continue round trip */
	if (!h)
		die("out of memory (curl_slist_append)");
	if (r->body)
		h = add_header(h, "Content-Type", r->content_type);
	if (r->bearer) {
		strbuf_t auth;
		sb_init(&auth, 8192);
		sb_adds(&auth, "Bearer ");
		sb_adds(&auth, r->bearer);
		h = add_header(h, "Authorization", auth.buf);
		sb_release(&auth);
	}
	if (r->idem_name)
		h = add_header(h, r->idem_name, r->idem_value);
	if (r->extra) {
		h = curl_slist_append(h, r->extra);
		if (!h)
			die("out of memory (curl_slist_append)");
	}

	strbuf_t body;
	sb_init(&body, PAY_ANSWER_MAX);
	curl_easy_setopt(c, CURLOPT_URL, r->url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, PAY_CONNECT_TIMEOUT_S);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, PAY_TIMEOUT_S);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)PAY_ANSWER_MAX);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "hwc3d");
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
	if (r->basic_user) {
		curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl_easy_setopt(c, CURLOPT_USERNAME, r->basic_user);
		curl_easy_setopt(c, CURLOPT_PASSWORD, r->basic_pass ? r->basic_pass : "");
	}
	if (r->body) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, r->body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(r->body));
	}
	CURLcode rc = curl_easy_perform(c);
	if (rc == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &a->status);
	else
		log_warn("%s: %s %s failed: %s", r->who, method, r->url,
			 body.overflow ? "the answer is too large" : curl_easy_strerror(rc));
	curl_easy_cleanup(c);
	curl_slist_free_all(h);

	if (rc == CURLE_OK && body.len) {
		json_error_t jerr;
		json_t *j = json_loadb(body.buf, body.len, JSON_REJECT_DUPLICATES, &jerr);
		if (json_is_object(j))
			a->json = j;
		else
			json_decref(j);
	}
	sb_release(&body);
	return rc == CURLE_OK;
}

void pay_ans_release(pay_ans_t *a)
{
	json_decref(a->json);
	a->json = NULL;
}
