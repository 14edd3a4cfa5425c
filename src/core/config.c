#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <libpq-fe.h>
#include <sodium.h>
#include "config.h"
#include "num.h"
#include "log.h"
#include "util.h"

struct config cfg;

struct kv {
	char *key, *val;
};
static struct kv *dotenv;
static size_t n_dotenv;

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
		s[--n] = '\0';
	return s;
}

/* KEY=VALUE lines; "export " prefix, # comments, single or double quotes. */
static void load_dotenv(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return;
	char line[4096];
	while (fgets(line, sizeof(line), f)) {
		char *s = trim(line);
		if (!*s || *s == '#')
			continue;
		if (str_has_prefix(s, "export "))
			s = trim(s + 7);
		char *eq = strchr(s, '=');
		if (!eq)
			continue;
		*eq = '\0';
		char *key = trim(s), *val = trim(eq + 1);
		size_t vl = strlen(val);
		if (vl >= 2 && (val[0] == '"' || val[0] == '\'') && val[vl - 1] == val[0]) {
			val[vl - 1] = '\0';
			val++;
		} else {
			char *hash = strstr(val, " #");
			if (hash)
				*hash = '\0';
			val = trim(val);
		}
		dotenv = xrealloc(dotenv, (n_dotenv + 1) * sizeof(*dotenv));
		dotenv[n_dotenv].key = xstrdup(key);
		dotenv[n_dotenv].val = xstrdup(val);
		n_dotenv++;
	}
	fclose(f);
}

const char *config_get(const char *name)
{
	const char *v = getenv(name);
	if (v && *v)
		return v;
	for (size_t i = n_dotenv; i-- > 0;)
		if (!strcmp(dotenv[i].key, name))
			return *dotenv[i].val ? dotenv[i].val : NULL;
	return NULL;
}

/* True when name is present (environment first, then .env) with an empty
 * or blank value: config_get() reports that as unset, which for a secret
 * would silently pick the fallback. */
static bool set_but_empty(const char *name)
{
	const char *v = getenv(name);
	if (!v) {
		for (size_t i = n_dotenv; i-- > 0 && !v;)
			if (!strcmp(dotenv[i].key, name))
				v = dotenv[i].val;
		if (!v)
			return false;
	}
	return v[strspn(v, " \t\r\n")] == '\0';
}

static const char *get_or(const char *name, const char *def)
{
	const char *v = config_get(name);
	return v ? v : def;
}

bool parse_rate(const char *s, struct rate_rule *out)
{
	const char *slash = strchr(s, '/');
	if (!slash || slash == s || slash - s > 12)
		return false;
	char num[16];
	memcpy(num, s, (size_t)(slash - s));
	num[slash - s] = '\0';
	int64_t n;
	if (!parse_i64_range(num, 1, 1000000000, &n))
		return false;
	static const struct { const char *name; int64_t ms; } units[] = {
		{ "second", 1000 }, { "seconds", 1000 }, { "sec", 1000 }, { "s", 1000 },
		{ "minute", 60000 }, { "minutes", 60000 }, { "min", 60000 }, { "m", 60000 },
		{ "hour", 3600000 }, { "hours", 3600000 }, { "h", 3600000 },
		{ "day", 86400000 }, { "days", 86400000 }, { "d", 86400000 },
	};
	for (size_t i = 0; i < ARRAY_LEN(units); i++) {
		if (!strcmp(slash + 1, units[i].name)) {
			out->limit = n;
			out->window_ms = units[i].ms;
			return true;
		}
	}
	return false;
}

bool parse_cidr(const char *s, struct cidr *out)
{
	char buf[64];
	size_t n = strlen(s);
	if (n == 0 || n >= sizeof(buf))
		return false;
	memcpy(buf, s, n + 1);
	char *slash = strchr(buf, '/');
	int64_t bits = -1;
	if (slash) {
		*slash = '\0';
		if (!parse_i64_range(slash + 1, 0, 128, &bits))
			return false;
	}
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, buf, out->addr) == 1) {
		out->family = AF_INET;
		if (bits > 32)
			return false;
		out->bits = bits < 0 ? 32 : (int)bits;
	} else if (inet_pton(AF_INET6, buf, out->addr) == 1) {
		out->family = AF_INET6;
		out->bits = bits < 0 ? 128 : (int)bits;
	} else {
		return false;
	}
	return true;
}

