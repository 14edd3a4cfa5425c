/*
 * storage_s3.c: the S3 backend (storage_s3.h).
 *
 * Requests go through libcurl, signed by CURLOPT_AWS_SIGV4.  libcurl 7.88
 * does not send x-amz-content-sha256, which S3 requires, but it signs
 * whatever value we put in that header as the payload hash; so a PUT sends
 * the file's real SHA-256 (computed in a streaming pass before the upload),
 * which makes S3 check the bytes it stored against what we hashed, and a
 * GET or DELETE the hash of the empty body.  Presigned URLs are signed by
 * hand in sigv4.c.
 *
 * URLs: virtual-host style (https://<bucket>.s3.<region>.amazonaws.com/<key>)
 * on AWS's default endpoint when the bucket name allows it, path style
 * (<endpoint>/<bucket>/<key>) everywhere else.  Keys are percent-encoded
 * with '/' kept, and the path is sent as is (CURLOPT_PATH_AS_IS), so what
 * libcurl signs is what S3 sees.
 *
 * The settings are read once by s3_init and are read-only afterwards;
 * every call uses its own curl handle: thread safe.
 */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "storage_s3.h"
#include "s3_list.h"
#include "sigv4.h"
#include "../core/config.h"
#include "../core/log.h"
#include "../core/strbuf.h"
#include "../core/util.h"

#define S3_GET_MAX ((uint64_t)200 << 20)        /* s3_get_file refuses bigger objects */
#define S3_PUT_MAX ((uint64_t)5 << 30)          /* the limit of a single PUT */
#define S3_ERR_BODY_MAX 16384                    /* what we keep of an error answer */
#define S3_ATTEMPTS 3                            /* for 5xx answers and dropped connections */
#define S3_LIST_PAGES_MAX 1000                   /* pages one s3_list reads: a million objects */

static struct {
	bool on;
	char *bucket, *region, *access_key, *secret_key;
	char *origin;    /* "https://host[:port]" */
	char *host;      /* the Host header clients send */
	char *path_base; /* "" (virtual host) or "[/prefix]/<bucket>" */
	char *sigv4;     /* "aws:amz:<region>:s3" */
	int list_page;   /* max-keys of a listing (S3_LIST_PAGE_SIZE), 0: S3's default (1000) */
} s3;

static void settings_free(void)
{
	free(s3.bucket);
	free(s3.region);
	free(s3.access_key);
	free(s3.secret_key);
	free(s3.origin);
	free(s3.host);
	free(s3.path_base);
	free(s3.sigv4);
	memset(&s3, 0, sizeof(s3));
}

/* ------------------------------------------------------------ settings */

static bool chars_in(const char *s, const char *extra)
{
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
		      strchr(extra, *s)))
			return false;
	return true;
}

/* Printable ASCII without spaces: what an access key or secret can be. */
static bool credential_ok(const char *s)
{
	if (strlen(s) > 256)
		return false;
	for (; *s; s++)
		if (*s <= ' ' || *s > '~')
			return false;
	return true;
}

/* Can the bucket be a DNS label under s3.<region>.amazonaws.com?  Dotted
 * names would not match AWS's wildcard certificate, so they go path style. */
static bool bucket_vhost_ok(const char *b)
{
	size_t n = strlen(b);
	return n >= 3 && n <= 63 && strspn(b, "abcdefghijklmnopqrstuvwxyz0123456789-") == n && b[0] != '-' &&
	       b[n - 1] != '-';
}

/* Splits endpoint into origin, Host header and path prefix (no trailing
 * slash).  False, with a message, when it is not a plain http(s) URL. */
