/*
 * The S3 backend: SigV4 against the examples AWS publishes, key encoding,
 * the settings, libcurl's header signature checked by our own signer on a
 * captured request, and (when TEST_S3RVER names the s3rver script) a round
 * trip through a real local S3 stand-in.
 *
 * s3rver does not check V4 signatures, so the AWS vectors and the capture
 * test are what keep the signing honest.
 */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "t.h"
#include "svc/sigv4.h"
#include "svc/storage_s3.h"
#include "core/strbuf.h"
#include "core/util.h"

#define AWS_KEY "AKIAIOSFODNN7EXAMPLE"
#define AWS_SECRET "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
#define AWS_WHEN ((time_t)1369353600) /* 20130524T000000Z */

static const struct sigv4_scope aws_scope = { AWS_KEY, AWS_SECRET, "us-east-1", "s3", AWS_WHEN };

static bool has(const char *hay, const char *needle)
{
	return hay && strstr(hay, needle);
}

/* ------------------------------------------------------------ AWS vectors */

/* "Authenticating Requests: Using Query Parameters", the presigned GET. */
TEST(s3_sigv4_aws_presigned_url_example)
{
	char *url = sigv4_presign(&aws_scope, "GET", "https://examplebucket.s3.amazonaws.com",
				  "examplebucket.s3.amazonaws.com", "/test.txt", 86400, NULL, 0);
	CHECK_STR(url, "https://examplebucket.s3.amazonaws.com/test.txt"
		       "?X-Amz-Algorithm=AWS4-HMAC-SHA256"
		       "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
		       "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
		       "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
	free(url);
	/* out-of-range lifetimes are refused, not clamped */
	CHECK(!sigv4_presign(&aws_scope, "GET", "https://h", "h", "/k", 0, NULL, 0));
	CHECK(!sigv4_presign(&aws_scope, "GET", "https://h", "h", "/k", SIGV4_MAX_EXPIRES + 1, NULL, 0));
	/* our own X-Amz-* parameters cannot be overridden */
	struct sigv4_param evil = { "x-amz-expires", "999999" };
	CHECK(!sigv4_presign(&aws_scope, "GET", "https://h", "h", "/k", 60, &evil, 1));
}

/* Extra signed parameters are encoded and sorted after the X-Amz-* ones. */
TEST(s3_sigv4_presign_with_response_override)
{
	struct sigv4_param cd = { "response-content-disposition", "attachment; filename=\"a b.glb\"" };
	char *url = sigv4_presign(&aws_scope, "GET", "https://examplebucket.s3.amazonaws.com",
				  "examplebucket.s3.amazonaws.com", "/test.txt", 60, &cd, 1);
	const char *query = "X-Amz-Algorithm=AWS4-HMAC-SHA256"
			    "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
			    "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host"
			    "&response-content-disposition=attachment%3B%20filename%3D%22a%20b.glb%22";
	strbuf_t creq;
	sb_init(&creq, 4096);
	sb_addf(&creq, "GET\n/test.txt\n%s\nhost:examplebucket.s3.amazonaws.com\n\nhost\nUNSIGNED-PAYLOAD", query);
	char *sts = sigv4_string_to_sign(&aws_scope, creq.buf);
	char sig[SIGV4_HEX_LEN];
	sigv4_signature(&aws_scope, sts, sig);
	strbuf_t want;
	sb_init(&want, 4096);
	sb_addf(&want, "https://examplebucket.s3.amazonaws.com/test.txt?%s&X-Amz-Signature=%s", query, sig);
	CHECK_STR(url, want.buf);
	free(url);
	free(sts);
	sb_release(&creq);
	sb_release(&want);
}

/* "Signature Calculations for the Authorization Header", GET Object with a
 * Range, every intermediate step. */
TEST(s3_sigv4_aws_get_object_example)
{
	struct sigv4_header h[] = {
		{ "x-amz-date", "20130524T000000Z" },
		{ "Range", "bytes=0-9" },
		{ "x-amz-content-sha256", SIGV4_EMPTY_SHA256 },
		{ "Host", "examplebucket.s3.amazonaws.com" },
	};
	struct sigv4_request r = { "GET", "/test.txt", "", h, ARRAY_LEN(h), SIGV4_EMPTY_SHA256 };
	char *creq = sigv4_canonical_request(&r);
	CHECK_STR(creq, "GET\n/test.txt\n\n"
			"host:examplebucket.s3.amazonaws.com\n"
			"range:bytes=0-9\n"
			"x-amz-content-sha256:" SIGV4_EMPTY_SHA256 "\n"
			"x-amz-date:20130524T000000Z\n\n"
			"host;range;x-amz-content-sha256;x-amz-date\n" SIGV4_EMPTY_SHA256);
	char *sts = sigv4_string_to_sign(&aws_scope, creq);
	CHECK_STR(sts, "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
		       "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
	char sig[SIGV4_HEX_LEN];
	sigv4_signature(&aws_scope, sts, sig);
	CHECK_STR(sig, "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
	char *auth = sigv4_authorization(&aws_scope, &r);
	CHECK_STR(auth, "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
			"SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"
			"Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
	free(creq);
	free(sts);
	free(auth);
}

/* The same page's PUT Object: a '$' in the key, a body hash, a Date header. */
TEST(s3_sigv4_aws_put_object_example)
{
	const char *body = "Welcome to Amazon S3.";
	char hash[SIGV4_HEX_LEN];
	sigv4_sha256_hex(body, strlen(body), hash);
	CHECK_STR(hash, "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
	strbuf_t uri;
	sb_init(&uri, 256);
	sb_addc(&uri, '/');
	sb_add_uri_encoded(&uri, "test$file.text", true);
	CHECK_STR(uri.buf, "/test%24file.text");
	struct sigv4_header h[] = {
		{ "Host", "examplebucket.s3.amazonaws.com" },
		{ "Date", "Fri, 24 May 2013 00:00:00 GMT" },
		{ "x-amz-date", "20130524T000000Z" },
		{ "x-amz-storage-class", "REDUCED_REDUNDANCY" },
		{ "x-amz-content-sha256", hash },
	};
	struct sigv4_request r = { "PUT", uri.buf, NULL, h, ARRAY_LEN(h), hash };
	char *names = sigv4_signed_headers(&r);
	CHECK_STR(names, "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class");
	char *auth = sigv4_authorization(&aws_scope, &r);
	CHECK(has(auth, "Signature=98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd"));
	free(names);
	free(auth);
	sb_release(&uri);
}

/* The same page's GET Bucket (list objects): a canonical query string. */
TEST(s3_sigv4_aws_list_objects_example)
{
	struct sigv4_header h[] = {
		{ "host", "examplebucket.s3.amazonaws.com" },
		{ "x-amz-date", "20130524T000000Z" },
		{ "x-amz-content-sha256", SIGV4_EMPTY_SHA256 },
	};
	struct sigv4_request r = { "GET", "/", "max-keys=2&prefix=J", h, ARRAY_LEN(h), SIGV4_EMPTY_SHA256 };
	char *auth = sigv4_authorization(&aws_scope, &r);
	CHECK(has(auth, "Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7"));
	free(auth);
}

TEST(s3_sigv4_header_values_are_canonicalised)
{
	/* Leading/trailing space trimmed, inner runs folded, names lower-cased. */
	struct sigv4_header h[] = { { "X-Amz-Meta-Note", "  a   b  c " }, { "HOST", "h" } };
	struct sigv4_request r = { "GET", "/", "", h, ARRAY_LEN(h), SIGV4_UNSIGNED_PAYLOAD };
	char *creq = sigv4_canonical_request(&r);
	CHECK_STR(creq, "GET\n/\n\nhost:h\nx-amz-meta-note:a b c\n\nhost;x-amz-meta-note\nUNSIGNED-PAYLOAD");
	free(creq);
	char d[17];
	sigv4_amz_date(AWS_WHEN + 3661, d);
	CHECK_STR(d, "20130524T010101Z");
}

/* ------------------------------------------------------------ encoding */

static char *enc(const char *s, bool keep_slash)
{
	strbuf_t sb;
	sb_init(&sb, 4096);
	sb_add_uri_encoded(&sb, s, keep_slash);
	return sb_detach(&sb, NULL);
}

TEST(s3_uri_encoding)
{
	struct { const char *in; bool slash; const char *out; } cases[] = {
		{ "images/ab12.jpg", true, "images/ab12.jpg" },
		{ "a b/c d.txt", true, "a%20b/c%20d.txt" },
		{ "a b/c d.txt", false, "a%20b%2Fc%20d.txt" },
		{ "models/ünï/日本.glb", true, "models/%C3%BCn%C3%AF/%E6%97%A5%E6%9C%AC.glb" },
		{ "-._~", true, "-._~" },
		{ "a+b=c&d?e#f%g", true, "a%2Bb%3Dc%26d%3Fe%23f%25g" },
		{ "*!'()", true, "%2A%21%27%28%29" },
		{ "//x//", true, "//x//" },
		{ "\x7f\x01", true, "%7F%01" },
	};
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		char *got = enc(cases[i].in, cases[i].slash);
		if (strcmp(got, cases[i].out))
			fprintf(stderr, "    encode(\"%s\") = \"%s\", want \"%s\"\n", cases[i].in, got, cases[i].out);
		CHECK_STR(got, cases[i].out);
		free(got);
	}
}

TEST(s3_sha256_file_streams_and_rewinds)
{
	char path[] = "/tmp/hwc3d-s3-hash.XXXXXX";
	int fd = mkstemp(path);
	CHECK(fd >= 0);
	/* bigger than the 64 KB read buffer, not a multiple of it */
	size_t n = 200001;
	unsigned char *data = xmalloc(n);
	for (size_t i = 0; i < n; i++)
		data[i] = (unsigned char)(i * 7 + 3);
	CHECK(write(fd, data, n) == (ssize_t)n);
	close(fd);
	FILE *f = fopen(path, "rb");
	char a[SIGV4_HEX_LEN], b[SIGV4_HEX_LEN];
	CHECK(f && sigv4_sha256_file(f, a));
	CHECK(f && ftell(f) == 0);
	sigv4_sha256_hex(data, n, b);
	CHECK_STR(a, b);
	if (f)
		fclose(f);
	unlink(path);
	free(data);
}

/* ------------------------------------------------------------ settings */

static const char *s3_vars[] = {
	"S3_BUCKET_NAME", "S3_ENDPOINT", "AWS_ENDPOINT_URL", "S3_REGION", "AWS_REGION",
	"S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
};

static void s3_env_clear(void)
{
	for (size_t i = 0; i < ARRAY_LEN(s3_vars); i++)
		unsetenv(s3_vars[i]);
}

/* Sets "NAME=value" pairs after clearing every S3 setting, then runs
 * s3_init; *enabled and the message come back. */
static bool init_with(bool *enabled, char *err, size_t errlen, const char *const *kv)
{
	s3_env_clear();
	for (; kv && *kv; kv += 2)
		setenv(kv[0], kv[1], 1);
	err[0] = '\0';
	return s3_init(enabled, err, errlen);
}

static void s3_off(void)
{
	bool on;
	char err[256];
	init_with(&on, err, sizeof(err), NULL);
}

TEST(s3_settings)
{
	bool on = true;
	char err[512];
	CHECK(init_with(&on, err, sizeof(err), NULL) && !on);
	CHECK(!s3_presign_get("images/a.jpg", 60));

	const char *no_keys[] = { "S3_BUCKET_NAME", "b1", NULL };
	CHECK(!init_with(&on, err, sizeof(err), no_keys) && !on && has(err, "S3_ACCESS_KEY_ID") && !strchr(err, '\n'));
	const char *half[] = { "S3_BUCKET_NAME", "b1", "S3_ACCESS_KEY_ID", "k", "AWS_SECRET_ACCESS_KEY", "s", NULL };
	CHECK(!init_with(&on, err, sizeof(err), half) && has(err, "S3_SECRET_ACCESS_KEY"));

	const char *bad_eps[] = { "not a url", "ftp://h/", "http://h/?q=1", "http://u:p@h/", "http://h/#f",
				  "127.0.0.1:9000", "http://h/a%20b" };
	for (size_t i = 0; i < ARRAY_LEN(bad_eps); i++) {
		const char *kv[] = { "S3_BUCKET_NAME", "b1", "S3_ACCESS_KEY_ID", "k", "S3_SECRET_ACCESS_KEY", "s",
				     "S3_ENDPOINT", bad_eps[i], NULL };
		bool ok = init_with(&on, err, sizeof(err), kv);
		if (ok)
			fprintf(stderr, "    endpoint \"%s\" was accepted\n", bad_eps[i]);
		CHECK(!ok && !on && has(err, "S3_ENDPOINT"));
	}
	const char *bad_bucket[] = { "S3_BUCKET_NAME", "b/1", "S3_ACCESS_KEY_ID", "k", "S3_SECRET_ACCESS_KEY", "s", NULL };
	CHECK(!init_with(&on, err, sizeof(err), bad_bucket) && has(err, "S3_BUCKET_NAME"));
	const char *bad_region[] = { "S3_BUCKET_NAME", "b1", "S3_ACCESS_KEY_ID", "k", "S3_SECRET_ACCESS_KEY", "s",
				     "S3_REGION", "us:east", NULL };
	CHECK(!init_with(&on, err, sizeof(err), bad_region) && has(err, "S3_REGION"));
	const char *bad_key[] = { "S3_BUCKET_NAME", "b1", "S3_ACCESS_KEY_ID", "k k", "S3_SECRET_ACCESS_KEY", "s", NULL };
	CHECK(!init_with(&on, err, sizeof(err), bad_key) && !on);

	/* Custom endpoint: path style, the port kept in Host, a prefix kept. */
	const char *custom[] = { "S3_BUCKET_NAME", "my-bucket", "S3_ACCESS_KEY_ID", "S3RVER", "S3_SECRET_ACCESS_KEY",
				 "S3RVER", "S3_ENDPOINT", "http://127.0.0.1:9000/", NULL };
	CHECK(init_with(&on, err, sizeof(err), custom) && on);
	char *u = s3_presign_get("models/a b.glb", 300);
	CHECK(has(u, "http://127.0.0.1:9000/my-bucket/models/a%20b.glb?X-Amz-Algorithm=AWS4-HMAC-SHA256"));
	CHECK(has(u, "&X-Amz-Credential=S3RVER%2F") && has(u, "%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date="));
	CHECK(has(u, "&X-Amz-Expires=300&X-Amz-SignedHeaders=host&X-Amz-Signature="));
	free(u);
	/* lifetimes are clamped to what S3 accepts */
	u = s3_presign_get("k", 999999999);
	CHECK(has(u, "X-Amz-Expires=604800&"));
	free(u);
	u = s3_presign_get("k", -5);
	CHECK(has(u, "X-Amz-Expires=1&"));
	free(u);

	const char *prefixed[] = { "S3_BUCKET_NAME", "b1", "AWS_ACCESS_KEY_ID", "k", "AWS_SECRET_ACCESS_KEY", "s",
				   "AWS_ENDPOINT_URL", "https://minio.example:443/s3/", "AWS_REGION", "eu-west-3", NULL };
	CHECK(init_with(&on, err, sizeof(err), prefixed) && on);
	u = s3_presign_get("k", 60);
	CHECK(has(u, "https://minio.example/s3/b1/k?") && has(u, "%2Feu-west-3%2Fs3%2F"));
	free(u);

	/* AWS's default endpoint: virtual-host style when the name allows. */
	const char *aws[] = { "S3_BUCKET_NAME", "hwc-files", "S3_ACCESS_KEY_ID", "k", "S3_SECRET_ACCESS_KEY", "s",
			      "S3_REGION", "eu-central-1", NULL };
	CHECK(init_with(&on, err, sizeof(err), aws) && on);
	u = s3_presign_get("images/x.jpg", 60);
	CHECK(has(u, "https://hwc-files.s3.eu-central-1.amazonaws.com/images/x.jpg?"));
	free(u);
	const char *dotted[] = { "S3_BUCKET_NAME", "files.hwc3d.com", "S3_ACCESS_KEY_ID", "k", "S3_SECRET_ACCESS_KEY",
				 "s", NULL };
	CHECK(init_with(&on, err, sizeof(err), dotted) && on);
	u = s3_presign_get("images/x.jpg", 60);
	CHECK(has(u, "https://s3.us-east-1.amazonaws.com/files.hwc3d.com/images/x.jpg?"));
	free(u);
	s3_off();
}

/* ------------------------------------------------------------ capture */

/* A one-thread HTTP server that answers each connection with the next
 * canned reply and keeps what it was sent. */
#define CAP_MAX 4

struct capture {
	int lfd, port;
	int n_replies, n_got;
	struct { int status; const char *body; } reply[CAP_MAX];
	char *head[CAP_MAX];
	strbuf_t body[CAP_MAX];
	pthread_t th;
};

static int listen_local(int *port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, 8) ||
	    getsockname(fd, (struct sockaddr *)&a, &len)) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	*port = ntohs(a.sin_port);
	return fd;
}

/* The value of header name in a request head, or NULL; the caller frees. */
static char *header_of(const char *head, const char *name)
{
	size_t n = strlen(name);
	for (const char *p = strstr(head, "\r\n"); p; p = strstr(p + 2, "\r\n")) {
		if (!strncasecmp(p + 2, name, n) && p[2 + n] == ':') {
			const char *v = p + 3 + n;
			while (*v == ' ')
				v++;
			const char *e = strstr(v, "\r\n");
			return xstrndup(v, e ? (size_t)(e - v) : strlen(v));
		}
	}
	return NULL;
}

static bool wait_in(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	return poll(&p, 1, ms) == 1;
}

static void *capture_main(void *arg)
{
	struct capture *c = arg;
	for (int i = 0; i < c->n_replies; i++) {
		if (!wait_in(c->lfd, 10000))
			break;
		int fd = accept(c->lfd, NULL, NULL);
		if (fd < 0)
			break;
		strbuf_t in;
		sb_init(&in, 65536);
		char buf[16384];
		char *end = NULL;
		while (!end && wait_in(fd, 5000)) {
			ssize_t n = read(fd, buf, sizeof(buf));
			if (n <= 0)
				break;
			sb_add(&in, buf, (size_t)n);
			end = strstr(in.buf, "\r\n\r\n");
		}
		if (!end) {
			sb_release(&in);
			close(fd);
			break;
		}
		size_t head_len = (size_t)(end - in.buf) + 2;
		c->head[i] = xstrndup(in.buf, head_len);
		sb_init(&c->body[i], 1 << 20);
		sb_add(&c->body[i], end + 4, in.len - head_len - 2);
		sb_release(&in);
		char *cl = header_of(c->head[i], "Content-Length"), *expect = header_of(c->head[i], "Expect");
		size_t want = cl ? strtoul(cl, NULL, 10) : 0;
		bool accept_body = c->reply[i].status < 300;
		if (expect && accept_body && write(fd, "HTTP/1.1 100 Continue\r\n\r\n", 25) != 25)
			want = 0;
		while (accept_body && c->body[i].len < want && wait_in(fd, 5000)) {
			ssize_t n = read(fd, buf, sizeof(buf));
			if (n <= 0)
				break;
			sb_add(&c->body[i], buf, (size_t)n);
		}
		free(cl);
		free(expect);
		strbuf_t out;
		sb_init(&out, 65536);
		const char *body = c->reply[i].body ? c->reply[i].body : "";
		sb_addf(&out, "HTTP/1.1 %d Canned\r\nContent-Length: %zu\r\nContent-Type: application/xml\r\n"
			      "Connection: close\r\n\r\n%s", c->reply[i].status, strlen(body), body);
		if (write(fd, out.buf, out.len) != (ssize_t)out.len)
			fprintf(stderr, "    capture: short write\n");
		sb_release(&out);
		shutdown(fd, SHUT_WR);
		close(fd);
		c->n_got = i + 1;
	}
	return NULL;
}

static bool capture_start(struct capture *c)
{
	c->lfd = listen_local(&c->port);
	return c->lfd >= 0 && pthread_create(&c->th, NULL, capture_main, c) == 0;
}

static void capture_join(struct capture *c)
{
	pthread_join(c->th, NULL);
	close(c->lfd);
}

static void capture_free(struct capture *c)
{
	for (int i = 0; i < c->n_got; i++) {
		free(c->head[i]);
		sb_release(&c->body[i]);
	}
}

static bool capture_init(int port)
{
	char ep[64], err[256];
	snprintf(ep, sizeof(ep), "http://127.0.0.1:%d", port);
	const char *kv[] = { "S3_BUCKET_NAME", "cap-bucket", "S3_ACCESS_KEY_ID", AWS_KEY, "S3_SECRET_ACCESS_KEY",
			     AWS_SECRET, "S3_REGION", "eu-west-1", "S3_ENDPOINT", ep, NULL };
	bool on = false;
	return init_with(&on, err, sizeof(err), kv) && on;
}

/* Recomputes the Authorization header of a captured request with our own
 * signer (checked above against AWS's examples). */
static char *resign(const char *head)
{
	char *auth = header_of(head, "Authorization"), *date = header_of(head, "x-amz-date");
	char *payload = header_of(head, "x-amz-content-sha256");
	char method[16] = "", target[2048] = "";
	const char *sp = strchr(head, ' '), *sp2 = sp ? strchr(sp + 1, ' ') : NULL;
	char *out = NULL;
	struct tm tm = { 0 };
	if (!auth || !date || !payload || !sp || !sp2 || (size_t)(sp - head) >= sizeof(method) ||
	    (size_t)(sp2 - sp - 1) >= sizeof(target) || !strptime(date, "%Y%m%dT%H%M%SZ", &tm))
		goto done;
	memcpy(method, head, (size_t)(sp - head));
	memcpy(target, sp + 1, (size_t)(sp2 - sp - 1));
	const char *sh = strstr(auth, "SignedHeaders=");
	if (!sh)
		goto done;
	char *names = xstrndup(sh + 14, strcspn(sh + 14, ","));
	struct sigv4_header h[16];
	char *vals[16];
	size_t n = 0;
	for (char *save = NULL, *name = strtok_r(names, ";", &save); name && n < 16; name = strtok_r(NULL, ";", &save)) {
		vals[n] = header_of(head, name);
		h[n].name = name;
		h[n].value = vals[n] ? vals[n] : "";
		n++;
	}
	struct sigv4_scope sc = { AWS_KEY, AWS_SECRET, "eu-west-1", "s3", timegm(&tm) };
	char *q = strchr(target, '?');
	if (q)
		*q++ = '\0';
	struct sigv4_request r = { method, target, q ? q : "", h, n, payload };
	out = sigv4_authorization(&sc, &r);
	for (size_t i = 0; i < n; i++)
		free(vals[i]);
	free(names);
done:
	free(auth);
	free(date);
	free(payload);
	return out;
}

static char *write_temp(const void *data, size_t n)
{
	char path[] = "/tmp/hwc3d-s3-put.XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0)
		return NULL;
	bool ok = write(fd, data, n) == (ssize_t)n;
	close(fd);
	return ok ? xstrdup(path) : NULL;
}

static bool count_key(const char *key, int64_t mtime_ms, void *arg)
{
	int *n = arg;
	if (*n == 0)
		CHECK(!strcmp(key, "models/a b.glb") && mtime_ms == 1796644800000LL);
	if (*n == 1)
		CHECK(!strcmp(key, "models/c.glb") && mtime_ms == 1796644801000LL);
	(*n)++;
	return true;
}

/* A listing over two pages: the continuation token goes back encoded, the
 * query is canonical (libcurl signs it as sent) and the signature is the
 * one AWS computes; a bad page fails the listing. */
TEST(s3_list_follows_the_continuation_token)
{
	struct capture c = { .n_replies = 3 };
	c.reply[0].status = 200;
	c.reply[0].body = "<?xml version=\"1.0\"?><ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
			  "<IsTruncated>true</IsTruncated><Contents><Key>models/a b.glb</Key>"
			  "<LastModified>2026-12-07T12:00:00.000Z</LastModified></Contents>"
			  "<NextContinuationToken>t/o+k=n</NextContinuationToken></ListBucketResult>";
	c.reply[1].status = 200;
	c.reply[1].body = "<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>models/c.glb</Key>"
			  "<LastModified>2026-12-07T12:00:01Z</LastModified></Contents></ListBucketResult>";
	c.reply[2].status = 200;
	c.reply[2].body = "<Error><Code>Nope</Code></Error>";
	if (!capture_start(&c)) {
		CHECK(!"capture server");
		return;
	}
	CHECK(capture_init(c.port));
	char err[512] = "";
	int n = 0;
	bool ok = s3_list("models/", 200, count_key, &n, err, sizeof(err));
	if (!ok)
		fprintf(stderr, "    list: %s\n", err);
	CHECK(ok && n == 2);
	CHECK(!s3_list("images/", 200, count_key, &n, err, sizeof(err)) && has(err, "ListBucketResult"));
	capture_join(&c);
	CHECK(c.n_got == 3);
	if (c.n_got >= 2) {
		CHECK(str_has_prefix(c.head[0], "GET /cap-bucket/?list-type=2&prefix=models%2F HTTP/1.1\r\n"));
		CHECK(str_has_prefix(c.head[1],
				     "GET /cap-bucket/?continuation-token=t%2Fo%2Bk%3Dn&list-type=2&prefix=models%2F HTTP/1.1\r\n"));
		for (int i = 0; i < 2; i++) {
			char *sent = header_of(c.head[i], "Authorization"), *mine = resign(c.head[i]);
			const char *s1 = sent ? strstr(sent, "Signature=") : NULL, *s2 = mine ? strstr(mine, "Signature=") : NULL;
			if (!s1 || !s2 || strcmp(s1, s2))
				fprintf(stderr, "    list: curl sent \"%s\"\n    we compute \"%s\"\n", sent, mine);
			CHECK(s1 && s2 && !strcmp(s1, s2));
			free(sent);
			free(mine);
		}
	}
	capture_free(&c);
}

/* libcurl 7.88 signs PUT/GET/DELETE with x-amz-content-sha256 as the
 * payload hash: the signature it sends must be the one AWS computes. */
TEST(s3_curl_requests_carry_valid_signatures)
{
	struct capture c = { .n_replies = 3 };
	c.reply[0].status = 200;
	c.reply[1].status = 200;
	c.reply[1].body = "object bytes";
	c.reply[2].status = 204;
	if (!capture_start(&c)) {
		CHECK(!"capture server");
		return;
	}
	CHECK(capture_init(c.port));
	unsigned char data[70000];
	random_bytes(data, sizeof(data));
	char *src = write_temp(data, sizeof(data));
	char err[512] = "";
	const char *key = "models/a b/ü 1.glb";
	bool put_ok = src && s3_put_file(src, key, "model/gltf-binary", err, sizeof(err));
	if (!put_ok)
		fprintf(stderr, "    put: %s\n", err);
	CHECK(put_ok);
	char dest[] = "/tmp/hwc3d-s3-get.XXXXXX";
	int dfd = mkstemp(dest);
	close(dfd);
	unlink(dest);
	CHECK(s3_get_file(key, dest, err, sizeof(err)));
	CHECK(s3_delete(key));
	capture_join(&c);
	CHECK(c.n_got == 3);

	static const char *methods[] = { "PUT ", "GET ", "DELETE " };
	for (int i = 0; i < c.n_got; i++) {
		const char *head = c.head[i];
		CHECK(str_has_prefix(head, methods[i]));
		CHECK(has(head, " /cap-bucket/models/a%20b/%C3%BC%201.glb HTTP/1.1\r\n"));
		/* curl separates the parts with ", ", we with ",": both are fine */
		char *sent = header_of(head, "Authorization"), *mine = resign(head);
		const char *s1 = sent ? strstr(sent, "Signature=") : NULL, *s2 = mine ? strstr(mine, "Signature=") : NULL;
		if (!s1 || !s2 || strcmp(s1, s2))
			fprintf(stderr, "    %s: curl sent \"%s\"\n    we compute \"%s\"\n", methods[i], sent, mine);
		CHECK(s1 && s2 && !strcmp(s1, s2));
		CHECK(has(sent, "Credential=" AWS_KEY "/") && has(sent, "/eu-west-1/s3/aws4_request"));
		CHECK(has(sent, "x-amz-content-sha256"));
		free(sent);
		free(mine);
	}
	if (c.n_got >= 1) {
		char hash[SIGV4_HEX_LEN];
		sigv4_sha256_hex(data, sizeof(data), hash);
		char *sent = header_of(c.head[0], "x-amz-content-sha256"), *ct = header_of(c.head[0], "Content-Type");
		CHECK_STR(sent, hash);
		CHECK_STR(ct, "model/gltf-binary");
		CHECK(c.body[0].len == sizeof(data) && !memcmp(c.body[0].buf, data, sizeof(data)));
		free(sent);
		free(ct);
	}
	if (c.n_got >= 2) {
		char *sent = header_of(c.head[1], "x-amz-content-sha256");
		CHECK_STR(sent, SIGV4_EMPTY_SHA256);
		free(sent);
	}
	/* the GET wrote exactly the body */
	FILE *f = fopen(dest, "rb");
	char got[64] = "";
	size_t n = f ? fread(got, 1, sizeof(got) - 1, f) : 0;
	got[n] = '\0';
	CHECK_STR(got, "object bytes");
	if (f)
		fclose(f);
	unlink(dest);
	if (src) {
		unlink(src);
		free(src);
	}
	capture_free(&c);
	s3_off();
}

TEST(s3_errors_report_the_code_and_retry_5xx)
{
	struct capture c = { .n_replies = 4 };
	c.reply[0].status = 503;
	c.reply[0].body = "<Error><Code>SlowDown</Code></Error>";
	c.reply[1].status = 200;
	c.reply[2].status = 403;
	c.reply[2].body = "<?xml version=\"1.0\"?><Error><Code>AccessDenied</Code><Message>no</Message></Error>";
	c.reply[3].status = 404;
	c.reply[3].body = "<Error><Code>NoSuchKey</Code></Error>";
	if (!capture_start(&c)) {
		CHECK(!"capture server");
		return;
	}
	CHECK(capture_init(c.port));
	char *src = write_temp("hello", 5);
	char err[512] = "";
	/* 503 SlowDown, then success on the second attempt */
	CHECK(src && s3_put_file(src, "images/a.jpg", NULL, err, sizeof(err)));
	/* 403 is final, and names S3's code */
	err[0] = '\0';
	CHECK(src && !s3_put_file(src, "images/a.jpg", "image/jpeg", err, sizeof(err)));
	CHECK(has(err, "HTTP 403 AccessDenied") && !strchr(err, '\n'));
	/* a failed GET leaves no file behind */
	char dest[] = "/tmp/hwc3d-s3-get.XXXXXX";
	int dfd = mkstemp(dest);
	close(dfd);
	unlink(dest);
	err[0] = '\0';
	CHECK(!s3_get_file("images/a.jpg", dest, err, sizeof(err)));
	CHECK(has(err, "HTTP 404 NoSuchKey"));
	CHECK(access(dest, F_OK) != 0);
	capture_join(&c);
	CHECK(c.n_got == 4);
	if (c.n_got >= 2) {
		char *ct = header_of(c.head[1], "Content-Type");
		CHECK_STR(ct, "application/octet-stream");
		free(ct);
		CHECK(c.body[1].len == 5);
	}
	/* nothing listens now: a transport error, not a hang */
	err[0] = '\0';
	CHECK(src && !s3_put_file(src, "images/a.jpg", "image/jpeg", err, sizeof(err)));
	CHECK(has(err, "S3 PUT images/a.jpg: "));
	if (src) {
		unlink(src);
		free(src);
	}
	capture_free(&c);
	s3_off();
}

/* ------------------------------------------------------------ s3rver */

struct fetched {
	long status;
	strbuf_t body, headers;
};

static size_t fetch_header_cb(char *data, size_t size, size_t n, void *arg)
{
	struct fetched *f = arg;
	return sb_add(&f->headers, data, size * n) ? size * n : 0;
}

static size_t fetch_cb(char *data, size_t size, size_t n, void *arg)
{
	struct fetched *f = arg;
	return sb_add(&f->body, data, size * n) ? size * n : 0;
}

static void fetch(const char *url, struct fetched *f)
{
	sb_init(&f->body, 4 << 20);
	sb_init(&f->headers, 65536);
	f->status = 0;
	CURL *c = curl_easy_init();
	if (!c)
		return;
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, fetch_cb);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, f);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, fetch_header_cb);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, f);
	if (curl_easy_perform(c) == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &f->status);
	curl_easy_cleanup(c);
}

