/*
 * seo.c: tags for shared links, robots.txt and the sitemaps (see seo.h).
 *
 * Only public objects get tags or sitemap entries: a model that is
 * approved, published and not deleted (MODEL_PUBLIC, the API's own filter),
 * a user who is neither banned nor deleted (the profile API's).  A model or
 * user that is missing or not public answers the generic shell with 404
 * alike, so a link does not tell a pending model from none.  /view/{id} is
 * the sharing page of /model/{id}: its canonical URL is the model page's.
 *
 * Sitemaps: /sitemap.xml is an index of /sitemap/models-N.xml and
 * /sitemap/users-N.xml, where page N holds the public rows whose id is in
 * ((N-1)*SITEMAP_PAGE, N*SITEMAP_PAGE]: a primary-key range scan, never an
 * OFFSET, so a page costs the same at 10 million models, and a page never
 * passes the protocol's 50,000 URLs (it may hold fewer, or none, where ids
 * are private or gone).  The index needs only MAX(id) of each table.
 */
#include <time.h>
#include "seo.h"
#include "assets.h"
#include "pool.h"
#include "reply.h"
#include "static.h"
#include "../api/models_common.h"
#include "../auth/account.h"
#include "../core/config.h"
#include "../core/log.h"
#include "../core/num.h"
#include "../core/util.h"

#define DESCRIPTION_MAX 200 /* bytes of a meta description */
#define SITEMAP_CACHE "public, max-age=3600"
#define TEXT_CSP "default-src 'none'; frame-ancestors 'none'"

void sb_add_html(strbuf_t *sb, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&': sb_adds(sb, "&amp;"); break;
		case '<': sb_adds(sb, "&lt;"); break;
		case '>': sb_adds(sb, "&gt;"); break;
		case '"': sb_adds(sb, "&quot;"); break;
		case '\'': sb_adds(sb, "&#39;"); break;
		default:
			sb_addc(sb, (unsigned char)*s < 0x20 || *s == 0x7f ? ' ' : *s);
		}
	}
}

/* s with runs of white space as one space, cut to at most max bytes on a
 * UTF-8 boundary (with an ellipsis when cut). */
static char *summary(req_t *req, const char *s, size_t max)
{
	char *out = arena_alloc(req->arena, max + 4);
	size_t n = 0;
	bool space = false, cut = false;
	for (; *s == ' ' || *s == '\t' || *s == '\n' || *s == '\r'; s++)
		;
	for (; *s; s++) {
		if (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r') {
			space = true;
			continue;
		}
		if (n + (space ? 1 : 0) + 1 > max) {
			cut = true;
			break;
		}
		if (space)
			out[n++] = ' ';
		space = false;
		out[n++] = *s;
	}
	if (cut) {
		/* A multi-byte character cut in two goes whole: back off over
		 * its continuation bytes and its lead byte. */
		if (((unsigned char)*s & 0xC0) == 0x80) {
			while (n && ((unsigned char)out[n - 1] & 0xC0) == 0x80)
				n--;
			if (n && ((unsigned char)out[n - 1] & 0x80))
				n--;
		}
		if (n > max - 3)
			n = max - 3;
		while (n && ((unsigned char)out[n] & 0xC0) == 0x80)
			n--;
		memcpy(out + n, "\xe2\x80\xa6", 3); /* … */
		n += 3;
	}
	out[n] = '\0';
	return out;
}

/* An absolute URL for an image link: as is, or on PUBLIC_URL. */
static const char *absolute(req_t *req, const char *url)
{
	if (!url || !*url)
		return NULL;
	if (str_has_prefix(url, "https://") || str_has_prefix(url, "http://"))
		return url;
	if (url[0] != '/' || url[1] == '/')
		return NULL;
	return arena_printf(req->arena, "%s%s", cfg.public_url, url);
}

static void meta(strbuf_t *sb, const char *attr, const char *name, const char *content)
{
	if (!content)
		return;
	sb_addf(sb, "\n<meta %s=\"%s\" content=\"", attr, name);
	sb_add_html(sb, content);
	sb_adds(sb, "\">");
}

struct tags {
	const char *title, *page_title, *description, *url, *image, *type;
};

