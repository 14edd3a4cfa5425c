/*
 * static.c: the web client and the API reference, served from disk.
 *
 * Only GET/HEAD of paths outside /api/ and /ws/ arrive here.  A path with a
 * ".." or "." segment, a NUL, or a symlink at the end is refused; the file
 * must be a regular file under WEB_DIR (or the Swagger UI package under
 * VENDOR_DIR for /vendor/swagger-ui/).
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include "static.h"
#include "reply.h"
#include "request.h"
#include "../core/util.h"

#define PAGE_CSP "default-src 'self'; script-src 'self'; " \
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

bool static_serve(req_t *req, const char *path)
{
	if (!safe_path(path))
		return false;
	const char *base = cfg.web_dir, *rel = path;
	bool vendor = false;
	if (str_has_prefix(path, "/vendor/swagger-ui/")) {
		base = arena_printf(req->arena, "%s/swagger-ui-dist", cfg.vendor_dir);
		rel = path + strlen("/vendor/swagger-ui");
		vendor = true;
	} else if (!strcmp(path, "/docs") || !strcmp(path, "/docs/")) {
		rel = "/docs/index.html";
	} else if (!strcmp(path, "/")) {
		rel = "/index.html";
	}
	struct stat st;
	int fd = open_file(req, base, rel, &st);
	if (fd < 0)
		return false;
	char *etag = arena_printf(req->arena, "\"%llx-%llx\"", (unsigned long long)st.st_size,
				  (unsigned long long)st.st_mtim.tv_sec * 1000000000ULL + (unsigned long long)st.st_mtim.tv_nsec);
	const char *inm = req_header(req, "If-None-Match");
	if (inm && !strcmp(inm, etag)) {
		close(fd);
		reply_bytes(req, 304, NULL, "", 0);
	} else {
		reply_file(req, 200, type_for(rel), fd, 0, (uint64_t)st.st_size);
	}
	req_add_header(req, "ETag", etag);
	req_add_header(req, "Cache-Control", vendor ? "public, max-age=86400" : "no-cache");
	req_add_header(req, "Content-Security-Policy", PAGE_CSP);
	req_add_header(req, "X-Frame-Options", "DENY");
	return true;
}