static bool port_open(int port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	bool ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
	if (fd >= 0)
		close(fd);
	return ok;
}

static bool file_equals(const char *path, const void *data, size_t n)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return false;
	unsigned char *buf = xmalloc(n + 1);
	size_t got = fread(buf, 1, n + 1, f);
	fclose(f);
	bool same = got == n && !memcmp(buf, data, n);
	free(buf);
	return same;
}

/* Starts s3rver (TEST_S3RVER, run with node) on a free port with one bucket;
 * the child's pid, or -1. */
static pid_t s3rver_start(const char *script, const char *dir, int *port)
{
	int fd = listen_local(port);
	if (fd < 0)
		return -1;
	close(fd);
	char portstr[16], logpath[512];
	snprintf(portstr, sizeof(portstr), "%d", *port);
	snprintf(logpath, sizeof(logpath), "%s/s3rver.log", dir);
	pid_t pid = fork();
	if (pid == 0) {
		int log = open(logpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (log >= 0) {
			dup2(log, 1);
			dup2(log, 2);
		}
		execlp("node", "node", script, "--directory", dir, "--address", "127.0.0.1", "--port", portstr,
		       "--silent", "--configure-bucket", "hwc-test", (char *)NULL);
		_exit(127);
	}
	for (int i = 0; pid > 0 && i < 300; i++) { /* up to 15 s */
		if (port_open(*port))
			return pid;
		if (waitpid(pid, NULL, WNOHANG) == pid)
			return -1;
		struct timespec ts = { 0, 50000000L };
		nanosleep(&ts, NULL);
	}
	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	return -1;
}

TEST(s3_s3rver_roundtrip)
{
	const char *script = getenv("TEST_S3RVER");
	if (!script || !*script) {
		fprintf(stderr, "    skip s3_s3rver_roundtrip: TEST_S3RVER is not set "
				"(TEST_S3RVER=node_modules/.bin/s3rver after npm ci)\n");
		return;
	}
	char dir[] = "/tmp/hwc3d-s3rver.XXXXXX";
	if (!mkdtemp(dir)) {
		CHECK(!"mkdtemp");
		return;
	}
	int port = 0;
	pid_t pid = s3rver_start(script, dir, &port);
	if (pid < 0) {
		fprintf(stderr, "    s3rver (%s) did not start; see %s/s3rver.log\n", script, dir);
		CHECK(!"s3rver started");
		return;
	}
	char ep[64], err[512] = "";
	snprintf(ep, sizeof(ep), "http://127.0.0.1:%d", port);
	const char *kv[] = { "S3_BUCKET_NAME", "hwc-test", "S3_ENDPOINT", ep, "S3_ACCESS_KEY_ID", "S3RVER",
			     "S3_SECRET_ACCESS_KEY", "S3RVER", "S3_REGION", "us-east-1", NULL };
	bool on = false;
	CHECK(init_with(&on, err, sizeof(err), kv) && on);

	size_t n = 300000;
	unsigned char *data = xmalloc(n);
	random_bytes(data, n);
	char *src = write_temp(data, n);
	const char *key = "models/t e s t/ünï-1.bin";
	bool put_ok = src && s3_put_file(src, key, "application/octet-stream", err, sizeof(err));
	if (!put_ok)
		fprintf(stderr, "    put: %s\n", err);
	CHECK(put_ok);

	char dest[600];
	snprintf(dest, sizeof(dest), "%s/fetched.bin", dir);
	bool get_ok = s3_get_file(key, dest, err, sizeof(err));
	if (!get_ok)
		fprintf(stderr, "    get: %s\n", err);
	CHECK(get_ok && file_equals(dest, data, n));
	/* the destination must be new */
	CHECK(!s3_get_file(key, dest, err, sizeof(err)) && has(err, "cannot create"));
	unlink(dest);

	char *url = s3_presign_get(key, 120);
	struct fetched f;
	fetch(url ? url : "", &f);
	CHECK(f.status == 200 && f.body.len == n && !memcmp(f.body.buf, data, n));
	CHECK(has(f.headers.buf, "Content-Type: application/octet-stream"));
	sb_release(&f.body);
	sb_release(&f.headers);
	free(url);

	/* S3 answers with the Content-Disposition the URL asks for */
	url = s3_presign_get_as(key, 120, "attachment; filename=\"t e s t.bin\"");
	fetch(url ? url : "", &f);
	CHECK(f.status == 200 && f.body.len == n);
	CHECK(has(f.headers.buf, "Content-Disposition: attachment; filename=\"t e s t.bin\"\r\n"));
	sb_release(&f.body);
	sb_release(&f.headers);
	free(url);

	/* an expired presigned URL is refused */
	char *path = enc(key, true);
	char base[128], uri[512];
	snprintf(base, sizeof(base), "http://127.0.0.1:%d", port);
	snprintf(uri, sizeof(uri), "/hwc-test/%s", path);
	struct sigv4_scope old = { "S3RVER", "S3RVER", "us-east-1", "s3", time(NULL) - 3600 };
	char host[64];
	snprintf(host, sizeof(host), "127.0.0.1:%d", port);
	url = sigv4_presign(&old, "GET", base, host, uri, 60, NULL, 0);
	fetch(url ? url : "", &f);
	CHECK(f.status == 403);
	sb_release(&f.body);
	sb_release(&f.headers);
	free(url);
	free(path);

	CHECK(!s3_get_file("models/missing", dest, err, sizeof(err)) && has(err, "NoSuchKey"));
	CHECK(access(dest, F_OK) != 0);
	CHECK(s3_delete(key));
	CHECK(s3_delete(key)); /* already gone: still fine */
	CHECK(!s3_get_file(key, dest, err, sizeof(err)));

	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "    could not remove %s\n", dir);
	if (src) {
		unlink(src);
		free(src);
	}
	free(data);
	s3_off();
}