static bool parse_endpoint(const char *endpoint, const char *name, char *err, size_t errlen)
{
	bool ok = false;
	char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL, *extra = NULL;
	CURLU *u = curl_url();
	if (!u)
		die("out of memory (curl_url)");
	if (curl_url_set(u, CURLUPART_URL, endpoint, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || !*host) {
		snprintf(err, errlen, "%s is not a URL: \"%.100s\" (expected http(s)://host[:port])", name, endpoint);
		goto out;
	}
	if (strcmp(scheme, "http") && strcmp(scheme, "https")) {
		snprintf(err, errlen, "%s must be an http:// or https:// URL, not \"%.100s\"", name, endpoint);
		goto out;
	}
	if (curl_url_get(u, CURLUPART_QUERY, &extra, 0) == CURLUE_OK ||
	    curl_url_get(u, CURLUPART_FRAGMENT, &extra, 0) == CURLUE_OK ||
	    curl_url_get(u, CURLUPART_USER, &extra, 0) == CURLUE_OK) {
		snprintf(err, errlen, "%s must have no user, query or fragment: \"%.100s\"", name, endpoint);
		goto out;
	}
	if (curl_url_get(u, CURLUPART_PATH, &path, 0) != CURLUE_OK || !chars_in(path, "/-._~")) {
		snprintf(err, errlen, "%s has an unusable path: \"%.100s\"", name, endpoint);
		goto out;
	}
	size_t plen = strlen(path);
	while (plen > 0 && path[plen - 1] == '/')
		plen--;
	if (curl_url_get(u, CURLUPART_PORT, &port, 0) != CURLUE_OK) {
		curl_free(port);
		port = NULL;
	}
	if (port && !strcmp(port, strcmp(scheme, "https") ? "80" : "443")) {
		curl_free(port);
		port = NULL; /* clients leave a default port out of Host */
	}
	if (strlen(host) + plen + strlen(s3.bucket) > 1024) {
		/* the 4 KB strbufs below then always hold them whole */
		snprintf(err, errlen, "%s with S3_BUCKET_NAME is too long", name);
		goto out;
	}
	strbuf_t sb;
	sb_init(&sb, 4096);
	sb_addf(&sb, "%s%s%s", host, port ? ":" : "", port ? port : "");
	s3.host = sb_detach(&sb, NULL);
	sb_init(&sb, 4096);
	sb_addf(&sb, "%s://%s", scheme, s3.host);
	s3.origin = sb_detach(&sb, NULL);
	sb_init(&sb, 4096);
	sb_add(&sb, path, plen);
	sb_addf(&sb, "/%s", s3.bucket);
	s3.path_base = sb_detach(&sb, NULL);
	ok = true;
out:
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_free(path);
	curl_free(extra);
	curl_url_cleanup(u);
	return ok;
}

/* The first setting of names that is set, or NULL. */
static const char *first_of(const char *a, const char *b)
{
	const char *v = config_get(a);
	return v ? v : config_get(b);
}

bool s3_init(bool *enabled, char *err, size_t errlen)
{
	settings_free();
	*enabled = false;
	const char *bucket = config_get("S3_BUCKET_NAME");
	if (!bucket)
		return true;
	if (strlen(bucket) > 255 || !chars_in(bucket, "-._")) {
		snprintf(err, errlen, "S3_BUCKET_NAME \"%.64s\" is not a bucket name (letters, digits, - . _)", bucket);
		return false;
	}
	const char *region = first_of("S3_REGION", "AWS_REGION");
	if (!region)
		region = "us-east-1";
	if (strlen(region) > 64 || !chars_in(region, "-_.")) {
		snprintf(err, errlen, "S3_REGION \"%.64s\" is not a region name", region);
		return false;
	}
	/* The key pair comes from one family of names, never half from each. */
	const char *key_name = "S3_ACCESS_KEY_ID", *secret_name = "S3_SECRET_ACCESS_KEY";
	if (!config_get(key_name) && !config_get(secret_name)) {
		key_name = "AWS_ACCESS_KEY_ID";
		secret_name = "AWS_SECRET_ACCESS_KEY";
	}
	const char *key = config_get(key_name), *secret = config_get(secret_name);
	if (!key || !secret) {
		snprintf(err, errlen, "S3_BUCKET_NAME is set but %s is missing (set S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY)",
			 key ? secret_name : key_name);
		return false;
	}
	if (!credential_ok(key) || !credential_ok(secret)) {
		snprintf(err, errlen, "%s or %s holds characters an S3 key cannot have", key_name, secret_name);
		return false;
	}
	s3.bucket = xstrdup(bucket);
	s3.region = xstrdup(region);
	s3.access_key = xstrdup(key);
	s3.secret_key = xstrdup(secret);
	strbuf_t sb;
	sb_init(&sb, 256);
	sb_addf(&sb, "aws:amz:%s:s3", region);
	s3.sigv4 = sb_detach(&sb, NULL);

	const char *ep_name = config_get("S3_ENDPOINT") ? "S3_ENDPOINT" : "AWS_ENDPOINT_URL";
	const char *endpoint = config_get(ep_name);
	if (endpoint) {
		if (!parse_endpoint(endpoint, ep_name, err, errlen)) {
			settings_free();
			return false;
		}
	} else if (bucket_vhost_ok(bucket)) {
		sb_init(&sb, 512);
		sb_addf(&sb, "%s.s3.%s.amazonaws.com", bucket, region);
		s3.host = sb_detach(&sb, NULL);
		sb_init(&sb, 512);
		sb_addf(&sb, "https://%s", s3.host);
		s3.origin = sb_detach(&sb, NULL);
		s3.path_base = xstrdup("");
	} else {
		sb_init(&sb, 512);
		sb_addf(&sb, "https://s3.%s.amazonaws.com", region);
		bool ok = parse_endpoint(sb.buf, "the default S3 endpoint", err, errlen);
		sb_release(&sb);
		if (!ok) {
			settings_free();
			return false;
		}
	}
	/* Smaller listing pages: for tests that cross a page boundary. */
	const char *page = config_get("S3_LIST_PAGE_SIZE");
	if (page) {
		char *end = NULL;
		errno = 0;
		long v = strtol(page, &end, 10);
		if (errno || end == page || *end || v < 1 || v > 1000) {
			snprintf(err, errlen, "S3_LIST_PAGE_SIZE \"%.32s\" is not a number from 1 to 1000", page);
			settings_free();
			return false;
		}
		s3.list_page = (int)v;
	}
	s3.on = true;
	*enabled = true;
	log_info("storage: S3 bucket %s at %s%s", s3.bucket, s3.origin, s3.path_base);
	return true;
}

/* ------------------------------------------------------------ requests */

/* origin + path_base + "/" + encoded key; the caller frees. */
static char *object_path(const char *key)
{
	strbuf_t sb;
	sb_init(&sb, 8192);
	sb_adds(&sb, s3.path_base);
	sb_addc(&sb, '/');
	sb_add_uri_encoded(&sb, key, true);
	if (sb.overflow) {
		sb_release(&sb);
		return NULL;
	}
	return sb_detach(&sb, NULL);
}

struct s3_op {
	const char *method, *key;
	const char *query; /* canonical (sorted, encoded) query string, or NULL */
	/* PUT: the body, its size and hash, its type */
	FILE *body;
	curl_off_t body_size;
	const char *payload_hash, *content_type;
	/* GET: where a 2xx body goes, and the cap */
	FILE *out;
	uint64_t max, got;
	bool too_big, write_failed;
	/* GET into memory instead (op->max is the cap) */
	strbuf_t *mem;
	long timeout_s;
	/* results */
	long status;
	strbuf_t answer; /* the body of a non-2xx answer, capped */
	CURL *c;
};

static size_t write_cb(char *data, size_t size, size_t n, void *arg)
{
	struct s3_op *op = arg;
	size_t len = size * n;
	long status = 0;
	curl_easy_getinfo(op->c, CURLINFO_RESPONSE_CODE, &status);
	if (op->out && status >= 200 && status <= 299) {
		if (len > op->max - op->got) {
			op->too_big = true;
			return 0; /* aborts the transfer */
		}
		if (fwrite(data, 1, len, op->out) != len) {
			op->write_failed = true;
			return 0;
		}
		op->got += len;
		return len;
	}
	if (op->mem && status >= 200 && status <= 299) {
		if (len > op->max - op->got || !sb_add(op->mem, data, len)) {
			op->too_big = true;
			return 0;
		}
		op->got += len;
		return len;
	}
	size_t room = S3_ERR_BODY_MAX - op->answer.len;
	sb_add(&op->answer, data, MIN(len, room));
	return len;
}

static int seek_cb(void *arg, curl_off_t offset, int origin)
{
	FILE *f = arg;
	return fseeko(f, (off_t)offset, origin) ? CURL_SEEKFUNC_FAIL : CURL_SEEKFUNC_OK;
}

/* The <Code> of an S3 error answer into out, or "" when there is none. */
static void error_code(const char *body, char *out, size_t outlen)
{
	out[0] = '\0';
	const char *p = body ? strstr(body, "<Code>") : NULL;
	if (!p)
		return;
	p += 6;
	size_t n = 0;
	while (n + 1 < outlen && ((p[n] >= 'A' && p[n] <= 'Z') || (p[n] >= 'a' && p[n] <= 'z') ||
				  (p[n] >= '0' && p[n] <= '9') || p[n] == '.'))
		n++;
	if (strncmp(p + n, "</Code>", 7))
		n = 0;
	memcpy(out, p, n);
	out[n] = '\0';
}

static bool transient(CURLcode rc, long status)
{
	if (rc == CURLE_OK)
		return status == 500 || status == 502 || status == 503 || status == 504;
	return rc == CURLE_COULDNT_CONNECT || rc == CURLE_OPERATION_TIMEDOUT || rc == CURLE_SEND_ERROR ||
	       rc == CURLE_RECV_ERROR || rc == CURLE_GOT_NOTHING || rc == CURLE_PARTIAL_FILE;
}

/* Puts a FILE back to its start (and empties it when we write to it). */
static bool restart_file(FILE *f, bool truncate)
{
	if (truncate && (fflush(f) || ftruncate(fileno(f), 0)))
		return false;
	rewind(f);
	return true;
}

/* One attempt; the curl result. */
static CURLcode perform_once(struct s3_op *op, const char *url)
{
	CURL *c = curl_easy_init();
	if (!c)
		return CURLE_FAILED_INIT;
	op->c = c;
	strbuf_t h;
	sb_init(&h, 4096);
	sb_addf(&h, "x-amz-content-sha256: %s", op->payload_hash ? op->payload_hash : SIGV4_EMPTY_SHA256);
	struct curl_slist *hdrs = curl_slist_append(NULL, h.buf);
	if (op->content_type) {
		sb_reset(&h);
		sb_addf(&h, "Content-Type: %s", op->content_type);
		hdrs = curl_slist_append(hdrs, h.buf);
	}
	sb_release(&h);
	if (!hdrs)
		die("out of memory (curl_slist_append)");

	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
	/* A transfer slower than 1 KB/s for 30 s has stalled. */
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1024L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 30L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, op->timeout_s);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "hwc3d");
	curl_easy_setopt(c, CURLOPT_AWS_SIGV4, s3.sigv4);
	curl_easy_setopt(c, CURLOPT_USERNAME, s3.access_key);
	curl_easy_setopt(c, CURLOPT_PASSWORD, s3.secret_key);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, op);
	if (op->body) {
		curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(c, CURLOPT_READDATA, op->body); /* the default read callback is fread */
		curl_easy_setopt(c, CURLOPT_SEEKFUNCTION, seek_cb);
		curl_easy_setopt(c, CURLOPT_SEEKDATA, op->body);
		curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, op->body_size);
	} else if (strcmp(op->method, "GET")) {
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, op->method);
	}
	if (op->out || op->mem)
		curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)op->max);

	CURLcode rc = curl_easy_perform(c);
	op->status = 0;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &op->status);
	curl_easy_cleanup(c);
	curl_slist_free_all(hdrs);
	op->c = NULL;
	return rc;
}