static void write_tags(strbuf_t *sb, const struct tags *t)
{
	sb_adds(sb, "<title>");
	sb_add_html(sb, t->page_title);
	sb_adds(sb, "</title>");
	meta(sb, "name", "description", t->description);
	sb_adds(sb, "\n<link rel=\"canonical\" href=\"");
	sb_add_html(sb, t->url);
	sb_adds(sb, "\">");
	meta(sb, "property", "og:site_name", "HWC3D");
	meta(sb, "property", "og:type", t->type);
	meta(sb, "property", "og:title", t->title);
	meta(sb, "property", "og:description", t->description);
	meta(sb, "property", "og:url", t->url);
	meta(sb, "property", "og:image", t->image);
	meta(sb, "name", "twitter:card", t->image ? "summary_large_image" : "summary");
	meta(sb, "name", "twitter:title", t->title);
	meta(sb, "name", "twitter:description", t->description);
	meta(sb, "name", "twitter:image", t->image);
}

static enum seo_result model_head(req_t *req, const char *id_text, strbuf_t *head)
{
	int64_t id;
	if (!parse_i64_range(id_text, 1, INT64_MAX, &id))
		return SEO_MISSING;
	/* The public model detail's own query (models.c, models_get). */
	db_rows_t *r = RQ(req, "SELECT " MODEL_COLS MODEL_FROM " WHERE m.id = $1 AND " MODEL_PUBLIC, P_INT(id));
	if (!r)
		return SEO_ERROR;
	if (!db_next(r))
		return db_failed(r) ? SEO_ERROR : SEO_MISSING;
	const char *title = db_text(r, MC_TITLE), *creator = db_text(r, MC_CREATOR_USERNAME);
	const char *desc = db_text(r, MC_DESCRIPTION);
	struct tags t = {
		.title = arena_strdup(req->arena, title ? title : ""),
		.page_title = arena_printf(req->arena, "%s by @%s | HWC3D", title ? title : "", creator ? creator : ""),
		.description = summary(req, desc && *desc ? desc
						     : arena_printf(req->arena, "%s: a 3D model by @%s on HWC3D.",
								    title ? title : "", creator ? creator : ""),
				       DESCRIPTION_MAX),
		.url = arena_printf(req->arena, "%s/model/%lld", cfg.frontend_url, (long long)id),
		.image = absolute(req, arena_strdup(req->arena, db_isnull(r, MC_THUMBNAIL_URL) ? "" : db_text(r, MC_THUMBNAIL_URL))),
		.type = "website",
	};
	write_tags(head, &t);
	return SEO_FOUND;
}

static enum seo_result user_head(req_t *req, const char *name, strbuf_t *head)
{
	char lower[64];
	size_t n = strlen(name);
	if (!n || n >= sizeof(lower))
		return SEO_MISSING;
	for (size_t i = 0; i <= n; i++)
		lower[i] = (char)((name[i] >= 'A' && name[i] <= 'Z') ? name[i] - 'A' + 'a' : name[i]);
	/* The public profile's query (users.c, reply_profile). */
	db_rows_t *r = RQ(req, "SELECT " USER_PUBLIC_COLS " FROM users u WHERE u.username_lower = $1"
			       " AND u.deleted_at IS NULL AND u.is_banned = FALSE",
			  P_TEXT(arena_strdup(req->arena, lower)));
	if (!r)
		return SEO_ERROR;
	if (!db_next(r))
		return db_failed(r) ? SEO_ERROR : SEO_MISSING;
	const char *username = db_text(r, UC_USERNAME);
	const char *full = db_isnull(r, UC_FULL_NAME) ? "" : db_text(r, UC_FULL_NAME);
	const char *bio = db_isnull(r, UC_BIO) ? "" : db_text(r, UC_BIO);
	const char *shown = *full ? full : username;
	struct tags t = {
		.title = arena_strdup(req->arena, shown),
		.page_title = arena_printf(req->arena, "%s (@%s) | HWC3D", shown, username),
		.description = summary(req, *bio ? bio : arena_printf(req->arena, "3D models by @%s on HWC3D.", username),
				       DESCRIPTION_MAX),
		.url = arena_printf(req->arena, "%s/u/%s", cfg.frontend_url, username),
		.image = absolute(req, arena_strdup(req->arena, db_isnull(r, UC_AVATAR_URL) ? "" : db_text(r, UC_AVATAR_URL))),
		.type = "profile",
	};
	write_tags(head, &t);
	meta(head, "property", "profile:username", username);
	return SEO_FOUND;
}

