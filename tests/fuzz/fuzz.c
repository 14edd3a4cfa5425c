/* fuzz.c: the shared harness of the libFuzzer targets (see fuzz.h). */
#include <arpa/inet.h>
#include <dirent.h>
#include <signal.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <locale.h>
#include <poll.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>
#include "fuzz.h"
#include "api/api.h"
#include "auth/auth.h"
#include "auth/token.h"
#include "cli/cli.h"
#include "core/config.h"
#include "core/log.h"
#include "core/util.h"
#include "db/migrate.h"
#include "http/reply.h"
#include "http/validate.h"
#include "media/image.h"
#include "svc/cache.h"
#include "svc/storage.h"

static char tmp_root[256];
static db_t *db;
static router_t *routes;
static char *tokens[FZ_WHO_COUNT];

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	UNUSED(st);
	UNUSED(flag);
	UNUSED(ftw);
	remove(path);
	return 0;
}

static void cleanup(void)
{
	if (db) {
		db_close(db);
		db = NULL;
	}
	if (tmp_root[0])
		nftw(tmp_root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

db_t *fz_db(void)
{
	return db;
}

router_t *fz_router(void)
{
	return routes;
}

const char *fz_token(enum fz_who who)
{
	return who > FZ_ANON && who < FZ_WHO_COUNT ? tokens[who] : NULL;
}

static int64_t user_id(const char *username)
{
	int64_t id = 0;
	if (DBS(db, &id, "SELECT id FROM users WHERE username_lower = $1", P_TEXT(username)) != 1)
		die("fuzz: demo user %s missing", username);
	return id;
}

static void seed(void)
{
	/* The demo marketplace, exactly as `hwc3d seed-demo` makes it, plus
	 * users and generated models so that lists have several pages. */
	if (!image_init())
		die("fuzz: libvips failed to initialise");
	char *argv[] = { "--scale", "30", "--models", "150", NULL };
	if (cli_seed_demo(4, argv))
		die("fuzz: seed-demo failed");
	db = db_open();
	if (!db)
		die("fuzz: cannot open the database");
	int64_t now = now_ms();
	if (DBX(db, "INSERT INTO users (email, email_normalized, username, username_lower, password_hash,"
		" full_name, user_type, role, is_email_verified, created_at, updated_at)"
		" VALUES ('admin@fuzz.local', 'admin@fuzz.local', 'fuzz_admin', 'fuzz_admin', 'x', 'Fuzz Admin',"
		" 'buyer', 'admin', TRUE, $1, $1)", P_INT(now)) != 1)
		die("fuzz: cannot add the admin: %s", db_errmsg(db));
	/* Profiles with countries and skills, for the user search filters. */
	DBX0(db, "UPDATE users SET country = 'France', skills = '[\"blender\",\"zbrush\"]' WHERE id % 3 = 0");
	DBX0(db, "UPDATE users SET country = 'Japan', skills = '[\"maya\",\"a\"]' WHERE id % 3 = 1");
	tokens[FZ_BUYER] = token_issue(user_id("sam_buyer"), "user", 7 * 86400, 0);
	tokens[FZ_CREATOR] = token_issue(user_id("aria_nova"), "user", 7 * 86400, 0);
	tokens[FZ_ADMIN] = token_issue(user_id("fuzz_admin"), "admin", 7 * 86400, 0);
}

/* A crash ends the fuzzer without atexit: the next run removes the temp
 * directories of fuzzers that are gone (named after their pid). */
static void remove_stale(const char *base)
{
	DIR *d = opendir(base);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d))) {
		long pid;
		char rest[32];
		if (sscanf(e->d_name, "hwc3d-fuzz-%ld-%31s", &pid, rest) != 2 || pid <= 0 ||
		    kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;
		char path[512];
		snprintf(path, sizeof(path), "%s/%s", base, e->d_name);
		nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	}
	closedir(d);
}