/* Runs op, retrying transient failures.  True on a 2xx answer; otherwise
 * op->status is the last HTTP status (0 for none) and err says why. */
static bool s3_run(struct s3_op *op, char *err, size_t errlen)
{
	char *path = object_path(op->key);
	if (!path) {
		snprintf(err, errlen, "S3 %s: key too long", op->method);
		return false;
	}
	strbuf_t url;
	sb_init(&url, 16384);
	sb_addf(&url, "%s%s%s%s", s3.origin, path, op->query ? "?" : "", op->query ? op->query : "");
	free(path);
	sb_init(&op->answer, S3_ERR_BODY_MAX + 1);

	bool ok = false;
	for (int attempt = 1;; attempt++) {
		sb_reset(&op->answer);
		op->got = 0;
		op->too_big = op->write_failed = false;
		if (op->mem)
			sb_reset(op->mem);
		if ((op->body && !restart_file(op->body, false)) || (op->out && !restart_file(op->out, true))) {
			snprintf(err, errlen, "S3 %s %.200s: cannot rewind a local file: %s", op->method, op->key,
				 strerror(errno));
			break;
		}
		CURLcode rc = perform_once(op, url.buf);
		if (rc == CURLE_OK && op->status >= 200 && op->status <= 299) {
			ok = true;
			break;
		}
		if (op->too_big || rc == CURLE_FILESIZE_EXCEEDED) {
			snprintf(err, errlen, "S3 %s %.200s: the object is larger than %llu MB", op->method, op->key,
				 (unsigned long long)(op->max >> 20));
			break;
		}
		if (op->write_failed) {
			snprintf(err, errlen, "S3 %s %.200s: cannot write the local file: %s", op->method, op->key,
				 strerror(errno));
			break;
		}
		if (rc != CURLE_OK) {
			snprintf(err, errlen, "S3 %s %.200s: %s", op->method, op->key, curl_easy_strerror(rc));
		} else {
			char code[72];
			error_code(op->answer.buf, code, sizeof(code));
			snprintf(err, errlen, "S3 %s %.200s: HTTP %ld%s%s", op->method, op->key, op->status,
				 *code ? " " : "", code);
		}
		if (attempt >= S3_ATTEMPTS || !transient(rc, op->status))
			break;
		log_warn("%s; retrying", err);
		/* 250 ms, then 1 s */
		struct timespec ts = { 0, 250000000L };
		if (attempt == 2)
			ts = (struct timespec){ 1, 0 };
		nanosleep(&ts, NULL);
	}
	sb_release(&op->answer);
	sb_release(&url);
	return ok;
}