enum seo_result seo_head(req_t *req, const char *path, strbuf_t *head)
{
	const char *rest;
	if (str_has_prefix(path, "/model/"))
		rest = path + strlen("/model/");
	else if (str_has_prefix(path, "/view/"))
		rest = path + strlen("/view/");
	else if (str_has_prefix(path, "/u/"))
		rest = path + strlen("/u/");
	else
		return SEO_NONE;
	if (!*rest || strchr(rest, '/'))
		return SEO_NONE;
	if (!req->db && !(req->db = db_thread()))
		return SEO_ERROR;
	return path[1] == 'u' ? user_head(req, rest, head) : model_head(req, rest, head);
}

/* ---- robots.txt and the sitemaps ---- */

static void reply_text(req_t *req, int status, const char *type, char *text, size_t len, const char *cache)
{
	struct static_body b = {
		.status = status, .type = type, .data = (unsigned char *)text, .len = len,
		.cache = cache, .csp = TEXT_CSP,
	};
	static_reply(req, &b);
}

static void robots(req_t *req)
{
	strbuf_t sb;
	sb_init(&sb, 0);
	sb_adds(&sb, "User-agent: *\nAllow: /\n");
	static const char *const private_paths[] = { "/api/", "/auth", "/cart", "/checkout", "/dashboard", "/upload", "/admin" };
	for (size_t i = 0; i < ARRAY_LEN(private_paths); i++)
		sb_addf(&sb, "Disallow: %s\n", private_paths[i]);
	sb_addf(&sb, "\nSitemap: %s/sitemap.xml\n", cfg.frontend_url);
	reply_text(req, 200, "text/plain; charset=utf-8", sb.buf, sb.len, "public, max-age=86400");
	sb_release(&sb);
}

static const char *const sitemap_tables[] = { "models", "users" };

/* Runs on the poll thread (the index) and on a worker (a page), so its
 * rows are released here, not with the request (pool.h). */
static bool max_id(req_t *req, const char *table, int64_t *out)
{
	db_rows_t *r = db_query(req->db, arena_printf(req->arena, "SELECT MAX(id) FROM %s", table), NULL, 0);
	if (!r)
		return false;
	bool ok = db_next(r) && !db_failed(r);
	*out = ok && !db_isnull(r, 0) ? db_int(r, 0) : 0;
	db_done(r);
	return ok;
}

static void not_found(req_t *req)
{
	reply_error(req, ERR_NOT_FOUND, "Not found");
}

static void sitemap_index(req_t *req)
{
	if (!req->db && !(req->db = db_thread())) {
		reply_error(req, ERR_UNAVAILABLE, "The database is unavailable; try again shortly");
		return;
	}
	strbuf_t sb;
	sb_init(&sb, 0);
	sb_adds(&sb, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		     "<sitemapindex xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n");
	for (size_t i = 0; i < ARRAY_LEN(sitemap_tables); i++) {
		int64_t max;
		if (!max_id(req, sitemap_tables[i], &max)) {
			sb_release(&sb);
			reply_db_error(req, "sitemap index");
			return;
		}
		int64_t pages = max ? (max + SITEMAP_PAGE - 1) / SITEMAP_PAGE : 1;
		for (int64_t p = 1; p <= pages; p++) {
			sb_adds(&sb, "<sitemap><loc>");
			sb_add_html(&sb, cfg.frontend_url);
			sb_addf(&sb, "/sitemap/%s-%lld.xml</loc></sitemap>\n", sitemap_tables[i], (long long)p);
		}
	}
	sb_adds(&sb, "</sitemapindex>\n");
	reply_text(req, 200, "application/xml; charset=utf-8", sb.buf, sb.len, SITEMAP_CACHE);
	sb_release(&sb);
}

struct sitemap_job {
	size_t table; /* index in sitemap_tables */
	int64_t page;
	bool gzip;
	enum { SM_OK, SM_MISSING, SM_UNAVAILABLE, SM_DB_ERROR } status;
	char *text; /* malloc'd */
	size_t len;
	unsigned char *gz; /* malloc'd, or NULL */
	size_t gzlen;
};

static void add_lastmod(strbuf_t *sb, int64_t ms)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	char buf[32];
	if (ms > 0 && gmtime_r(&t, &tm) && strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm))
		sb_addf(sb, "<lastmod>%s</lastmod>", buf);
}

