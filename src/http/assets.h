/*
 * assets.h: the web client's files, read once, hashed and compressed
 * (assets.c).
 *
 * assets_init() walks WEB_DIR (all but docs/, which static.c serves from
 * disk), keeps every file's bytes, a short content hash, and a gzip copy
 * when gzip makes it smaller; then builds the HTML shell from index.html:
 * an import map entry per module under /js/ ("/js/x.js" -> "/js/x.<hash>.js"),
 * hashed stylesheet, icon and entry-script names, and the page CSP whose
 * script-src hash is that of the final import map.  It is slow (reads and
 * compresses the whole client: tens of milliseconds), runs once
 * (pthread_once), and must not run on a poll thread: static.c calls it
 * through the worker pool on the first static request, and a caller may
 * call it at start-up.  Everything it builds is read-only afterwards, so
 * any thread may read it without a lock once assets_ready() is true.
 *
 * A change to a file under web/ needs a server restart.
 *
 * The vendor cache keeps the gzip copies of /vendor/ files (npm packages
 * of VENDOR_DIR), made on demand on a worker (vendor_gz_make), keyed by
 * file name, size and mtime; entries live until the process ends.
 */
#ifndef HWC_ASSETS_H
#define HWC_ASSETS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

#define ASSET_HASH_LEN 10 /* hex digits of the content hash in a file name */

typedef struct asset {
	const char *path;   /* "/js/app.js" */
	const char *hashed; /* "/js/app.<hash>.js" */
	const char *type;   /* Content-Type */
	const unsigned char *data;
	size_t len;
	const unsigned char *gz; /* NULL when gzip does not make it smaller */
	size_t gzlen;
	char etag[ASSET_HASH_LEN + 3];    /* "\"<hash>\"" */
	char gz_etag[ASSET_HASH_LEN + 6]; /* "\"<hash>-gz\"" */
} asset_t;

/* The HTML shell every page answers with; head_at..head_end is the
 * <title> and description meta that seo.c replaces for shared links. */
typedef struct shell {
	asset_t a;
	size_t head_at, head_end;
} shell_t;

/* Builds everything once (see above); later calls return at once. */
void assets_init(void);
bool assets_ready(void);

/* The asset for a URL path: its plain name (*immutable false) or its
 * hashed one (*immutable true).  NULL when neither; *stale is then true
 * for a hashed name of a known file with another hash. */
const asset_t *asset_find(const char *path, bool *immutable, bool *stale);

/* The shell, or NULL when WEB_DIR has no index.html. */
const shell_t *assets_shell(void);
/* The Content-Security-Policy of pages (and of the client's files). */
const char *assets_csp(void);

/* The content type for a file name by its extension. */
const char *asset_type(const char *name);
/* True for types worth compressing (text, JavaScript, JSON, SVG). */
bool asset_compressible(const char *type);
/* A short content hash of data as ASSET_HASH_LEN hex digits (+ NUL). */
void asset_hash(const void *data, size_t len, char out[ASSET_HASH_LEN + 1]);
/* data gzip-compressed at level (1-9) into a malloc'd *out; false when it
 * fails. */
bool gz_compress(const void *data, size_t len, int level, unsigned char **out, size_t *outlen);

/* The gzip copy of a vendor file for its (size, mtime): true when it has
 * been looked at, with *gz NULL when gzip does not help or the file could
 * not be read. */
bool vendor_gz_get(const char *file, const struct stat *st, const unsigned char **gz, size_t *gzlen);
/* Reads and compresses it (slow: on a worker only). */
void vendor_gz_make(const char *file, const struct stat *st);

#endif
