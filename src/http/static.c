/*
 * static.c: the web client, its shell, /vendor/ and the API reference.
 *
 * Only GET/HEAD of paths outside /api/ and /ws/ arrive here.  A path with a
 * ".." or "." segment, a NUL, or a symlink at the end is refused.
 *
 * The client's files (WEB_DIR but docs/) are served from memory (assets.h):
 * read, hashed and gzip-compressed once, on a worker, when the first static
 * request arrives (or at start-up through static_init).  A change to a file
 * under web/ needs a server restart.
 *   - /js/app.<hash>.js, /css/app.<hash>.css, ...: the content hash is in
 *     the name, so they are "public, max-age=31536000, immutable".  A hash
 *     that is not the current one answers 404 (JSON): a page from before a
 *     deploy reloads rather than mixing old and new modules.
 *   - /js/app.js and the other plain names: "no-cache" with an ETag (304 on
 *     If-None-Match), for tools and old links.
 *   - The shell (index.html) answers every page: its import map maps each
 *     module under /js/ to its hashed name (so the relative imports between
 *     modules and the router's dynamic import() of pages all load hashed
 *     URLs), its stylesheet, icon and entry script are hashed names, and
 *     the CSP's script-src hash is that of this import map.  It is no-cache
 *     with an ETag.  /model/{id}, /view/{id} and /u/{username} get the real
 *     title, description, canonical and Open Graph tags (seo.h); a missing
 *     or private one the generic shell with 404.
 *
 * The single-page app: a path whose last segment has no dot and names no
 * file is a page of the client and answers the shell.  Page routes of the
 * client (page_roots) answer it with 200; any other such path with 404, so
 * that junk URLs stay 404 for crawlers and scanners while a browser still
 * gets the app, which shows its "not found" page.
 *
 * /vendor/<name>[@<version>]/<file>: the few npm packages of VENDOR_DIR
 * named in vendor_pkgs, from disk.  A versioned URL is immutable for a year
 * (the version is checked against the installed package, so the URL changes
 * whenever the content does); without a version it keeps a day.  Their text
 * files are gzip-compressed once, on a worker (never on a poll thread: a
 * megabyte takes tens of milliseconds), then kept in memory.
 *
 * Everything here carries an ETag and answers 304 to If-None-Match; gzip
 * goes to clients whose Accept-Encoding allows it, with Vary:
 * Accept-Encoding and an ETag of its own; a Range gets the uncompressed
 * bytes (206), and HEAD the same headers as GET.
 * /robots.txt and the sitemaps are seo.c's.
 */
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <jansson.h>
#include "static.h"
#include "assets.h"
#include "conditional.h"
#include "pool.h"
#include "reply.h"
#include "request.h"
#include "seo.h"
#include "../core/config.h"
#include "../core/util.h"

#define IMMUTABLE "public, max-age=31536000, immutable"
#define SHELL_HEAD_MAX ((size_t)64 << 10)

static bool safe_path(const char *p)
{
	if (strlen(p) > 1024)
		return false;
	for (const char *s = p; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == '\\')
			return false;
	/* No "." or ".." segments, no empty segments. */
	for (const char *seg = p; seg; seg = strchr(seg + 1, '/')) {
		const char *s = seg + 1;
		if (!strncmp(s, "..", 2) && (s[2] == '/' || !s[2]))
			return false;
		if (s[0] == '.' && (s[1] == '/' || !s[1]))
			return false;
		if (s[0] == '/')
			return false;
	}
	return true;
}