bool cidr_match(const struct cidr *c, const char *ip)
{
	unsigned char a[16];
	int fam = AF_INET;
	if (inet_pton(AF_INET, ip, a) != 1) {
		if (inet_pton(AF_INET6, ip, a) != 1)
			return false;
		fam = AF_INET6;
		/* An IPv4-mapped IPv6 address matches an IPv4 rule. */
		static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
		if (c->family == AF_INET && !memcmp(a, mapped, 12)) {
			memmove(a, a + 12, 4);
			fam = AF_INET;
		}
	}
	if (fam != c->family)
		return false;
	int full = c->bits / 8, rest = c->bits % 8;
	if (memcmp(a, c->addr, (size_t)full))
		return false;
	if (rest) {
		unsigned char mask = (unsigned char)(0xff << (8 - rest));
		if ((a[full] & mask) != (c->addr[full] & mask))
			return false;
	}
	return true;
}

static int fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

static int get_int(const char *name, int64_t def, int64_t lo, int64_t hi, int64_t *out,
		   char *err, size_t errlen)
{
	const char *v = config_get(name);
	if (!v) {
		*out = def;
		return 0;
	}
	if (!parse_i64_range(v, lo, hi, out)) {
		snprintf(err, errlen, "invalid %s: \"%.64s\" (expected an integer from %lld to %lld)",
			 name, v, (long long)lo, (long long)hi);
		return -1;
	}
	return 0;
}

static int get_bool(const char *name, bool def, bool *out, char *err, size_t errlen)
{
	const char *v = config_get(name);
	if (!v) {
		*out = def;
		return 0;
	}
	if (!strcmp(v, "yes") || !strcmp(v, "on") || !strcmp(v, "TRUE") || !strcmp(v, "True")) {
		*out = true;
		return 0;
	}
	if (!strcmp(v, "no") || !strcmp(v, "off") || !strcmp(v, "FALSE") || !strcmp(v, "False")) {
		*out = false;
		return 0;
	}
	if (!parse_bool(v, out))
		return fail(err, errlen, "invalid %s: \"%.64s\" (expected true or false)", name, v);
	return 0;
}

/* Hours as a decimal ("24", "0.5", "0.0005") into milliseconds. */
static int get_hours_ms(const char *name, int64_t def_hours, int64_t max_hours, int64_t *out_ms,
			char *err, size_t errlen)
{
	const char *v = config_get(name);
	*out_ms = def_hours * 3600000;
	if (!v)
		return 0;
	int64_t whole = 0, frac = 0, scale = 1;
	const char *p = v;
	bool digits = false;
	for (; *p >= '0' && *p <= '9' && whole <= max_hours; p++, digits = true)
		whole = whole * 10 + (*p - '0');
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++, digits = true)
			if (scale < 1000000000) {
				frac = frac * 10 + (*p - '0');
				scale *= 10;
			}
	if (!digits || *p || whole > max_hours || (whole == max_hours && frac))
		return fail(err, errlen, "invalid %s: \"%.64s\" (expected a number of hours from 0 to %lld, "
			    "fractions allowed)", name, v, (long long)max_hours);
	*out_ms = whole * 3600000 + frac * 3600000 / scale;
	return 0;
}

static bool valid_http_url(const char *u)
{
	return (str_has_prefix(u, "http://") || str_has_prefix(u, "https://")) &&
	       !strpbrk(u, " \t\r\n\"'<>");
}

static char *strip_slash(const char *s)
{
	char *p = xstrdup(s);
	size_t n = strlen(p);
	while (n > 0 && p[n - 1] == '/')
		p[--n] = '\0';
	return p;
}

/* The default WEB_DIR and VENDOR_DIR: <repo>/web for <repo>/build/hwc3d
 * (or <repo>/build/test/hwc3d), so that `hwc3d serve` from any directory
 * serves the client and /docs.  The binary's directory and up to two of its
 * parents are tried; "./sub" when none holds that directory. */
static char *beside_binary(const char *sub)
{
	char exe[4096];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		for (int up = 0; up < 3; up++) {
			char *slash = strrchr(exe, '/');
			if (!slash || slash == exe)
				break;
			*slash = '\0';
			char cand[4200];
			struct stat st;
			snprintf(cand, sizeof(cand), "%s/%s", exe, sub);
			if (!stat(cand, &st) && S_ISDIR(st.st_mode))
				return xstrdup(cand);
		}
	}
	char rel[64];
	snprintf(rel, sizeof(rel), "./%s", sub);
	return xstrdup(rel);
}