void fz_setup(bool with_db)
{
	setlocale(LC_CTYPE, "C.UTF-8");
	if (sodium_init() < 0)
		die("fuzz: libsodium failed to initialise");
	/* tmpfs when there is one: uploads are written and fsync'd per input. */
	const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : (getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	remove_stale(base);
	snprintf(tmp_root, sizeof(tmp_root), "%s/hwc3d-fuzz-%ld-XXXXXX", base, (long)getpid());
	if (!mkdtemp(tmp_root))
		die("fuzz: mkdtemp %s: %s", tmp_root, strerror(errno));
	atexit(cleanup);
	char url[300];
	snprintf(url, sizeof(url), "sqlite:%s/fuzz.db", tmp_root);
	setenv("DATA_DIR", tmp_root, 1);
	setenv("DATABASE_URL", url, 1);
	setenv("JWT_SECRET_KEY", "fuzzing-only-secret-0123456789abcdefghijklmnop", 1);
	setenv("RATE_LIMIT_ENABLED", "false", 1);
	setenv("CORS_ORIGINS", "http://localhost:3000", 1);
	unsetenv("S3_BUCKET_NAME");
	unsetenv("REDIS_URL");
	unsetenv("SMTP_HOST");
	char err[512];
	if (config_load(err, sizeof(err)) || config_load_secret(err, sizeof(err)))
		die("fuzz: settings: %s", err);
	/* Findings are crashes; the log would only slow the fuzzer down. */
	log_set_level(getenv("FUZZ_LOG") ? LOG_DEBUG : LOG_ERROR);
	log_set_access(0);
	if (!store_init(err, sizeof(err)))
		die("fuzz: storage: %s", err);
	routes = routes_build();
	if (with_db)
		seed();
}

/* ---------------------------------------------------------- queries */

size_t fz_unescape(char *s)
{
	return percent_decode_keep_nul(s);
}

static char *plus_unescape(char *s)
{
	for (char *p = s; *p; p++)
		if (*p == '+')
			*p = ' ';
	fz_unescape(s);
	return s;
}

const char **fz_parse_query(arena_t *a, char *query)
{
	size_t n = 1;
	for (const char *p = query; *p; p++)
		n += *p == '&';
	const char **kv = arena_calloc(a, (2 * n + 2) * sizeof(*kv));
	size_t k = 0;
	char *p = query;
	while (p && *p) {
		char *amp = strchr(p, '&');
		if (amp)
			*amp = '\0';
		char *eq = strchr(p, '=');
		if (eq)
			*eq = '\0';
		kv[k++] = plus_unescape(p);
		kv[k++] = eq ? plus_unescape(eq + 1) : NULL;
		p = amp ? amp + 1 : NULL;
	}
	kv[k] = NULL;
	return kv;
}

/* ---------------------------------------------------------- requests */

req_t *fz_req_new(method_t m, const char *target, size_t len, enum fz_who who, const char *const *headers)
{
	arena_t *a = arena_new();
	req_t *req = arena_calloc(a, sizeof(*req));
	req->arena = a;
	req->db = db;
	req->start_us = mono_us();
	snprintf(req->request_id, sizeof(req->request_id), "fuzz");
	snprintf(req->ip, sizeof(req->ip), "127.0.0.1");
	req->method = method_name(m);
	req->method_id = m;
	sb_init(&req->body, 0);
	req->header_kv = headers;

	char *t = arena_strndup(a, target, len);
	char *q = strchr(t, '?');
	if (q)
		*q++ = '\0';
	fz_unescape(t);
	req->path = arena_strdup(a, t);
	req->query_kv = fz_parse_query(a, q ? q : arena_strdup(a, ""));
	router_match(routes, m, t, &req->match);
	if (req->match.status == MATCH_OK) {
		req->route = req->match.route;
		for (int i = 0; i < req->match.nparams; i++)
			if (!utf8_valid(req->match.values[i]))
				req->route = NULL; /* the server answers 404 */
	}
	if (who != FZ_ANON && db && auth_identify(db, a, fz_token(who), &req->user) != AUTH_OK)
		die("fuzz: the demo token of %d does not sign in", (int)who);
	return req;
}

void fz_req_free(req_t *req)
{
	if (req->resp)
		MHD_destroy_response(req->resp);
	if (req->early_fields)
		json_decref(req->early_fields);
	cache_release_claim(req->cache_claim);
	sb_release(&req->body);
	arena_free(req->arena);
}

void fz_check_status(const req_t *req)
{
	/* 503 is a deliberate answer (a provider not configured, the database
	 * busy); the server adds its Retry-After. */
	if (req->status >= 500 && req->status != 503) {
		fprintf(stderr, "fuzz: %s %s answered %d\n", req->method, req->path, req->status);
		abort();
	}
}

/* ---------------------------------------------------------- real HTTP */

static struct MHD_Daemon *daemon_;
static MHD_AccessHandlerCallback cur_handler;
static MHD_RequestCompletedCallback cur_done;

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
				  const char *version, const char *data, size_t *size, void **con_cls)
{
	return cur_handler(cls, conn, url, method, version, data, size, con_cls);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode toe)
{
	if (cur_done)
		cur_done(cls, conn, con_cls, toe);
}

