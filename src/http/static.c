/*
 * static.c: the web client and the API reference, served from disk.
 *
 * Only GET/HEAD of paths outside /api/ and /ws/ arrive here.  A path with a
 * ".." or "." segment, a NUL, or a symlink at the end is refused; the file
 * must be a regular file under WEB_DIR, or under one of the few npm packages
 * of VENDOR_DIR named in vendor_pkgs for /vendor/<name>[@<version>]/.
 *
 * The single-page app: a path whose last segment has no dot and names no
 * file is a page of the client and answers web/index.html (the "shell").
 * Page routes of the client (page_roots) answer it with 200; any other such
 * path with 404, so that junk URLs stay 404 for crawlers and scanners while a
 * browser still gets the app, which shows its "not found" page.
 *
 * Caching: HTML and the client's own modules are "no-cache" with an ETag (a
 * revalidation is a 304 of a few hundred bytes, and a deploy can never mix
 * old and new modules); /vendor/<name>@<version>/ URLs are immutable for a
 * year (the version is checked against the installed package, so the URL
 * changes whenever the content does); /vendor/<name>/ without a version
 * keeps a day.  No build step renames files with their hash.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <jansson.h>
#include "static.h"
#include "reply.h"
#include "request.h"
#include "../core/util.h"

/* The sha256 in script-src is web/index.html's import map (an inline
 * script); tests/api/test_web.py fails when the two drift apart. */
#define PAGE_CSP "default-src 'self'; script-src 'self' 'sha256-5nN/qx58g4gLWcXziGrf/TSwutqzW7lliQFMf4AKaHo='; " \
	"style-src 'self' 'sha256-RL3ie0nH+Lzz2YNqQN83mnU0J1ot4QL7b99vMdIX99w='; " \
	"img-src 'self' data: blob:; connect-src 'self' ws: wss:; worker-src 'self' blob:; " \
	"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

static const struct {
	const char *ext, *type;
} types[] = {
	{ ".html", "text/html; charset=utf-8" },
	{ ".js", "text/javascript; charset=utf-8" },
	{ ".mjs", "text/javascript; charset=utf-8" },
	{ ".css", "text/css; charset=utf-8" },
	{ ".json", "application/json" },
	{ ".map", "application/json" },
	{ ".svg", "image/svg+xml" },
	{ ".png", "image/png" },
	{ ".jpg", "image/jpeg" },
	{ ".jpeg", "image/jpeg" },
	{ ".webp", "image/webp" },
	{ ".ico", "image/x-icon" },
	{ ".woff2", "font/woff2" },
	{ ".glb", "model/gltf-binary" },
	{ ".txt", "text/plain; charset=utf-8" },
};

static const char *type_for(const char *path)
{
	const char *dot = strrchr(path, '.');
	if (dot && !strchr(dot, '/'))
		for (size_t i = 0; i < ARRAY_LEN(types); i++)
			if (!strcmp(dot, types[i].ext))
				return types[i].type;
	return "application/octet-stream";
}

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

static void send_file(req_t *req, int status, const char *type, int fd, const struct stat *st,
		      const char *cache)
{
	char *etag = arena_printf(req->arena, "\"%llx-%llx\"", (unsigned long long)st->st_size,
				  (unsigned long long)st->st_mtim.tv_sec * 1000000000ULL +
					  (unsigned long long)st->st_mtim.tv_nsec);
	const char *inm = req_header(req, "If-None-Match");
	if (status == 200 && inm && !strcmp(inm, etag)) {
		close(fd);
		reply_bytes(req, 304, NULL, "", 0);
	} else {
		reply_file(req, status, type, fd, 0, (uint64_t)st->st_size);
	}
	req_add_header(req, "ETag", etag);
	req_add_header(req, "Cache-Control", cache);
	req_add_header(req, "Content-Security-Policy", PAGE_CSP);
	req_add_header(req, "X-Frame-Options", "DENY");
	/* A 404 shell carries these headers itself, not the JSON API's. */
	req->own_cache_headers = true;
}

bool static_serve(req_t *req, const char *path)
{
	if (!safe_path(path))
		return false;
	const char *base = cfg.web_dir, *rel = path;
	bool vendor = false, immutable = false;
	if (str_has_prefix(path, "/vendor/")) {
		if (!vendor_map(req, path, &base, &rel, &immutable))
			return false;
		vendor = true;
	} else if (!strcmp(path, "/docs") || !strcmp(path, "/docs/")) {
		rel = "/docs/index.html";
	}
	struct stat st;
	int fd = strcmp(rel, "/") ? open_file(req, base, rel, &st) : -1;
	if (fd >= 0) {
		const char *cache = immutable ? "public, max-age=31536000, immutable"
				    : vendor  ? "public, max-age=86400"
					      : "no-cache";
		send_file(req, 200, type_for(rel), fd, &st, cache);
		return true;
	}
	if (!is_page_path(path))
		return false;
	fd = open_file(req, cfg.web_dir, "/index.html", &st);
	if (fd < 0)
		return false;
	send_file(req, is_page_root(path) ? 200 : 404, "text/html; charset=utf-8", fd, &st, "no-cache");
	return true;
}