/* Splits a comma list into trimmed, non-empty items, each its own
 * allocation (the array and the items live as long as the process). */
static const char **split_list(const char *s, size_t *n)
{
	char *copy = xstrdup(s);
	const char **items = NULL;
	*n = 0;
	char *save = NULL;
	for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *t = trim(tok);
		if (!*t)
			continue;
		items = xrealloc(items, (*n + 1) * sizeof(*items));
		items[(*n)++] = xstrdup(t);
	}
	free(copy);
	return items;
}

static void free_list(const char **items, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free((char *)items[i]);
	free(items);
}

/* libpq accepts any port text and fails only at connect time: check the
 * URL's host:port here so a typo is a start-up error. */
static bool pg_url_port_ok(const char *url)
{
	const char *p = strstr(url, "://");
	if (!p)
		return false;
	p += 3;
	const char *end = p + strcspn(p, "/?");
	const char *at = memchr(p, '@', (size_t)(end - p));
	if (at)
		p = at + 1;
	/* Possibly several hosts: h1:5432,h2:5433, and [v6]:port. */
	while (p < end) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		const char *hend = comma ? comma : end;
		const char *host_end = p;
		if (*p == '[') {
			host_end = memchr(p, ']', (size_t)(hend - p));
			if (!host_end)
				return false;
			host_end++;
		} else {
			while (host_end < hend && *host_end != ':')
				host_end++;
		}
		if (host_end < hend && *host_end == ':') {
			char port[8];
			size_t pl = (size_t)(hend - host_end - 1);
			int64_t v;
			if (pl == 0 || pl >= sizeof(port))
				return false;
			memcpy(port, host_end + 1, pl);
			port[pl] = '\0';
			if (!parse_i64_range(port, 1, 65535, &v))
				return false;
		}
		p = comma ? comma + 1 : end;
	}
	return true;
}

static int load_database(char *err, size_t errlen)
{
	const char *url = config_get("DATABASE_URL");
	cfg.database_url = url;
	if (!url) {
		size_t n = strlen(cfg.data_dir) + 16;
		char *p = xmalloc(n);
		snprintf(p, n, "%s/hwc3d.db", cfg.data_dir);
		cfg.db_kind = DB_SQLITE;
		cfg.sqlite_path = p;
		return 0;
	}
	if (str_has_prefix(url, "sqlite:")) {
		const char *path = url + 7;
		if (str_has_prefix(path, "//"))
			path += 2;
		if (!*path)
			return fail(err, errlen, "invalid DATABASE_URL: \"%s\" has no file path", url);
		cfg.db_kind = DB_SQLITE;
		cfg.sqlite_path = path;
		return 0;
	}
	if (str_has_prefix(url, "postgresql://") || str_has_prefix(url, "postgres://")) {
		char *perr = NULL;
		PQconninfoOption *opts = PQconninfoParse(url, &perr);
		if (!opts) {
			snprintf(err, errlen, "invalid DATABASE_URL: %s", perr ? trim(perr) : "unparsable");
			PQfreemem(perr);
			return -1;
		}
		PQconninfoFree(opts);
		if (!pg_url_port_ok(url))
			return fail(err, errlen, "invalid DATABASE_URL: the port must be a number from 1 to 65535");
		cfg.db_kind = DB_PG;
		cfg.pg_conninfo = url;
		return 0;
	}
	return fail(err, errlen,
		    "invalid DATABASE_URL: expected sqlite:PATH, postgresql://... or postgres://...");
}

