#include <pthread.h>
#include "settings.h"
#include "../core/config.h"
#include "../core/log.h"
#include "../core/num.h"
#include "../core/util.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static platform_settings_t cached;
static bool have_cached;
static int64_t cached_at_us;
static uint64_t generation; /* bumped by settings_invalidate: a load racing a write is not kept */

static void defaults(platform_settings_t *s)
{
	*s = (platform_settings_t){
		.platform_fee_bps = cfg.platform_fee_bps,
		.payout_minimum_cents = cfg.payout_minimum_cents,
		.model_approval_required = true,
		.max_model_upload_mb = SETTINGS_MODEL_MB_MAX,
		.max_image_upload_mb = SETTINGS_IMAGE_MB_MAX,
		.max_avatar_upload_mb = SETTINGS_AVATAR_MB_MAX,
		.registration_open = true,
	};
}

static void set_int(int64_t *out, const char *value, int64_t lo, int64_t hi)
{
	int64_t v;
	if (parse_i64_range(value, lo, hi, &v))
		*out = v;
}

static void set_bool(bool *out, const char *value)
{
	if (!strcmp(value, "true") || !strcmp(value, "false"))
		*out = value[0] == 't';
}

/* One stored key; a value that does not parse (a hand edit) keeps the
 * default, and so does a key this binary does not know. */
static void apply(platform_settings_t *s, const char *key, const char *value)
{
	if (!strcmp(key, "platform_fee_bps"))
		set_int(&s->platform_fee_bps, value, 0, 10000);
	else if (!strcmp(key, "payout_minimum_cents"))
		set_int(&s->payout_minimum_cents, value, 1, 100000000);
	else if (!strcmp(key, "model_approval_required"))
		set_bool(&s->model_approval_required, value);
	else if (!strcmp(key, "max_model_upload_mb"))
		set_int(&s->max_model_upload_mb, value, 1, SETTINGS_MODEL_MB_MAX);
	else if (!strcmp(key, "max_image_upload_mb"))
		set_int(&s->max_image_upload_mb, value, 1, SETTINGS_IMAGE_MB_MAX);
	else if (!strcmp(key, "max_avatar_upload_mb"))
		set_int(&s->max_avatar_upload_mb, value, 1, SETTINGS_AVATAR_MB_MAX);
	else if (!strcmp(key, "maintenance_mode"))
		set_bool(&s->maintenance_mode, value);
	else if (!strcmp(key, "maintenance_message"))
		snprintf(s->maintenance_message, sizeof(s->maintenance_message), "%s", value);
	else if (!strcmp(key, "registration_open"))
		set_bool(&s->registration_open, value);
}

bool settings_load(db_t *db, platform_settings_t *out)
{
	defaults(out);
	if (!db)
		return false;
	db_rows_t *r = DBQ0(db, "SELECT key, value FROM platform_settings");
	if (!r)
		return false;
	while (db_next(r))
		apply(out, db_text(r, 0), db_text(r, 1));
	bool ok = !db_failed(r);
	db_done(r);
	return ok;
}

void settings_get(db_t *db, platform_settings_t *out)
{
	int64_t now = mono_us();
	pthread_mutex_lock(&lock);
	if (have_cached && now - cached_at_us < SETTINGS_TTL_MS * 1000) {
		*out = cached;
		pthread_mutex_unlock(&lock);
		return;
	}
	uint64_t gen = generation;
	pthread_mutex_unlock(&lock);

	platform_settings_t fresh;
	bool ok = settings_load(db ? db : db_thread(), &fresh);
	pthread_mutex_lock(&lock);
	if (ok) {
		if (gen == generation) {
			cached = fresh;
			have_cached = true;
			cached_at_us = now;
		}
		*out = fresh;
	} else if (have_cached) {
		*out = cached;
	} else {
		*out = fresh; /* the defaults */
	}
	pthread_mutex_unlock(&lock);
	if (!ok)
		log_warn("settings: cannot read platform_settings; using %s", have_cached ? "the last values" : "defaults");
}

void settings_invalidate(void)
{
	pthread_mutex_lock(&lock);
	have_cached = false;
	generation++;
	pthread_mutex_unlock(&lock);
}

bool settings_store(db_t *db, const char *key, const char *value, int64_t updated_by)
{
	bool ok = DBX(db, "INSERT INTO platform_settings (key, value, updated_by, updated_at) VALUES ($1, $2, $3, $4)"
		      " ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_by = excluded.updated_by,"
		      " updated_at = excluded.updated_at",
		      P_TEXT(key), P_TEXT(value), updated_by > 0 ? P_INT(updated_by) : P_NULL, P_INT(now_ms())) == 1;
	settings_invalidate();
	return ok;
}
