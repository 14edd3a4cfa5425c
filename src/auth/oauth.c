/*
 * oauth.c: the provider side of OAuth sign-in (see oauth.h).
 *
 * Every answer from a provider is untrusted input: bodies are capped,
 * parsed strictly, and each field is checked before it leaves this file.
 * An access token goes into a header, so it must be one printable token.
 */
#include <curl/curl.h>
#include <jansson.h>
#include "oauth.h"
#include "identity.h"
#include "../core/config.h"
#include "../core/log.h"
#include "../core/strbuf.h"
#include "../core/util.h"

#define ANSWER_MAX ((size_t)1 << 20)
#define TOKEN_MAX 4096
#define NAME_MAX_CHARS 100
#define AVATAR_MAX 500

enum kind { GOOGLE, GITHUB, DISCORD };

struct oauth_provider {
	enum kind kind;
	const char *name, *label;
	const char *scope;
	const char *authorize_url, *token_url, *api_url; /* defaults */
	/* settings */
	const char *client_id, *client_secret, *authorize_key, *token_key, *api_key;
};

static const struct oauth_provider providers[] = {
	{ GOOGLE, "google", "Google", "openid email profile",
	  "https://accounts.google.com/o/oauth2/v2/auth", "https://oauth2.googleapis.com/token",
	  "https://openidconnect.googleapis.com/v1/userinfo",
	  "GOOGLE_CLIENT_ID", "GOOGLE_CLIENT_SECRET", "GOOGLE_AUTHORIZE_URL", "GOOGLE_TOKEN_URL",
	  "GOOGLE_USERINFO_URL" },
	{ GITHUB, "github", "GitHub", "read:user user:email",
	  "https://github.com/login/oauth/authorize", "https://github.com/login/oauth/access_token",
	  "https://api.github.com",
	  "GITHUB_CLIENT_ID", "GITHUB_CLIENT_SECRET", "GITHUB_AUTHORIZE_URL", "GITHUB_TOKEN_URL",
	  "GITHUB_API_URL" },
	{ DISCORD, "discord", "Discord", "identify email",
	  "https://discord.com/oauth2/authorize", "https://discord.com/api/oauth2/token",
	  "https://discord.com/api",
	  "DISCORD_CLIENT_ID", "DISCORD_CLIENT_SECRET", "DISCORD_AUTHORIZE_URL", "DISCORD_TOKEN_URL",
	  "DISCORD_API_URL" },
};

const oauth_provider_t *oauth_provider(const char *name)
{
	for (size_t i = 0; i < ARRAY_LEN(providers); i++)
		if (!strcmp(providers[i].name, name))
			return &providers[i];
	return NULL;
}

const char *oauth_label(const oauth_provider_t *p)
{
	return p->label;
}

const char *oauth_name(const oauth_provider_t *p)
{
	return p->name;
}

bool oauth_configured(const oauth_provider_t *p)
{
	return config_get(p->client_id) && config_get(p->client_secret);
}

static const char *setting_or(const char *key, const char *def)
{
	const char *v = config_get(key);
	return v ? v : def;
}

/* Appends "name=value" to a query or form, the value percent-encoded. */
static void add_param(strbuf_t *sb, const char *name, const char *value)
{
	char *esc = curl_easy_escape(NULL, value, 0);
	if (!esc)
		die("out of memory (curl_easy_escape)");
	sb_addf(sb, "%s%s=%s", sb->len ? "&" : "", name, esc);
	curl_free(esc);
}

/* Copies a strbuf into the arena and releases it; NULL when it overflowed. */
static char *sb_to_arena(arena_t *a, strbuf_t *sb)
{
	char *out = sb->overflow ? NULL : arena_strndup(a, sb->buf ? sb->buf : "", sb->len);
	sb_release(sb);
	return out;
}