static int load_rates(char *err, size_t errlen)
{
	static const struct { enum rl_class cls; const char *name, *def; } rules[] = {
		{ RL_GENERAL, "RATE_LIMIT_GENERAL", "100/minute" },
		{ RL_AUTH, "RATE_LIMIT_AUTH", "5/minute" },
		{ RL_UPLOAD, "RATE_LIMIT_UPLOAD", "10/hour" },
		{ RL_ADMIN, "RATE_LIMIT_ADMIN", "1000/minute" },
		{ RL_SESSION, "RATE_LIMIT_SESSION", "30/minute" },
	};
	if (get_bool("RATE_LIMIT_ENABLED", true, &cfg.rate_limit_enabled, err, errlen))
		return -1;
	for (size_t i = 0; i < ARRAY_LEN(rules); i++) {
		const char *v = get_or(rules[i].name, rules[i].def);
		if (!parse_rate(v, &cfg.rate[rules[i].cls]))
			return fail(err, errlen, "invalid %s: \"%.64s\" (expected N/second|minute|hour|day)",
				    rules[i].name, v);
	}
	const char *tp = config_get("TRUSTED_PROXIES");
	if (tp) {
		size_t n;
		const char **items = split_list(tp, &n);
		cfg.trusted_proxies = xcalloc(n ? n : 1, sizeof(struct cidr));
		for (size_t i = 0; i < n; i++) {
			if (!parse_cidr(items[i], &cfg.trusted_proxies[i])) {
				fail(err, errlen, "invalid TRUSTED_PROXIES: \"%.64s\" is not an address or CIDR", items[i]);
				free_list(items, n);
				return -1;
			}
		}
		cfg.n_trusted_proxies = n;
		free_list(items, n);
	}
	return 0;
}

static int load_urls(char *err, size_t errlen)
{
	static const struct { const char *name; const char **dst; } urls[] = {
		{ "PUBLIC_URL", &cfg.public_url },
		{ "FRONTEND_URL", &cfg.frontend_url },
		{ "CDN_URL", &cfg.cdn_url },
	};
	cfg.public_url = "http://localhost:8000";
	cfg.frontend_url = "http://localhost:3000";
	cfg.cdn_url = NULL;
	for (size_t i = 0; i < ARRAY_LEN(urls); i++) {
		const char *v = config_get(urls[i].name);
		if (!v)
			continue;
		if (!valid_http_url(v))
			return fail(err, errlen, "invalid %s: \"%.64s\" (expected an http:// or https:// URL)",
				    urls[i].name, v);
		*urls[i].dst = strip_slash(v);
	}
	if (!cfg.cdn_url)
		cfg.cdn_url = cfg.public_url;
	cfg.https = str_has_prefix(cfg.public_url, "https://");

	const char *origins = config_get("CORS_ORIGINS");
	if (origins) {
		cfg.cors_origins = split_list(origins, &cfg.n_cors_origins);
		for (size_t i = 0; i < cfg.n_cors_origins; i++) {
			/* "*" would reflect every origin with credentials. */
			if (!strcmp(cfg.cors_origins[i], "*"))
				return fail(err, errlen, "invalid CORS_ORIGINS: \"*\" is not allowed (credentials are sent);"
					    " list the origins");
			if (!valid_http_url(cfg.cors_origins[i]))
				return fail(err, errlen, "invalid CORS_ORIGINS: \"%.64s\" is not an origin",
					    cfg.cors_origins[i]);
			char *stripped = strip_slash(cfg.cors_origins[i]);
			free((char *)cfg.cors_origins[i]);
			cfg.cors_origins[i] = stripped;
		}
	} else {
		cfg.cors_origins = xcalloc(2, sizeof(char *));
		cfg.cors_origins[0] = cfg.frontend_url;
		cfg.cors_origins[1] = cfg.public_url;
		cfg.n_cors_origins = 2;
	}
	return 0;
}

