/*
 * update.h: declarative create / partial update of one table's row.
 *
 * A resource describes its writable fields once, in a table of upd_field_t
 * (JSON name, column, kind, flags, bounds, an extra check).  upd_read()
 * validates a JSON body against it, collecting every field error in the
 * valid_t; upd_insert() and upd_update() then write what was read.
 *
 * One meaning of null for every PUT (docs/openapi.yaml, "Partial updates"):
 *  - a field that is absent is left unchanged;
 *  - null clears a nullable field (V_NULLABLE): the column becomes NULL,
 *    or for text with a def_text (a description stored as "", never
 *    null) that default; for a field that is not nullable, null is a 422
 *    ("Must not be null");
 *  - for a nullable text field, "" (after trimming) is the same as null.
 *
 * Fields of kind UPD_HANDLER are not read from the body: the handler
 * validates them itself (arrays, JSON objects, values that depend on one
 * another) and stores the result with upd_put().  A field with no JSON name
 * is a column only the handler sets (username_lower beside username).
 *
 * The UPDATE is one statement per table whatever the body holds
 * (col = CASE WHEN $set THEN $value ELSE col END for every field), so a
 * client choosing which fields to send cannot fill the per-connection
 * statement cache with variants.
 *
 * Everything is allocated on the request arena; nothing to free.
 */
#ifndef HWC_UPDATE_H
#define HWC_UPDATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "../db/db.h"
#include "../http/request.h"
#include "../http/validate.h"

enum upd_kind {
	UPD_TEXT,    /* v_str: min..max characters */
	UPD_SLUG,    /* v_slug: at most max characters */
	UPD_INT,     /* v_int: min..max */
	UPD_BOOL,    /* v_bool */
	UPD_MONEY,   /* v_money: 0..max cents */
	UPD_ENUM,    /* v_enum over allowed */
	UPD_HANDLER, /* read by the handler, stored with upd_put */
};

typedef struct upd_field {
	const char *name;   /* JSON name; NULL: a column only the handler sets */
	const char *column; /* NULL: the same as name */
	enum upd_kind kind;
	int flags;          /* V_REQUIRED (on create only), V_NULLABLE, V_MULTILINE, V_NO_TRIM */
	int64_t min, max;   /* characters (text), bounds (int), max cents (money) */
	const char *const *allowed; /* UPD_ENUM */
	/* On create, when absent, and what null clears it to: the text
	 * default (NULL: SQL NULL) ... */
	const char *def_text;
	/* ... or the number / boolean default (a nullable number: NULL). */
	int64_t def_int;
	/* Text kinds: a further rule on a non-empty value; returns the error
	 * message, or NULL when the value is fine. */
	const char *(*check)(req_t *req, const char *s);
} upd_field_t;

typedef struct upd_value {
	bool set;     /* sent in the body (or put by the handler) */
	db_param_t p; /* what to store: the value, NULL to clear, or the create default */
} upd_value_t;

#define UPD_COUNT(fields) (sizeof(fields) / sizeof((fields)[0]))

/* Validates the body in v against fields into out[n] (arena).  create:
 * V_REQUIRED counts and absent fields get their defaults.  Returns
 * v_ok(v). */
bool upd_read(valid_t *v, const upd_field_t *fields, size_t n, bool create, upd_value_t *out);
upd_value_t *upd_values(req_t *req, size_t n);
/* The value of a UPD_HANDLER field (or any field) the handler decided. */
void upd_put(upd_value_t *val, db_param_t p);

/* INSERT INTO table (every column, created_at, updated_at) RETURNING id.
 * Returns as db_scalar: 1 with *id set, else 0 / -1 (see db_error). */
int upd_insert(req_t *req, const char *table, const upd_field_t *fields, size_t n,
	       const upd_value_t *vals, int64_t *id);
/* UPDATE table SET (each column: the value when set, else itself),
 * updated_at = now WHERE id = id.
 * Returns the rows changed (0: no such row) or -1 (see db_error). */
int64_t upd_update(req_t *req, const char *table, const upd_field_t *fields, size_t n,
		   const upd_value_t *vals, int64_t id);

#endif
