/*
 * config.h: settings from the environment and from ./.env.
 *
 * The environment wins over .env.  config_load() parses and checks every
 * setting the core needs and fills the global `cfg`; later modules (mail,
 * storage, payments) read their own names with config_get() when they start.
 * After config_load() returns, cfg is read-only and shared by all threads.
 */
#ifndef HWC_CONFIG_H
#define HWC_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum db_kind { DB_SQLITE, DB_PG };
/* RL_SESSION: refresh and logout, apart from the login/register budget. */
enum rl_class { RL_NONE, RL_GENERAL, RL_AUTH, RL_UPLOAD, RL_ADMIN, RL_SESSION, RL_COUNT };

struct rate_rule {
	int64_t limit;
	int64_t window_ms;
};

struct cidr {
	int family; /* AF_INET or AF_INET6 */
	unsigned char addr[16];
	int bits;
};

struct config {
	const char *host;
	int port;
	const char *data_dir;
	const char *database_url;
	enum db_kind db_kind;
	const char *sqlite_path;
	int64_t response_cache_mb; /* svc/cache.c's bound for responses */
	int64_t list_window_cache_mb; /* and for the model lists' id windows */
	int64_t list_window_ids;   /* ids kept per model list signature (marketplace.c) */
	int64_t sqlite_cache_mb; /* page cache per connection */
	int64_t sqlite_mmap_mb;  /* the file mapped: one copy in the OS cache for every connection */
	int64_t platform_fee_bps;   /* PLATFORM_FEE_PERCENT in hundredths of a percent (1200 = 12%) */
	int64_t download_link_ttl_s;
	int64_t payout_minimum_cents;
	const char *pg_conninfo;

	unsigned char jwt_secret[256];
	size_t jwt_secret_len;

	const char *public_url, *frontend_url, *cdn_url;
	bool https;
	const char **cors_origins;
	size_t n_cors_origins;

	const char *redis_url;
	/* STRIPE_PUBLISHABLE_KEY (pk_...): the web client's card form; when set,
	 * the page CSP allows Stripe.js (http/assets.c).  NULL when unset. */
	const char *stripe_publishable_key;

	bool rate_limit_enabled;
	struct rate_rule rate[RL_COUNT];
	struct cidr *trusted_proxies;
	size_t n_trusted_proxies;

	int threads;
	size_t json_body_limit;
	int json_max_depth;
	unsigned conn_limit, per_ip_conn_limit, conn_timeout_s;
	unsigned header_timeout_s; /* request headers complete within this */
	bool response_cache_off;   /* RESPONSE_CACHE=off: every read is computed */
	unsigned body_min_rate;    /* bytes/s a body must average; 0: no floor */
	size_t conn_memory_limit;
	int shutdown_timeout_s;
	int64_t upload_ttl_ms;      /* UPLOAD_TTL_HOURS: unused uploads are deleted after it; 0 keeps them */
	int64_t upload_quota_bytes; /* UPLOAD_QUOTA_MB: stored uploads per user; 0 for no quota */
	int sweep_interval_s;       /* SWEEP_INTERVAL_S: seconds between two housekeeping sweeps */
	int job_workers;            /* JOB_WORKERS: background job threads per process (svc/jobs.h) */
	int64_t job_backoff_ms;     /* JOB_BACKOFF_MS: the first retry delay of a failed job, doubling */
	bool access_log;
	const char *metrics_token; /* METRICS_TOKEN: bearer for /metrics from anywhere */
	const char *web_dir;
	const char *vendor_dir;
};

extern struct config cfg;

/* Reads .env (if present in the working directory), then the settings.
 * On a bad setting returns -1 with a one-line message in err. */
int config_load(char *err, size_t errlen);

/* The JWT secret: from JWT_SECRET_KEY, or generated once into DATA_DIR.
 * Separate from config_load because only `serve` and friends need it. */
int config_load_secret(char *err, size_t errlen);

/* A setting by name: the environment first, then .env; NULL when unset or
 * empty.  The string lives as long as the process. */
const char *config_get(const char *name);

/* Parses "5/minute", "100/min", "10/hour", "3/second", "1000/day". */
bool parse_rate(const char *s, struct rate_rule *out);
/* Parses "10.0.0.0/8", "::1", "127.0.0.1". */
bool parse_cidr(const char *s, struct cidr *out);
/* Is the textual address ip inside c? */
bool cidr_match(const struct cidr *c, const char *ip);

#endif