int config_load(char *err, size_t errlen)
{
	load_dotenv(".env");
	memset(&cfg, 0, sizeof(cfg));
	int64_t v;

	cfg.host = get_or("HOST", "127.0.0.1");
	if (get_int("PORT", 8000, 0, 65535, &v, err, errlen))
		return -1;
	cfg.port = (int)v;
	cfg.data_dir = strip_slash(get_or("DATA_DIR", "./data"));
	if (!*cfg.data_dir)
		cfg.data_dir = "/";
	if (load_database(err, errlen) || load_urls(err, errlen) || load_rates(err, errlen))
		return -1;
	cfg.redis_url = config_get("REDIS_URL");
	if (cfg.redis_url && !str_has_prefix(cfg.redis_url, "redis://") &&
	    !str_has_prefix(cfg.redis_url, "unix://"))
		return fail(err, errlen, "invalid REDIS_URL: \"%.64s\" (expected redis://HOST:PORT[/DB])",
			    cfg.redis_url);

	cfg.stripe_publishable_key = config_get("STRIPE_PUBLISHABLE_KEY");
	if (cfg.stripe_publishable_key && !*cfg.stripe_publishable_key)
		cfg.stripe_publishable_key = NULL;
	if (cfg.stripe_publishable_key) {
		for (const char *k = cfg.stripe_publishable_key; *k; k++)
			if (!((*k >= '0' && *k <= '9') || (*k >= 'a' && *k <= 'z') || (*k >= 'A' && *k <= 'Z') || *k == '_'))
				return fail(err, errlen, "invalid STRIPE_PUBLISHABLE_KEY (expected pk_... letters, digits and _)");
		if (!str_has_prefix(cfg.stripe_publishable_key, "pk_"))
			return fail(err, errlen, "invalid STRIPE_PUBLISHABLE_KEY (expected pk_...)");
	}

	if (get_int("HWC_THREADS", 4, 1, 256, &v, err, errlen))
		return -1;
	cfg.threads = (int)v;
	if (get_int("JSON_BODY_LIMIT", 1 << 20, 1024, 64 << 20, &v, err, errlen))
		return -1;
	cfg.json_body_limit = (size_t)v;
	if (get_int("JSON_MAX_DEPTH", 32, 2, 512, &v, err, errlen))
		return -1;
	cfg.json_max_depth = (int)v;
	if (get_int("MAX_CONNECTIONS", 4096, 16, 1000000, &v, err, errlen))
		return -1;
	cfg.conn_limit = (unsigned)v;
	if (get_int("MAX_CONNECTIONS_PER_IP", 32, 0, 1000000, &v, err, errlen))
		return -1;
	cfg.per_ip_conn_limit = (unsigned)v;
	if (get_int("CONNECTION_TIMEOUT", 60, 1, 3600, &v, err, errlen))
		return -1;
	cfg.conn_timeout_s = (unsigned)v;
	bool response_cache;
	if (get_bool("RESPONSE_CACHE", true, &response_cache, err, errlen))
		return -1;
	cfg.response_cache_off = !response_cache;
	if (get_int("HEADER_TIMEOUT", 10, 1, 3600, &v, err, errlen))
		return -1;
	cfg.header_timeout_s = (unsigned)v;
	if (get_int("BODY_MIN_RATE", 1024, 0, 1 << 30, &v, err, errlen))
		return -1;
	cfg.body_min_rate = (unsigned)v;
	if (get_int("CONNECTION_MEMORY_LIMIT", 32768, 8192, 1 << 20, &v, err, errlen))
		return -1;
	cfg.conn_memory_limit = (size_t)v;
	if (get_int("SHUTDOWN_TIMEOUT", 20, 0, 3600, &v, err, errlen))
		return -1;
	cfg.shutdown_timeout_s = (int)v;
	if (get_hours_ms("UPLOAD_TTL_HOURS", 24, 87600, &cfg.upload_ttl_ms, err, errlen))
		return -1;
	if (get_int("UPLOAD_QUOTA_MB", 2048, 0, 1 << 30, &v, err, errlen))
		return -1;
	cfg.upload_quota_bytes = v << 20;
	if (get_int("SWEEP_INTERVAL_S", 3600, 1, 7 * 86400, &v, err, errlen))
		return -1;
	cfg.sweep_interval_s = (int)v;
	if (get_int("JOB_WORKERS", 2, 0, 64, &v, err, errlen))
		return -1;
	cfg.job_workers = (int)v;
	if (get_int("JOB_BACKOFF_MS", 30000, 1, 3600000, &cfg.job_backoff_ms, err, errlen))
		return -1;
	if (get_int("RESPONSE_CACHE_MB", 64, 1, 1 << 20, &cfg.response_cache_mb, err, errlen))
		return -1;
	if (get_int("LIST_WINDOW_CACHE_MB", 32, 1, 1 << 20, &cfg.list_window_cache_mb, err, errlen))
		return -1;
	if (get_int("LIST_WINDOW_IDS", 5000, 1, 100000, &cfg.list_window_ids, err, errlen))
		return -1;
	if (get_int("SQLITE_CACHE_MB", 16, 1, 65536, &cfg.sqlite_cache_mb, err, errlen))
		return -1;
	if (get_int("SQLITE_MMAP_MB", 0, 0, 1 << 20, &cfg.sqlite_mmap_mb, err, errlen))
		return -1;
	const char *fee = get_or("PLATFORM_FEE_PERCENT", "12");
	if (!parse_cents(fee, &cfg.platform_fee_bps) || cfg.platform_fee_bps > 10000) {
		snprintf(err, errlen, "PLATFORM_FEE_PERCENT must be a percentage from 0 to 100 (at most 2 decimals)");
		return -1;
	}
	if (get_int("DOWNLOAD_LINK_TTL_S", 900, 30, 7 * 86400, &cfg.download_link_ttl_s, err, errlen))
		return -1;
	const char *minimum = get_or("PAYOUT_MINIMUM", "20.00");
	if (!parse_cents(minimum, &cfg.payout_minimum_cents) || cfg.payout_minimum_cents > 100000000) {
		snprintf(err, errlen, "PAYOUT_MINIMUM must be an amount from 0 to 1000000.00");
		return -1;
	}
	if (get_bool("ACCESS_LOG", true, &cfg.access_log, err, errlen))
		return -1;
	const char *lvl = get_or("LOG_LEVEL", "info");
	if (!strcmp(lvl, "debug"))
		log_set_level(LOG_DEBUG);
	else if (!strcmp(lvl, "warn"))
		log_set_level(LOG_WARN);
	else if (!strcmp(lvl, "error"))
		log_set_level(LOG_ERROR);
	else if (strcmp(lvl, "info"))
		return fail(err, errlen, "invalid LOG_LEVEL: \"%.32s\" (expected debug, info, warn or error)", lvl);
	log_set_access(cfg.access_log);
	cfg.metrics_token = config_get("METRICS_TOKEN");
	const char *web = config_get("WEB_DIR"), *vendor = config_get("VENDOR_DIR");
	cfg.web_dir = web ? strip_slash(web) : beside_binary("web");
	cfg.vendor_dir = vendor ? strip_slash(vendor) : beside_binary("node_modules");
	return 0;
}

