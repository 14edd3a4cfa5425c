/*
 * assets.c: the web client's files in memory, named by their content hash,
 * and the HTML shell built from web/index.html (see assets.h).
 *
 * Limits: a file over ASSET_FILE_MAX, past ASSET_FILES files or past
 * ASSET_TOTAL_MAX bytes in all is left out (and logged): the client is a
 * few hundred kilobytes, so these only stop a mistaken WEB_DIR from eating
 * memory.  Symlinks and dot files are skipped.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>
#include <jansson.h>
#include <sodium.h>
#include <zlib.h>
#include "assets.h"
#include "../svc/payments.h"
#include "../core/config.h"
#include "../core/log.h"
#include "../core/strbuf.h"
#include "../core/util.h"

#define ASSET_FILE_MAX ((size_t)4 << 20)
#define ASSET_TOTAL_MAX ((size_t)64 << 20)
#define ASSET_FILES 2000
#define ASSET_DEPTH 8
#define VENDOR_GZ_MAX ((size_t)16 << 20)  /* one vendor file */
#define VENDOR_GZ_TOTAL ((size_t)64 << 20) /* every vendor file kept */
#define VENDOR_GZ_ENTRIES 256

static asset_t *assets;
static size_t n_assets, total_bytes;
static shell_t shell;
static bool have_shell;
static char *csp;
static atomic_bool ready;
static pthread_once_t once = PTHREAD_ONCE_INIT;

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
	{ ".xml", "application/xml; charset=utf-8" },
};

const char *asset_type(const char *name)
{
	const char *dot = strrchr(name, '.');
	if (dot && !strchr(dot, '/'))
		for (size_t i = 0; i < ARRAY_LEN(types); i++)
			if (!strcmp(dot, types[i].ext))
				return types[i].type;
	return "application/octet-stream";
}

bool asset_compressible(const char *type)
{
	return str_has_prefix(type, "text/") || str_has_prefix(type, "application/json") ||
	       str_has_prefix(type, "application/xml") || str_has_prefix(type, "image/svg+xml");
}

void asset_hash(const void *data, size_t len, char out[ASSET_HASH_LEN + 1])
{
	unsigned char h[crypto_generichash_BYTES_MIN];
	crypto_generichash(h, sizeof(h), data, len, NULL, 0);
	sodium_bin2hex(out, ASSET_HASH_LEN + 1, h, ASSET_HASH_LEN / 2);
}

bool gz_compress(const void *data, size_t len, int level, unsigned char **out, size_t *outlen)
{
	z_stream z = { 0 };
	if (len > UINT32_MAX || deflateInit2(&z, level, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) != Z_OK)
		return false;
	size_t cap = deflateBound(&z, (uLong)len);
	unsigned char *buf = xmalloc(cap);
	z.next_in = (Bytef *)(uintptr_t)data;
	z.avail_in = (uInt)len;
	z.next_out = buf;
	z.avail_out = (uInt)cap;
	int rc = deflate(&z, Z_FINISH);
	*outlen = z.total_out;
	deflateEnd(&z);
	if (rc != Z_STREAM_END) {
		free(buf);
		return false;
	}
	*out = buf;
	return true;
}