/* ------------------------------------------------------------ listing */

/* The query of one ListObjectsV2 request, canonical as SigV4 wants it
 * (names sorted, values encoded with '/' as %2F): libcurl 7.88 signs the
 * query exactly as it is sent.  The caller frees. */
static char *list_query(const char *prefix, const char *token)
{
	strbuf_t q;
	sb_init(&q, 16384);
	if (token) {
		sb_adds(&q, "continuation-token=");
		sb_add_uri_encoded(&q, token, false);
		sb_addc(&q, '&');
	}
	sb_adds(&q, "list-type=2");
	if (s3.list_page)
		sb_addf(&q, "&max-keys=%d", s3.list_page);
	sb_adds(&q, "&prefix=");
	sb_add_uri_encoded(&q, prefix, false);
	if (q.overflow) {
		sb_release(&q);
		return NULL;
	}
	return sb_detach(&q, NULL);
}

bool s3_list(const char *prefix, size_t key_max, s3_visit_fn fn, void *arg, char *err, size_t errlen)
{
	if (!s3.on) {
		snprintf(err, errlen, "S3 storage is not configured");
		return false;
	}
	strbuf_t body;
	sb_init(&body, S3_LIST_ANSWER_MAX + 1);
	char *token = NULL;
	bool ok = false, more = true;
	int pages = 0;
	while (more) {
		if (pages++ >= S3_LIST_PAGES_MAX) {
			snprintf(err, errlen, "S3 list %.100s: more than %d pages; the rest is left for the next sweep",
				 prefix, S3_LIST_PAGES_MAX);
			break;
		}
		char *query = list_query(prefix, token);
		if (!query) {
			snprintf(err, errlen, "S3 list %.100s: the request is too long", prefix);
			break;
		}
		struct s3_op op = { .method = "GET", .key = "", .query = query, .mem = &body,
				    .max = S3_LIST_ANSWER_MAX, .timeout_s = 120 };
		char rerr[512];
		bool got = s3_run(&op, rerr, sizeof(rerr));
		free(query);
		if (!got) {
			snprintf(err, errlen, "S3 list %.100s: %s", prefix, rerr);
			break;
		}
		struct s3_list_page page;
		char perr[256];
		if (!s3_list_parse(body.buf, body.len, key_max, &page, perr, sizeof(perr))) {
			snprintf(err, errlen, "S3 list %.100s: %s", prefix, perr);
			s3_list_page_free(&page);
			break;
		}
		for (size_t i = 0; i < page.n && more; i++)
			more = fn(page.items[i].key, page.items[i].mtime_ms, arg);
		if (more && page.truncated) {
			if (token && !strcmp(token, page.next_token)) {
				snprintf(err, errlen, "S3 list %.100s: the same continuation token twice", prefix);
				s3_list_page_free(&page);
				break;
			}
			free(token);
			token = page.next_token;
			page.next_token = NULL;
		} else {
			more = false;
			ok = true;
		}
		s3_list_page_free(&page);
	}
	free(token);
	sb_release(&body);
	return ok;
}