/* Secrets people paste from examples; refusing them beats running with one. */
static bool weak_secret(const char *s)
{
	static const char *weak[] = {
		"your-secret-key", "secret", "changeme", "change-me", "password",
		"jwt-secret", "supersecret", "your-256-bit-secret", "secret-key",
	};
	for (size_t i = 0; i < ARRAY_LEN(weak); i++)
		if (str_eq_nocase(s, weak[i]))
			return true;
	return false;
}

int config_load_secret(char *err, size_t errlen)
{
	if (set_but_empty("JWT_SECRET_KEY")) {
		snprintf(err, errlen, "invalid JWT_SECRET_KEY: it is set but empty; set 32+ bytes of random text"
			 " (e.g. `openssl rand -hex 32`) or remove it to use a generated one");
		return -1;
	}
	const char *s = config_get("JWT_SECRET_KEY");
	if (s) {
		size_t n = strlen(s);
		if (weak_secret(s) || n < 32) {
			snprintf(err, errlen, "invalid JWT_SECRET_KEY: it must be at least 32 bytes of random "
				 "text (e.g. `openssl rand -hex 32`), not an example value");
			return -1;
		}
		if (n > sizeof(cfg.jwt_secret))
			n = sizeof(cfg.jwt_secret);
		memcpy(cfg.jwt_secret, s, n);
		cfg.jwt_secret_len = n;
		return 0;
	}
	char path[4096];
	snprintf(path, sizeof(path), "%s/jwt_secret", cfg.data_dir);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		ssize_t n = read(fd, cfg.jwt_secret, 64);
		close(fd);
		if (n == 64) {
			cfg.jwt_secret_len = 64;
			return 0;
		}
		snprintf(err, errlen, "%s is damaged: remove it or set JWT_SECRET_KEY", path);
		return -1;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
		return -1;
	}
	unsigned char raw[32];
	random_bytes(raw, sizeof(raw));
	char hex[65];
	sodium_bin2hex(hex, sizeof(hex), raw, sizeof(raw));
	memcpy(cfg.jwt_secret, hex, 64);
	cfg.jwt_secret_len = 64;
	ssize_t w = write(fd, hex, 64);
	close(fd);
	if (w != 64) {
		unlink(path);
		snprintf(err, errlen, "cannot write %s", path);
		return -1;
	}
	log_warn("JWT_SECRET_KEY is not set: generated one and kept it in %s (set JWT_SECRET_KEY in production)", path);
	return 0;
}