/* The whole file, within max bytes; NULL otherwise. */
static unsigned char *read_all(const char *file, size_t max, size_t *len)
{
	int fd = open(file, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	struct stat st;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || (uint64_t)st.st_size > max) {
		close(fd);
		return NULL;
	}
	size_t n = (size_t)st.st_size, got = 0;
	unsigned char *buf = xmalloc(n + 1);
	while (got < n) {
		ssize_t r = read(fd, buf + got, n - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	if (got != n) {
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

/* "/js/app.js" -> "/js/app.<hash>.js" (the hash before the last extension). */
static char *hashed_name(const char *path, const char *hash)
{
	const char *slash = strrchr(path, '/');
	const char *dot = strrchr(slash, '.');
	if (!dot || dot == slash + 1)
		return xasprintf("%s.%s", path, hash);
	return xasprintf("%.*s.%s%s", (int)(dot - path), path, hash, dot);
}

static void fill_asset(asset_t *a, char *path, unsigned char *data, size_t len, const char *type)
{
	char hash[ASSET_HASH_LEN + 1];
	asset_hash(data, len, hash);
	a->path = path;
	a->hashed = hashed_name(path, hash);
	a->type = type;
	a->data = data;
	a->len = len;
	snprintf(a->etag, sizeof(a->etag), "\"%s\"", hash);
	snprintf(a->gz_etag, sizeof(a->gz_etag), "\"%s-gz\"", hash);
	unsigned char *gz;
	size_t gzlen;
	if (asset_compressible(type) && len >= 256 && gz_compress(data, len, 9, &gz, &gzlen)) {
		if (gzlen < len) {
			a->gz = gz;
			a->gzlen = gzlen;
		} else {
			free(gz);
		}
	}
}

static void add_file(const char *file, const char *path)
{
	if (n_assets >= ASSET_FILES) {
		log_warn("web: more than %d files under WEB_DIR: %s left out", ASSET_FILES, path);
		return;
	}
	size_t len;
	unsigned char *data = read_all(file, ASSET_FILE_MAX, &len);
	if (!data) {
		log_warn("web: %s not read (unreadable or over %zu bytes)", file, ASSET_FILE_MAX);
		return;
	}
	if (total_bytes + len > ASSET_TOTAL_MAX) {
		log_warn("web: WEB_DIR over %zu bytes: %s left out", ASSET_TOTAL_MAX, path);
		free(data);
		return;
	}
	total_bytes += len;
	if (n_assets % 64 == 0)
		assets = xrealloc(assets, (n_assets + 64) * sizeof(*assets));
	asset_t *a = &assets[n_assets++];
	memset(a, 0, sizeof(*a));
	fill_asset(a, xstrdup(path), data, len, asset_type(path));
}

/* Walks dir (the URL prefix rel) depth first; docs/ at the top is not ours. */
static void walk(const char *dir, const char *rel, int depth)
{
	if (depth > ASSET_DEPTH)
		return;
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.' || (depth == 0 && !strcmp(e->d_name, "docs")))
			continue;
		char *file = xasprintf("%s/%s", dir, e->d_name);
		char *path = xasprintf("%s/%s", rel, e->d_name);
		struct stat st;
		if (!lstat(file, &st)) {
			if (S_ISDIR(st.st_mode))
				walk(file, path, depth + 1);
			else if (S_ISREG(st.st_mode))
				add_file(file, path);
		}
		free(file);
		free(path);
	}
	closedir(d);
}

static int by_path(const void *a, const void *b)
{
	return strcmp(((const asset_t *)a)->path, ((const asset_t *)b)->path);
}

static const asset_t *find_plain(const char *path)
{
	asset_t key = { .path = path };
	return n_assets ? bsearch(&key, assets, n_assets, sizeof(*assets), by_path) : NULL;
}

/* scheme://host[:port] of an http(s) URL, appended to sb with a space. */
static void add_origin(strbuf_t *sb, const char *url)
{
	const char *host = strstr(url, "://");
	if (!host)
		return;
	size_t n = (size_t)(host + 3 - url) + strcspn(host + 3, "/?#");
	sb_addf(sb, " %.*s", (int)n, url);
}

static bool same_origin(const char *a, const char *b)
{
	strbuf_t x, y;
	sb_init(&x, 4096);
	sb_init(&y, 4096);
	add_origin(&x, a);
	add_origin(&y, b);
	bool same = !strcmp(x.buf, y.buf);
	sb_release(&x);
	sb_release(&y);
	return same;
}

/*
 * The page CSP.  <model-viewer> loads textures through blob: and data:
 * URLs (fetch, so connect-src) and decodes them in blob: workers; files on
 * a CDN (CDN_URL) are images and GLBs fetched from that origin; Stripe.js
 * needs its script, frames and API origins when a publishable key is set.
 * <model-viewer>'s decoders are WebAssembly ('wasm-unsafe-eval': compiling
 * WebAssembly, not eval of JavaScript), and its shadow root holds a
 * <style> from its template: style-src gets the sha256 of each static
 * <style> body in the installed model-viewer.min.js, so an npm upgrade
 * needs no edit here.  The first style-src hash is the API reference's
 * (docs/index.html); Preact's style properties are not inline <style>.
 */
static void add_sha256(strbuf_t *sb, const void *data, size_t len)
{
	unsigned char d[crypto_hash_sha256_BYTES];
	crypto_hash_sha256(d, data, len);
	char b64[sodium_base64_ENCODED_LEN(sizeof(d), sodium_base64_VARIANT_ORIGINAL)];
	sodium_bin2base64(b64, sizeof(b64), d, sizeof(d), sodium_base64_VARIANT_ORIGINAL);
	sb_addf(sb, " 'sha256-%s'", b64);
}

static void add_model_viewer_styles(strbuf_t *sb)
{
	if (!cfg.vendor_dir)
		return;
	char *file = xasprintf("%s/@google/model-viewer/dist/model-viewer.min.js", cfg.vendor_dir);
	size_t len;
	char *js = (char *)read_all(file, VENDOR_GZ_MAX, &len);
	free(file);
	int n = 0;
	for (const char *p = js; p && n < 8 && (p = strstr(p, "<style>"));) {
		const char *body = p + strlen("<style>");
		const char *end = strstr(body, "</style>");
		if (!end)
			break;
		/* A body with a substitution is not static: no hash fits it. */
		if (!memmem(body, (size_t)(end - body), "${", 2)) {
			add_sha256(sb, body, (size_t)(end - body));
			n++;
		}
		p = end;
	}
	free(js);
}

static char *build_csp(const char *import_map)
{
	unsigned char d[crypto_hash_sha256_BYTES];
	crypto_hash_sha256(d, (const unsigned char *)import_map, strlen(import_map));
	char b64[sodium_base64_ENCODED_LEN(sizeof(d), sodium_base64_VARIANT_ORIGINAL)];
	sodium_bin2base64(b64, sizeof(b64), d, sizeof(d), sodium_base64_VARIANT_ORIGINAL);
	/* The card and PayPal forms load their providers' own scripts and
	 * frames, from the origins their documentation names, only when the
	 * provider is configured. */
	bool stripe = cfg.stripe_publishable_key != NULL, paypal = paypal_configured();
	bool cdn = cfg.cdn_url && cfg.public_url && !same_origin(cfg.cdn_url, cfg.public_url);
	strbuf_t sb;
	sb_init(&sb, 0);
	sb_addf(&sb, "default-src 'self'; script-src 'self' 'sha256-%s' 'wasm-unsafe-eval'%s%s; ", b64,
		stripe ? " https://js.stripe.com https://*.js.stripe.com" : "", paypal ? " https://www.paypal.com" : "");
	sb_adds(&sb, "style-src 'self' 'sha256-RL3ie0nH+Lzz2YNqQN83mnU0J1ot4QL7b99vMdIX99w='");
	add_model_viewer_styles(&sb);
	sb_adds(&sb, "; ");
	sb_adds(&sb, "img-src 'self' data: blob:");
	if (cdn)
		add_origin(&sb, cfg.cdn_url);
	if (paypal)
		sb_adds(&sb, " https://www.paypalobjects.com");
	sb_adds(&sb, "; connect-src 'self' ws: wss: blob: data:");
	if (cdn)
		add_origin(&sb, cfg.cdn_url);
	if (stripe)
		sb_adds(&sb, " https://api.stripe.com");
	if (paypal)
		sb_adds(&sb, " https://www.paypal.com https://api-m.paypal.com https://api-m.sandbox.paypal.com");
	sb_adds(&sb, "; worker-src 'self' blob:; ");
	if (stripe || paypal)
		sb_addf(&sb, "frame-src%s%s; ",
			stripe ? " https://js.stripe.com https://*.js.stripe.com https://hooks.stripe.com" : "",
			paypal ? " https://www.paypal.com https://www.sandbox.paypal.com" : "");
	sb_adds(&sb, "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'");
	return sb_detach(&sb, NULL);
}

static const char *asset_ext(const char *path)
{
	const char *dot = strrchr(strrchr(path, '/'), '.');
	return dot ? dot : "";
}

/* The import map of index.html with an entry per module under /js/;
 * NULL when index.html has none, or it is not JSON. */
static char *build_import_map(const char *text, size_t len)
{
	json_t *map = json_loadb(text, len, 0, NULL);
	json_t *imports = json_object_get(map, "imports");
	if (!json_is_object(imports)) {
		json_decref(map);
		return NULL;
	}
	for (size_t i = 0; i < n_assets; i++)
		if (str_has_prefix(assets[i].path, "/js/") && !strcmp(asset_ext(assets[i].path), ".js"))
			json_object_set_new(imports, assets[i].path, json_string(assets[i].hashed));
	char *out = json_dumps(map, JSON_COMPACT);
	json_decref(map);
	return out;
}

/* index.html with the new import map, and every ="/<asset>" attribute
 * value (stylesheet, icon, entry script) renamed to its hashed name. */
static void build_shell(void)
{
	const asset_t *index = find_plain("/index.html");
	if (!index)
		return;
	const char *html = (const char *)index->data;
	static const char open_tag[] = "<script type=\"importmap\">";
	const char *mo = strstr(html, open_tag);
	const char *mb = mo ? mo + strlen(open_tag) : NULL;
	const char *me = mb ? strstr(mb, "</script>") : NULL;
	char *map = me ? build_import_map(mb, (size_t)(me - mb)) : NULL;
	if (!map) {
		log_error("web: %s/index.html has no valid <script type=\"importmap\">", cfg.web_dir);
		csp = build_csp("");
		return;
	}
	strbuf_t sb;
	sb_init(&sb, 0);
	for (const char *p = html; *p;) {
		if (p == mb) {
			sb_adds(&sb, map);
			p = me;
			continue;
		}
		if (p[0] == '=' && p[1] == '"' && p[2] == '/' && (!mb || p < mb || p >= me)) {
			const char *end = strchr(p + 2, '"');
			char *val = end ? xasprintf("%.*s", (int)(end - p - 2), p + 2) : NULL;
			const asset_t *a = val ? find_plain(val) : NULL;
			free(val);
			if (a) {
				sb_addf(&sb, "=\"%s\"", a->hashed);
				p = end + 1;
				continue;
			}
		}
		sb_addc(&sb, *p++);
	}
	csp = build_csp(map);
	free(map);
	size_t len;
	char *text = sb_detach(&sb, &len);
	/* The span seo.c replaces: <title> up to the end of the description
	 * meta (or just the title), else nothing before </head>. */
	const char *t = strstr(text, "<title>");
	const char *te = t ? strstr(t, "</title>") : NULL;
	const char *dm = te ? strstr(te, "<meta name=\"description\"") : NULL;
	const char *de = dm ? strchr(dm, '>') : NULL;
	const char *head_end = strstr(text, "</head>");
	if (t && te && (!head_end || te < head_end)) {
		shell.head_at = (size_t)(t - text);
		shell.head_end = de && (!head_end || de < head_end) ? (size_t)(de + 1 - text)
								    : (size_t)(te + strlen("</title>") - text);
	} else {
		shell.head_at = shell.head_end = head_end ? (size_t)(head_end - text) : 0;
	}
	fill_asset(&shell.a, xstrdup("/index.html"), (unsigned char *)text, len, index->type);
	have_shell = true;
}

static void init_once(void)
{
	int64_t t0 = mono_us();
	if (cfg.web_dir)
		walk(cfg.web_dir, "", 0);
	qsort(assets, n_assets, sizeof(*assets), by_path);
	build_shell();
	if (!csp)
		csp = build_csp("");
	size_t gz = 0;
	for (size_t i = 0; i < n_assets; i++)
		gz += assets[i].gz ? assets[i].gzlen : assets[i].len;
	log_info("web: %zu files, %zu bytes (%zu compressed) from %s in %lld ms", n_assets, total_bytes, gz,
		 cfg.web_dir ? cfg.web_dir : "(none)", (long long)((mono_us() - t0) / 1000));
	atomic_store(&ready, true);
}

void assets_init(void)
{
	pthread_once(&once, init_once);
}

bool assets_ready(void)
{
	return atomic_load(&ready);
}

const shell_t *assets_shell(void)
{
	return have_shell ? &shell : NULL;
}

const char *assets_csp(void)
{
	return csp;
}

/* "<dir>/<name>.<10 hex>.<ext>" -> its plain name, or NULL. */
static char *unhashed(const char *path, bool *is_hashed)
{
	const char *slash = strrchr(path, '/');
	const char *ext = slash ? strrchr(slash, '.') : NULL;
	*is_hashed = false;
	if (!ext || ext - slash < ASSET_HASH_LEN + 2 || ext[-ASSET_HASH_LEN - 1] != '.')
		return NULL;
	const char *h = ext - ASSET_HASH_LEN;
	for (int i = 0; i < ASSET_HASH_LEN; i++)
		if (!((h[i] >= '0' && h[i] <= '9') || (h[i] >= 'a' && h[i] <= 'f')))
			return NULL;
	*is_hashed = true;
	return xasprintf("%.*s%s", (int)(h - 1 - path), path, ext);
}

const asset_t *asset_find(const char *path, bool *immutable, bool *stale)
{
	*immutable = *stale = false;
	const asset_t *a = find_plain(path);
	if (a)
		return a;
	bool is_hashed;
	char *plain = unhashed(path, &is_hashed);
	a = plain ? find_plain(plain) : NULL;
	free(plain);
	if (!a)
		return NULL;
	if (strcmp(a->hashed, path)) {
		*stale = true;
		return NULL;
	}
	*immutable = true;
	return a;
}

/* ---- the vendor gzip cache ---- */

struct vgz {
	char *file;
	off_t size;
	struct timespec mtime;
	unsigned char *gz; /* NULL: not worth it, or unreadable */
	size_t gzlen;
};

static struct vgz vgz[VENDOR_GZ_ENTRIES];
static size_t n_vgz, vgz_bytes;
static pthread_mutex_t vgz_lock = PTHREAD_MUTEX_INITIALIZER;

static struct vgz *vgz_lookup(const char *file, const struct stat *st)
{
	for (size_t i = 0; i < n_vgz; i++)
		if (vgz[i].size == st->st_size && vgz[i].mtime.tv_sec == st->st_mtim.tv_sec &&
		    vgz[i].mtime.tv_nsec == st->st_mtim.tv_nsec && !strcmp(vgz[i].file, file))
			return &vgz[i];
	return NULL;
}

bool vendor_gz_get(const char *file, const struct stat *st, const unsigned char **gz, size_t *gzlen)
{
	pthread_mutex_lock(&vgz_lock);
	const struct vgz *v = vgz_lookup(file, st);
	/* Too many: every file is then served as it is. */
	bool known = v || n_vgz == VENDOR_GZ_ENTRIES || vgz_bytes >= VENDOR_GZ_TOTAL;
	*gz = v ? v->gz : NULL;
	*gzlen = v ? v->gzlen : 0;
	pthread_mutex_unlock(&vgz_lock);
	return known;
}

void vendor_gz_make(const char *file, const struct stat *st)
{
	pthread_mutex_lock(&vgz_lock);
	bool have = vgz_lookup(file, st) != NULL;
	pthread_mutex_unlock(&vgz_lock);
	if (have)
		return;
	/* Two requests may compress the same file at once: the second result
	 * is dropped below.  Entries are never freed, so a pointer handed out
	 * by vendor_gz_get stays valid. */
	size_t len = 0, gzlen = 0;
	unsigned char *data = read_all(file, VENDOR_GZ_MAX, &len), *gz = NULL;
	if (data && (!gz_compress(data, len, 9, &gz, &gzlen) || gzlen >= len)) {
		free(gz);
		gz = NULL;
	}
	free(data);
	pthread_mutex_lock(&vgz_lock);
	if (!vgz_lookup(file, st) && n_vgz < VENDOR_GZ_ENTRIES) {
		vgz[n_vgz++] = (struct vgz){ .file = xstrdup(file), .size = st->st_size, .mtime = st->st_mtim,
					     .gz = gz, .gzlen = gzlen };
		vgz_bytes += gzlen;
		gz = NULL;
	}
	pthread_mutex_unlock(&vgz_lock);
	free(gz);
}