static int sitemap_page_compute(req_t *req, struct sitemap_job *j)
{
	int64_t max;
	if (!max_id(req, sitemap_tables[j->table], &max))
		return SM_DB_ERROR;
	int64_t pages = max ? (max + SITEMAP_PAGE - 1) / SITEMAP_PAGE : 1;
	if (j->page > pages)
		return SM_MISSING;
	int64_t lo = (j->page - 1) * SITEMAP_PAGE, hi = j->page * SITEMAP_PAGE;
	bool models = j->table == 0;
	db_rows_t *r = models
		? DBQ(req->db, "SELECT m.id, m.updated_at FROM models m WHERE m.id > $1 AND m.id <= $2 AND " MODEL_PUBLIC
			       " ORDER BY m.id", P_INT(lo), P_INT(hi))
		: DBQ(req->db, "SELECT u.id, u.updated_at, u.username FROM users u WHERE u.id > $1 AND u.id <= $2"
			       " AND u.deleted_at IS NULL AND u.is_banned = FALSE ORDER BY u.id", P_INT(lo), P_INT(hi));
	if (!r)
		return SM_DB_ERROR;
	strbuf_t sb;
	sb_init(&sb, 0);
	sb_adds(&sb, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		     "<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n");
	strbuf_t url;
	sb_init(&url, 4096);
	while (db_next(r)) {
		sb_reset(&url);
		sb_adds(&url, cfg.frontend_url);
		if (models) {
			sb_addf(&url, "/model/%lld", (long long)db_int(r, 0));
		} else {
			sb_adds(&url, "/u/");
			sb_add_uri_encoded(&url, db_text(r, 2), false);
		}
		sb_adds(&sb, "<url><loc>");
		sb_add_html(&sb, url.buf);
		sb_adds(&sb, "</loc>");
		add_lastmod(&sb, db_int(r, 1));
		sb_adds(&sb, "</url>\n");
	}
	sb_release(&url);
	bool failed = db_failed(r) || sb.overflow;
	db_done(r);
	sb_adds(&sb, "</urlset>\n");
	if (failed) {
		sb_release(&sb);
		return SM_DB_ERROR;
	}
	j->text = sb_detach(&sb, &j->len);
	if (j->gzip && !gz_compress(j->text, j->len, 6, &j->gz, &j->gzlen))
		j->gz = NULL;
	return SM_OK;
}

struct sm_ctx {
	req_t *req;
	struct sitemap_job j;
};

/* On a worker, with its own connection (pool.h). */
static void sitemap_work(void *ctx)
{
	struct sm_ctx *c = ctx;
	c->j.status = c->req->db ? sitemap_page_compute(c->req, &c->j) : SM_UNAVAILABLE;
}

static int sitemap_done(req_t *req, void *ctx)
{
	struct sitemap_job *j = &((struct sm_ctx *)ctx)->j;
	switch (j->status) {
	case SM_OK: {
		struct static_body b = {
			.status = 200, .type = "application/xml; charset=utf-8",
			.data = (unsigned char *)j->text, .len = j->len, .gz = j->gz, .gzlen = j->gzlen,
			.cache = SITEMAP_CACHE, .csp = TEXT_CSP,
		};
		static_reply(req, &b);
		break;
	}
	case SM_MISSING:
		not_found(req);
		break;
	case SM_UNAVAILABLE:
		reply_error(req, ERR_UNAVAILABLE, "The database is unavailable; try again shortly");
		break;
	default:
		reply_db_error(req, "sitemap page");
	}
	free(j->text);
	free(j->gz);
	return DONE;
}

/* "/sitemap/<table>-<N>.xml" */
static void sitemap_page(req_t *req, const char *name)
{
	for (size_t i = 0; i < ARRAY_LEN(sitemap_tables); i++) {
		size_t n = strlen(sitemap_tables[i]);
		if (strncmp(name, sitemap_tables[i], n) || name[n] != '-')
			continue;
		const char *num = name + n + 1;
		const char *ext = strstr(num, ".xml");
		if (!ext || ext[4] || ext == num || *num == '0')
			break;
		int64_t page;
		if (!parse_i64_range(arena_strndup(req->arena, num, (size_t)(ext - num)), 1, INT64_MAX / SITEMAP_PAGE, &page))
			break;
		struct sm_ctx *c = arena_calloc(req->arena, sizeof(*c));
		c->req = req;
		c->j.table = i;
		c->j.page = page;
		c->j.gzip = static_accepts_gzip(req);
		pool_defer(req, POOL_DB, sitemap_work, sitemap_done, c);
		return;
	}
	not_found(req);
}

bool seo_serve(req_t *req, const char *path)
{
	if (!strcmp(path, "/robots.txt"))
		robots(req);
	else if (!strcmp(path, "/sitemap.xml"))
		sitemap_index(req);
	else if (str_has_prefix(path, "/sitemap/"))
		sitemap_page(req, path + strlen("/sitemap/"));
	else
		return false;
	return true;
}
