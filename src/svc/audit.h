/*
 * audit.h: the audit log (migration 0024): who did what, to what, from
 * where.  Every admin action writes a row, and so do the user actions an
 * operator asks about (sign-up, password change, model published,
 * purchase).  GET /api/admin/recent-activity reads it.
 *
 * A row is written on the caller's connection, in its transaction if one
 * is open, so a rolled-back action leaves no row.  A failure to write is
 * logged and never fails the action itself.
 */
#ifndef HWC_AUDIT_H
#define HWC_AUDIT_H

#include <jansson.h>
#include <stdint.h>
#include "../db/db.h"

struct req;

/* The caller (req->user, req->ip) did action to target_type/target_id
 * (NULL / 0 when there is none).  detail (an object, may be NULL) is
 * stolen.  req may be NULL for the system's own actions. */
void audit_log(db_t *db, struct req *req, const char *action, const char *target_type, int64_t target_id,
	       json_t *detail);
/* The same for an actor who is not req->user (a sign-up, a purchase
 * settled by a webhook): actor_id 0 is nobody. */
void audit_log_as(db_t *db, struct req *req, int64_t actor_id, const char *action, const char *target_type,
		  int64_t target_id, json_t *detail);

#endif