static size_t unescape_cb(void *cls, struct MHD_Connection *conn, char *s)
{
	UNUSED(cls);
	UNUSED(conn);
	return fz_unescape(s);
}

static void start_daemon(void)
{
	/* The server's options that shape request parsing; no listening
	 * socket and no thread: fz_http drives it with MHD_run. */
	daemon_ = MHD_start_daemon(MHD_USE_NO_LISTEN_SOCKET, 0, NULL, NULL, on_request, NULL,
				   MHD_OPTION_CONNECTION_MEMORY_LIMIT, cfg.conn_memory_limit,
				   MHD_OPTION_CONNECTION_TIMEOUT, 5u,
				   MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
				   MHD_OPTION_UNESCAPE_CALLBACK, unescape_cb, NULL,
				   MHD_OPTION_END);
	if (!daemon_)
		die("fuzz: cannot start the in-process libmicrohttpd daemon");
}

bool fz_http(const void *request, size_t len, MHD_AccessHandlerCallback h,
	     MHD_RequestCompletedCallback done, strbuf_t *out)
{
	if (!daemon_)
		start_daemon();
	cur_handler = h;
	cur_done = done;
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv))
		die("fuzz: socketpair: %s", strerror(errno));
	struct sockaddr_in peer = { .sin_family = AF_INET, .sin_port = htons(40000) };
	peer.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (MHD_add_connection(daemon_, sv[1], (struct sockaddr *)&peer, sizeof(peer)) != MHD_YES)
		die("fuzz: MHD_add_connection failed");
	const char *p = request;
	size_t left = len;
	bool got_eof = false, answered = false;
	char buf[16384];
	for (int round = 0; round < 20000 && !got_eof; round++) {
		if (left) {
			ssize_t w = send(sv[0], p, left, MSG_NOSIGNAL);
			if (w > 0) {
				p += w;
				left -= (size_t)w;
			} else if (w < 0 && errno != EAGAIN && errno != EINTR) {
				left = 0; /* MHD closed its side early (an error answer) */
			}
		}
		MHD_run(daemon_);
		for (;;) {
			ssize_t r = recv(sv[0], buf, sizeof(buf), 0);
			if (r > 0) {
				answered = true;
				if (out)
					sb_add(out, buf, (size_t)r);
				continue;
			}
			if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR))
				got_eof = true;
			break;
		}
	}
	close(sv[0]);
	if (getenv("FUZZ_SHOW") && out)
		fprintf(stderr, "fuzz: answer:\n%.*s\n", (int)out->len, out->buf ? out->buf : "");
	/* Let MHD notice the closed peer and release the connection (and run
	 * the completion callback) before the next input. */
	for (int round = 0; round < 50; round++)
		MHD_run(daemon_);
	return answered;
}