/* ------------------------------------------------------------ operations */

bool s3_put_file(const char *path, const char *key, const char *content_type, char *err, size_t errlen)
{
	if (!s3.on) {
		snprintf(err, errlen, "S3 storage is not configured");
		return false;
	}
	if (!content_type || !*content_type)
		content_type = "application/octet-stream";
	for (const char *p = content_type; *p; p++)
		if ((unsigned char)*p < ' ' || *p == 0x7f) {
			snprintf(err, errlen, "S3 PUT %.200s: bad content type", key);
			return false;
		}
	FILE *f = fopen(path, "rbe");
	if (!f) {
		snprintf(err, errlen, "S3 PUT %.200s: cannot open %.200s: %s", key, path, strerror(errno));
		return false;
	}
	bool ok = false;
	struct stat st;
	struct s3_op op = { .method = "PUT", .key = key, .body = f, .content_type = content_type,
			    .timeout_s = 3600 };
	char hash[SIGV4_HEX_LEN];
	if (fstat(fileno(f), &st) || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "S3 PUT %.200s: %.200s is not a regular file", key, path);
	} else if ((uint64_t)st.st_size > S3_PUT_MAX) {
		snprintf(err, errlen, "S3 PUT %.200s: the file is larger than 5 GB", key);
	} else if (!sigv4_sha256_file(f, hash)) {
		snprintf(err, errlen, "S3 PUT %.200s: cannot read %.200s", key, path);
	} else {
		op.body_size = (curl_off_t)st.st_size;
		op.payload_hash = hash;
		ok = s3_run(&op, err, errlen);
	}
	fclose(f);
	return ok;
}

