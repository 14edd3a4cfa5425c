/*
 * admin_common.h: small helpers shared by the admin console's handlers
 * (admin_users.c, admin_settings.c, admin_emails.c, admin_overview.c,
 * admin_analytics.c).
 */
#ifndef HWC_ADMIN_COMMON_H
#define HWC_ADMIN_COMMON_H

#include <jansson.h>
#include <stdbool.h>
#include "../http/request.h"

/* Replies 400 VALIDATION_ERROR naming the first key of body that is not
 * in allowed (NULL-terminated) and returns false; true when all are
 * known.  A client may only set what the endpoint lists. */
bool admin_fields_known_or_400(req_t *req, json_t *body, const char *const *allowed);

/* Bans a user in the caller's transaction: the flag, reason and time,
 * every session and token ended (session_revoke_all), and their published
 * models unpublished and marked (models.ban_hidden) for the unban to
 * restore; comments, posts and the profile are filtered where they are
 * read.  *hidden gets the number of models hidden.  False on a database
 * error or when the user does not exist. */
bool user_ban_apply(req_t *req, int64_t user_id, const char *reason, int64_t *hidden);

/* Computes an answer on the worker pool (POOL_DB): the console's reports
 * scan whole tables (stats, analytics, a user search), which must not
 * stall a poll thread.  fn runs on a pool thread with that thread's own
 * connection as db: DBQ/DBS with db_done only, never RQ (request.h); it
 * returns the body (200) or NULL after setting *what (logged, answered
 * 503 with Retry-After: a database that failed).  Returns DONE. */
typedef json_t *(*admin_compute_fn)(req_t *req, db_t *db, void *ctx, const char **what);
int admin_defer_json(req_t *req, admin_compute_fn fn, void *ctx);

/* Cents as a JSON number of dollars. */
json_t *admin_money(int64_t cents);

#endif
