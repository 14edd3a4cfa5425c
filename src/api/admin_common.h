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

/* Cents as a JSON number of dollars. */
json_t *admin_money(int64_t cents);

#endif