bool s3_get_file(const char *key, const char *dest_path, char *err, size_t errlen)
{
	if (!s3.on) {
		snprintf(err, errlen, "S3 storage is not configured");
		return false;
	}
	int fd = open(dest_path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0640);
	if (fd < 0) {
		snprintf(err, errlen, "S3 GET %.200s: cannot create %.200s: %s", key, dest_path, strerror(errno));
		return false;
	}
	FILE *out = fdopen(fd, "wb");
	if (!out)
		die("out of memory (fdopen)");
	struct s3_op op = { .method = "GET", .key = key, .out = out, .max = S3_GET_MAX, .timeout_s = 3600 };
	bool ok = s3_run(&op, err, errlen);
	if (fclose(out) && ok) {
		snprintf(err, errlen, "S3 GET %.200s: cannot write %.200s: %s", key, dest_path, strerror(errno));
		ok = false;
	}
	if (!ok)
		unlink(dest_path);
	return ok;
}

bool s3_delete(const char *key)
{
	if (!s3.on)
		return false;
	char err[512];
	struct s3_op op = { .method = "DELETE", .key = key, .timeout_s = 60 };
	if (s3_run(&op, err, sizeof(err)) || op.status == 404)
		return true;
	log_warn("%s", err);
	return false;
}

char *s3_presign_get_as(const char *key, int ttl_s, const char *content_disposition)
{
	if (!s3.on)
		return NULL;
	char *path = object_path(key);
	if (!path)
		return NULL;
	struct sigv4_scope sc = {
		.access_key = s3.access_key,
		.secret_key = s3.secret_key,
		.region = s3.region,
		.service = "s3",
		.when = time(NULL),
	};
	struct sigv4_param cd = { "response-content-disposition", content_disposition };
	char *url = sigv4_presign(&sc, "GET", s3.origin, s3.host, path, MAX(1, MIN(ttl_s, SIGV4_MAX_EXPIRES)),
				  &cd, content_disposition ? 1 : 0);
	free(path);
	return url;
}

char *s3_presign_get(const char *key, int ttl_s)
{
	return s3_presign_get_as(key, ttl_s, NULL);
}
