/*
 * settings.h: the platform settings an admin changes at run time
 * (GET/PUT /api/admin/settings), kept in the platform_settings table so
 * that every instance reads the same values.
 *
 * A key never written keeps its default: PLATFORM_FEE_PERCENT and
 * PAYOUT_MINIMUM from the environment, the guide's upload maxima, approval
 * required, registration open, no maintenance.  Each process caches the
 * table for SETTINGS_TTL_MS; a write through settings_store() drops this
 * process's copy at once, other instances see it within the TTL.
 *
 * settings_get() is thread safe and copies the values out.
 */
#ifndef HWC_SETTINGS_H
#define HWC_SETTINGS_H

#include <stdbool.h>
#include <stdint.h>
#include "../db/db.h"

#define SETTINGS_TTL_MS 2000
/* The guide's maxima (section 15): a setting may lower them, never raise. */
#define SETTINGS_MODEL_MB_MAX 100
#define SETTINGS_IMAGE_MB_MAX 10
#define SETTINGS_AVATAR_MB_MAX 2
#define SETTINGS_MESSAGE_MAX 300

typedef struct platform_settings {
	int64_t platform_fee_bps;     /* hundredths of a percent: 1200 = 12% */
	int64_t payout_minimum_cents;
	bool model_approval_required;
	int64_t max_model_upload_mb, max_image_upload_mb, max_avatar_upload_mb;
	bool maintenance_mode;
	char maintenance_message[SETTINGS_MESSAGE_MAX * 4 + 1];
	bool registration_open;
} platform_settings_t;

/* The current settings; db NULL means this thread's connection.  On a
 * database error the last values read (or the defaults) are used. */
void settings_get(db_t *db, platform_settings_t *out);
/* Reads the table now, bypassing the cache; false on a database error. */
bool settings_load(db_t *db, platform_settings_t *out);
/* Writes one key (its value as text) and drops this process's cache. */
bool settings_store(db_t *db, const char *key, const char *value, int64_t updated_by);
/* Drops this process's cache (after a transaction that stored keys). */
void settings_invalidate(void);

#endif