char *oauth_authorize_url(arena_t *a, const oauth_provider_t *p, const char *redirect_uri, const char *state)
{
	if (!oauth_configured(p))
		return NULL;
	strbuf_t q;
	sb_init(&q, 16384);
	add_param(&q, "client_id", config_get(p->client_id));
	add_param(&q, "redirect_uri", redirect_uri);
	add_param(&q, "response_type", "code");
	add_param(&q, "scope", p->scope);
	add_param(&q, "state", state);
	char *query = sb_to_arena(a, &q);
	if (!query)
		return NULL;
	const char *base = setting_or(p->authorize_key, p->authorize_url);
	return arena_printf(a, "%s%c%s", base, strchr(base, '?') ? '&' : '?', query);
}

/* ------------------------------------------------------------ HTTP */

struct answer {
	strbuf_t body;
	long status;
};

static size_t write_cb(char *data, size_t size, size_t n, void *arg)
{
	struct answer *ans = arg;
	/* Returning less than given aborts the transfer (CURLE_WRITE_ERROR). */
	return sb_add(&ans->body, data, size * n) ? size * n : 0;
}

/* One request: a GET, or a form POST when form is set.  False on a transport
 * failure (logged); the status and the capped body are in ans otherwise. */
static bool http_call(const oauth_provider_t *p, const char *url, const char *form,
		      struct curl_slist *headers, struct answer *ans)
{
	sb_init(&ans->body, ANSWER_MAX);
	ans->status = 0;
	CURL *c = curl_easy_init();
	if (!c) {
		log_error("oauth %s: curl_easy_init failed", p->name);
		return false;
	}
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 5L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)ANSWER_MAX);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "hwc3d");
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, ans);
	if (form)
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, form);
	CURLcode rc = curl_easy_perform(c);
	if (rc == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &ans->status);
	else
		log_warn("oauth %s: %s %s failed: %s", p->name, form ? "POST" : "GET", url, curl_easy_strerror(rc));
	curl_easy_cleanup(c);
	return rc == CURLE_OK;
}

/* The body as a JSON value (a new reference), or NULL when it is not JSON. */
static json_t *answer_json(const oauth_provider_t *p, const char *what, struct answer *ans)
{
	json_error_t jerr;
	json_t *j = json_loadb(ans->body.buf ? ans->body.buf : "", ans->body.len, JSON_REJECT_DUPLICATES, &jerr);
	if (!j)
		log_warn("oauth %s: %s answered %ld with a body that is not JSON", p->name, what, ans->status);
	return j;
}

/* GET with the access token; the JSON answer, or NULL (logged) on any
 * failure, a status other than 2xx, or a body that is not JSON. */
static json_t *api_get(const oauth_provider_t *p, arena_t *a, const char *url, const char *token)
{
	struct curl_slist *h = curl_slist_append(NULL, arena_printf(a, "Authorization: Bearer %s", token));
	h = curl_slist_append(h, p->kind == GITHUB ? "Accept: application/vnd.github+json" : "Accept: application/json");
	if (p->kind == GITHUB)
		h = curl_slist_append(h, "X-GitHub-Api-Version: 2022-11-28");
	if (!h)
		die("out of memory (curl_slist_append)");
	struct answer ans;
	bool ok = http_call(p, url, NULL, h, &ans);
	curl_slist_free_all(h);
	json_t *j = NULL;
	if (ok && (ans.status < 200 || ans.status > 299))
		log_warn("oauth %s: %s answered %ld", p->name, url, ans.status);
	else if (ok)
		j = answer_json(p, url, &ans);
	sb_release(&ans.body);
	return j;
}

static bool token_sane(const char *t)
{
	size_t n = strlen(t);
	if (n == 0 || n > TOKEN_MAX)
		return false;
	for (; *t; t++)
		if (*t <= 0x20 || *t >= 0x7f)
			return false;
	return true;
}