/* Opens base+rel as a regular file, never following a final symlink. */
static int open_file(req_t *req, const char *base, const char *rel, struct stat *st)
{
	char *full = arena_printf(req->arena, "%s%s", base, rel);
	int fd = open(full, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (fstat(fd, st) || !S_ISREG(st->st_mode)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* npm packages served under /vendor/<url>/ from VENDOR_DIR/<dir>/. */
static const struct {
	const char *url, *dir;
} vendor_pkgs[] = {
	{ "swagger-ui", "swagger-ui-dist" },
	{ "preact", "preact" },
	{ "htm", "htm" },
	{ "model-viewer", "@google/model-viewer" },
};

/* First path segments of the client's pages (issue 11 and later ones: those
 * not built yet show the client's "not available yet" page). */
static const char *page_roots[] = {
	"marketplace", "model", "view", "auth", "cart", "checkout", "upload", "dashboard",
	"leaderboard", "u", "community", "communities", "support", "bounties", "learn",
	"admin", "reset-password", "verify-email",
};

/* True when the installed package dir has this exact version. */
static bool vendor_version_is(req_t *req, const char *dir, const char *version, size_t vlen)
{
	const char *file = arena_printf(req->arena, "%s/%s/package.json", cfg.vendor_dir, dir);
	json_t *pkg = json_load_file(file, 0, NULL);
	const char *have = json_string_value(json_object_get(pkg, "version"));
	bool ok = have && strlen(have) == vlen && !memcmp(have, version, vlen);
	json_decref(pkg);
	return ok;
}

/* Maps /vendor/<name>[@<version>]/<file> to its package; false when the
 * package is not one of vendor_pkgs or the version is not the installed one. */
static bool vendor_map(req_t *req, const char *path, const char **base, const char **rel, bool *immutable)
{
	const char *name = path + strlen("/vendor/");
	const char *end = strchr(name, '/');
	if (!end || !end[1])
		return false;
	const char *at = memchr(name, '@', (size_t)(end - name));
	size_t nlen = (size_t)((at ? at : end) - name);
	for (size_t i = 0; i < ARRAY_LEN(vendor_pkgs); i++) {
		if (strlen(vendor_pkgs[i].url) != nlen || memcmp(vendor_pkgs[i].url, name, nlen))
			continue;
		if (at && !vendor_version_is(req, vendor_pkgs[i].dir, at + 1, (size_t)(end - at - 1)))
			return false;
		*base = arena_printf(req->arena, "%s/%s", cfg.vendor_dir, vendor_pkgs[i].dir);
		*rel = end;
		*immutable = at != NULL;
		return true;
	}
	return false;
}

/* A page of the client: no dot in the last segment, and a first segment
 * that is never the client's ("/api" itself included). */
static bool is_page_path(const char *path)
{
	static const char *not_pages[] = { "api", "ws", "vendor", "docs", "files" };
	const char *seg = path + 1;
	size_t n = strcspn(seg, "/");
	for (size_t i = 0; i < ARRAY_LEN(not_pages); i++)
		if (strlen(not_pages[i]) == n && !memcmp(not_pages[i], seg, n))
			return false;
	const char *last = strrchr(path, '/');
	return !strchr(last ? last : path, '.');
}

static bool is_page_root(const char *path)
{
	const char *seg = path + 1;
	size_t n = strcspn(seg, "/");
	if (n == 0)
		return true;
	for (size_t i = 0; i < ARRAY_LEN(page_roots); i++)
		if (strlen(page_roots[i]) == n && !memcmp(page_roots[i], seg, n))
			return true;
	return false;
}

bool static_accepts_gzip(req_t *req)
{
	return http_accepts_gzip(req_header(req, "Accept-Encoding"));
}

static void common_headers(req_t *req, const char *etag, const char *cache, const char *csp, bool varies)
{
	if (etag)
		req_add_header(req, "ETag", etag);
	req_add_header(req, "Cache-Control", cache);
	req_add_header(req, "Content-Security-Policy", csp ? csp : assets_csp());
	req_add_header(req, "X-Frame-Options", "DENY");
	if (varies)
		req_add_header(req, "Vary", "Accept-Encoding");
	/* A 404 shell carries these headers itself, not the JSON API's. */
	req->own_cache_headers = true;
}

/* A 206 or 416 for a Range on len bytes; false when the whole is due. */
static bool ranged(req_t *req, const char *etag, uint64_t len, uint64_t *from, uint64_t *to, bool *unsatisfiable)
{
	const char *if_range = req_header(req, "If-Range");
	if (if_range && (!etag || strcmp(if_range, etag)))
		return false;
	enum http_range r = http_range_parse(req_header(req, "Range"), len, from, to);
	*unsatisfiable = r == HTTP_RANGE_UNSATISFIABLE;
	if (r == HTTP_RANGE_UNSATISFIABLE)
		req_add_header(req, "Content-Range", arena_printf(req->arena, "bytes */%llu", (unsigned long long)len));
	else if (r == HTTP_RANGE_OK)
		req_add_header(req, "Content-Range", arena_printf(req->arena, "bytes %llu-%llu/%llu", (unsigned long long)*from,
								  (unsigned long long)*to, (unsigned long long)len));
	return r != HTTP_RANGE_NONE;
}

void static_reply(req_t *req, const struct static_body *b)
{
	bool gz = b->gz && static_accepts_gzip(req);
	const char *etag = gz ? b->gz_etag : b->etag;
	const char *inm = req_header(req, "If-None-Match");
	uint64_t from = 0, to = 0;
	bool unsat = false;
	common_headers(req, etag, b->cache, b->csp, b->gz != NULL || asset_compressible(b->type));
	if (b->status == 200 && etag && http_etag_matches(inm, b->etag, b->gz_etag)) {
		reply_bytes(req, 304, NULL, "", 0);
		return;
	}
	if (b->status == 200 && b->etag) {
		req_add_header(req, "Accept-Ranges", "bytes");
		if (ranged(req, b->etag, b->len, &from, &to, &unsat)) {
			if (unsat)
				reply_bytes(req, 416, NULL, "", 0);
			else
				reply_bytes(req, 206, b->type, b->data + from, (size_t)(to - from + 1));
			return;
		}
	}
	if (gz) {
		reply_bytes(req, b->status, b->type, b->gz, b->gzlen);
		req_add_header(req, "Content-Encoding", "gzip");
	} else {
		reply_bytes(req, b->status, b->type, b->data, b->len);
	}
}

static void reply_asset(req_t *req, int status, const asset_t *a, const char *cache)
{
	struct static_body b = {
		.status = status, .type = a->type, .data = a->data, .len = a->len, .gz = a->gz, .gzlen = a->gzlen,
		.etag = a->etag, .gz_etag = a->gz ? a->gz_etag : NULL, .cache = cache,
	};
	static_reply(req, &b);
}

/* A file on disk (vendor, docs): sent from the fd, or its gzip copy from
 * memory; takes fd. */
static void reply_fd(req_t *req, const char *type, int fd, const struct stat *st, const char *cache,
		     const unsigned char *gz, size_t gzlen)
{
	unsigned long long tag = (unsigned long long)st->st_mtim.tv_sec * 1000000000ULL + (unsigned long long)st->st_mtim.tv_nsec;
	char *etag = arena_printf(req->arena, "\"%llx-%llx\"", (unsigned long long)st->st_size, tag);
	char *gz_etag = arena_printf(req->arena, "\"%llx-%llx-gz\"", (unsigned long long)st->st_size, tag);
	bool use_gz = gz && static_accepts_gzip(req);
	const char *inm = req_header(req, "If-None-Match");
	uint64_t from = 0, to = 0, size = (uint64_t)st->st_size;
	bool unsat = false;
	common_headers(req, use_gz ? gz_etag : etag, cache, NULL, gz != NULL || asset_compressible(type));
	if (http_etag_matches(inm, etag, gz_etag)) {
		close(fd);
		reply_bytes(req, 304, NULL, "", 0);
		return;
	}
	req_add_header(req, "Accept-Ranges", "bytes");
	if (ranged(req, etag, size, &from, &to, &unsat)) {
		if (unsat) {
			close(fd);
			reply_bytes(req, 416, NULL, "", 0);
		} else {
			reply_file(req, 206, type, fd, from, to - from + 1);
		}
		return;
	}
	if (use_gz) {
		close(fd);
		reply_bytes(req, 200, type, gz, gzlen);
		req_add_header(req, "Content-Encoding", "gzip");
		return;
	}
	reply_file(req, 200, type, fd, 0, size);
}

static bool serve(req_t *req, const char *path, bool may_defer);

struct deferred {
	const char *path;
	const char *file; /* vendor_gz_make's */
	struct stat st;
};

static void init_work(void *ctx)
{
	assets_init();
}

static void gz_work(void *ctx)
{
	struct deferred *d = ctx;
	vendor_gz_make(d->file, &d->st);
}

static int deferred_done(req_t *req, void *ctx)
{
	struct deferred *d = ctx;
	if (!serve(req, d->path, false))
		reply_error(req, ERR_NOT_FOUND, "Not found");
	return DONE;
}

static void defer(req_t *req, const char *path, const char *file, const struct stat *st)
{
	struct deferred *d = arena_calloc(req->arena, sizeof(*d));
	d->path = arena_strdup(req->arena, path);
	if (file) {
		d->file = arena_strdup(req->arena, file);
		d->st = *st;
	}
	pool_defer(req, POOL_DB, file ? gz_work : init_work, deferred_done, d);
}

/* A /vendor/ file; false when there is none. */
static bool serve_vendor(req_t *req, const char *path, bool may_defer)
{
	const char *base, *rel;
	bool immutable;
	if (!vendor_map(req, path, &base, &rel, &immutable))
		return false;
	struct stat st;
	int fd = open_file(req, base, rel, &st);
	if (fd < 0)
		return false;
	const char *type = asset_type(rel);
	const unsigned char *gz = NULL;
	size_t gzlen = 0;
	if (asset_compressible(type) && st.st_size >= 1024 && static_accepts_gzip(req) &&
	    !req_header(req, "Range") && !vendor_gz_get(arena_printf(req->arena, "%s%s", base, rel), &st, &gz, &gzlen) &&
	    may_defer) {
		close(fd);
		defer(req, path, arena_printf(req->arena, "%s%s", base, rel), &st);
		return true;
	}
	reply_fd(req, type, fd, &st, immutable ? IMMUTABLE : "public, max-age=86400", gz, gzlen);
	return true;
}

/* The shell for a page path, with the tags of a public model or profile. */
static bool serve_shell(req_t *req, const char *path, int status)
{
	const shell_t *sh = assets_shell();
	if (!sh)
		return false;
	strbuf_t head;
	sb_init(&head, SHELL_HEAD_MAX);
	enum seo_result r = seo_head(req, path, &head);
	if (r != SEO_FOUND || head.overflow) {
		sb_release(&head);
		reply_asset(req, r == SEO_MISSING ? 404 : status, &sh->a, "no-cache");
		return true;
	}
	strbuf_t page;
	sb_init(&page, 0);
	sb_add(&page, sh->a.data, sh->head_at);
	sb_add(&page, head.buf, head.len);
	sb_add(&page, sh->a.data + sh->head_end, sh->a.len - sh->head_end);
	sb_release(&head);
	char hash[ASSET_HASH_LEN + 1];
	asset_hash(page.buf, page.len, hash);
	struct static_body b = {
		.status = status, .type = sh->a.type, .data = (unsigned char *)page.buf, .len = page.len,
		.etag = arena_printf(req->arena, "\"%s\"", hash), .cache = "no-cache",
	};
	unsigned char *gz = NULL;
	if (static_accepts_gzip(req) && gz_compress(page.buf, page.len, 6, &gz, &b.gzlen)) {
		b.gz = gz;
		b.gz_etag = arena_printf(req->arena, "\"%s-gz\"", hash);
	}
	static_reply(req, &b);
	free(gz);
	sb_release(&page);
	return true;
}

static bool serve(req_t *req, const char *path, bool may_defer)
{
	if (path[0] != '/' || !safe_path(path))
		return false;
	if (!assets_ready()) {
		if (!may_defer)
			return false;
		defer(req, path, NULL, NULL);
		return true;
	}
	if (seo_serve(req, path))
		return true;
	if (str_has_prefix(path, "/vendor/"))
		return serve_vendor(req, path, may_defer);
	if (!strcmp(path, "/docs") || str_has_prefix(path, "/docs/")) {
		struct stat st;
		const char *rel = path[5] && path[6] ? path : "/docs/index.html";
		int fd = open_file(req, cfg.web_dir, rel, &st);
		if (fd < 0)
			return false;
		reply_fd(req, asset_type(rel), fd, &st, "no-cache", NULL, 0);
		return true;
	}
	bool immutable, stale;
	const asset_t *a = asset_find(path, &immutable, &stale);
	if (a && strcmp(a->path, "/index.html")) {
		reply_asset(req, 200, a, immutable ? IMMUTABLE : "no-cache");
		return true;
	}
	if (a)
		return serve_shell(req, "/", 200);
	if (stale || !is_page_path(path))
		return false;
	return serve_shell(req, path, is_page_root(path) ? 200 : 404);
}

bool static_serve(req_t *req, const char *path)
{
	return serve(req, path, true);
}

void static_init(void)
{
	assets_init();
}