/* Trades the code for an access token (an arena string in *token). */
static enum oauth_status exchange_code(arena_t *a, const oauth_provider_t *p, const oauth_grant_t *g,
				       const char **token)
{
	strbuf_t form;
	sb_init(&form, 16384);
	add_param(&form, "grant_type", "authorization_code");
	add_param(&form, "code", g->code);
	add_param(&form, "redirect_uri", g->redirect_uri);
	add_param(&form, "client_id", config_get(p->client_id));
	add_param(&form, "client_secret", config_get(p->client_secret));
	if (g->code_verifier)
		add_param(&form, "code_verifier", g->code_verifier);
	const char *body = sb_to_arena(a, &form);
	if (!body)
		return OAUTH_REJECTED; /* cannot happen with the validated sizes */

	const char *url = setting_or(p->token_key, p->token_url);
	struct curl_slist *h = curl_slist_append(NULL, "Accept: application/json");
	if (!h)
		die("out of memory (curl_slist_append)");
	struct answer ans;
	bool ok = http_call(p, url, body, h, &ans);
	curl_slist_free_all(h);
	enum oauth_status st = OAUTH_UNREACHABLE;
	json_t *j = NULL;
	if (!ok) {
		st = OAUTH_UNREACHABLE;
	} else if (ans.status >= 400 && ans.status <= 499) {
		log_info("oauth %s: the token endpoint refused the code (%ld)", p->name, ans.status);
		st = OAUTH_REJECTED;
	} else if (ans.status < 200 || ans.status > 299) {
		log_warn("oauth %s: the token endpoint answered %ld", p->name, ans.status);
	} else if ((j = answer_json(p, "the token endpoint", &ans)) != NULL) {
		/* GitHub answers 200 {"error": "bad_verification_code"}. */
		json_t *tok = json_object_get(j, "access_token");
		if (!json_is_object(j)) {
			log_warn("oauth %s: the token endpoint answered a JSON non-object", p->name);
		} else if (json_object_get(j, "error") || !json_is_string(tok)) {
			log_info("oauth %s: the token endpoint gave no access token", p->name);
			st = OAUTH_REJECTED;
		} else if (!token_sane(json_string_value(tok))) {
			log_warn("oauth %s: the token endpoint gave a malformed access token", p->name);
		} else {
			*token = arena_strdup(a, json_string_value(tok));
			st = OAUTH_OK;
		}
	}
	json_decref(j);
	sb_release(&ans.body);
	return st;
}

/* ------------------------------------------------------------ profiles */

/* A string member, or NULL (absent, null, not a string, empty, or with
 * control characters). */
static const char *jstr(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	if (!s || !*s || strlen(s) != json_string_length(json_object_get(o, key)))
		return NULL;
	for (const unsigned char *u = (const unsigned char *)s; *u; u++)
		if (*u < 0x20 || *u == 0x7f)
			return NULL;
	return s;
}

static char *dup_or_null(arena_t *a, const char *s)
{
	return s ? arena_strdup(a, s) : NULL;
}

/* An id given as a string or a positive integer; NULL otherwise. */
static const char *jid(arena_t *a, json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	if (json_is_integer(v) && json_integer_value(v) > 0)
		return arena_printf(a, "%lld", (long long)json_integer_value(v));
	const char *s = jstr(o, key);
	return s && strlen(s) <= 255 ? arena_strdup(a, s) : NULL;
}

/* The display name cut to NAME_MAX_CHARS characters (on a character
 * boundary). */
static const char *clip_name(arena_t *a, const char *s)
{
	if (!s)
		return NULL;
	size_t chars = 0, i = 0;
	for (; s[i]; i++) {
		if (((unsigned char)s[i] & 0xc0) != 0x80 && ++chars > NAME_MAX_CHARS)
			break;
	}
	return arena_strndup(a, s, i);
}

static const char *https_url(arena_t *a, const char *s)
{
	if (!s || !str_has_prefix(s, "https://") || strlen(s) > AVATAR_MAX || strpbrk(s, " \"'<>\\"))
		return NULL;
	return arena_strdup(a, s);
}

/* The verified address, normalised, or NULL when it is not a valid one. */
static const char *verified_email(arena_t *a, const char *raw, bool verified)
{
	if (!raw || !verified)
		return NULL;
	char *norm = email_normalize(raw);
	const char *out = email_valid(norm) ? arena_strdup(a, norm) : NULL;
	free(norm);
	return out;
}

static bool google_profile(arena_t *a, const oauth_provider_t *p, const char *token, oauth_profile_t *out)
{
	json_t *u = api_get(p, a, setting_or(p->api_key, p->api_url), token);
	if (!u)
		return false;
	json_t *ev = json_object_get(u, "email_verified");
	bool verified = json_is_true(ev) || (json_is_string(ev) && !strcmp(json_string_value(ev), "true"));
	out->id = jid(a, u, "sub");
	out->email = verified_email(a, jstr(u, "email"), verified);
	out->name = clip_name(a, jstr(u, "name"));
	out->avatar_url = https_url(a, jstr(u, "picture"));
	json_decref(u);
	return true;
}

/* GitHub's /user/emails: the primary verified address, else any verified one. */
static bool github_email(arena_t *a, const oauth_provider_t *p, const char *api, const char *token,
			 oauth_profile_t *out)
{
	json_t *list = api_get(p, a, arena_printf(a, "%s/user/emails", api), token);
	if (!json_is_array(list)) {
		if (list)
			log_warn("oauth github: /user/emails is not an array");
		json_decref(list);
		return false;
	}
	const char *any = NULL, *primary = NULL;
	size_t i;
	json_t *e;
	json_array_foreach(list, i, e) {
		const char *addr = verified_email(a, jstr(e, "email"), json_is_true(json_object_get(e, "verified")));
		if (!addr)
			continue;
		if (!any)
			any = addr;
		if (!primary && json_is_true(json_object_get(e, "primary")))
			primary = addr;
	}
	out->email = primary ? primary : any;
	json_decref(list);
	return true;
}

static bool github_profile(arena_t *a, const oauth_provider_t *p, const char *token, oauth_profile_t *out)
{
	const char *api = setting_or(p->api_key, p->api_url);
	json_t *u = api_get(p, a, arena_printf(a, "%s/user", api), token);
	if (!u)
		return false;
	out->id = jid(a, u, "id");
	out->login = dup_or_null(a, jstr(u, "login"));
	out->name = clip_name(a, jstr(u, "name"));
	out->avatar_url = https_url(a, jstr(u, "avatar_url"));
	json_decref(u);
	return github_email(a, p, api, token, out);
}

/* Discord's avatar hashes are [a-z0-9_] ("a_" marks an animated one). */
static bool safe_segment(const char *s)
{
	if (!s || strlen(s) > 64)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '_'))
			return false;
	return true;
}

static bool discord_profile(arena_t *a, const oauth_provider_t *p, const char *token, oauth_profile_t *out)
{
	const char *api = setting_or(p->api_key, p->api_url);
	json_t *u = api_get(p, a, arena_printf(a, "%s/users/@me", api), token);
	if (!u)
		return false;
	out->id = jid(a, u, "id");
	out->login = dup_or_null(a, jstr(u, "username"));
	const char *global = jstr(u, "global_name");
	out->name = clip_name(a, global ? global : out->login);
	out->email = verified_email(a, jstr(u, "email"), json_is_true(json_object_get(u, "verified")));
	const char *avatar = jstr(u, "avatar");
	if (out->id && safe_segment(out->id) && safe_segment(avatar))
		out->avatar_url = arena_printf(a, "https://cdn.discordapp.com/avatars/%s/%s.png", out->id, avatar);
	json_decref(u);
	return true;
}

enum oauth_status oauth_fetch_profile(arena_t *a, const oauth_provider_t *p, const oauth_grant_t *g,
				      oauth_profile_t *out)
{
	memset(out, 0, sizeof(*out));
	const char *token = NULL;
	enum oauth_status st = exchange_code(a, p, g, &token);
	if (st != OAUTH_OK)
		return st;
	bool ok = p->kind == GOOGLE ? google_profile(a, p, token, out)
		: p->kind == GITHUB ? github_profile(a, p, token, out)
		: discord_profile(a, p, token, out);
	if (ok && !out->id) {
		log_warn("oauth %s: the profile has no usable user id", p->name);
		ok = false;
	}
	return ok ? OAUTH_OK : OAUTH_UNREACHABLE;
}
