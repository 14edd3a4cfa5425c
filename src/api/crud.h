/*
 * crud.h: the create / read / update / delete handlers of a simple admin
 * resource (a table with an integer id, created_at and updated_at), from
 * one description:
 *
 *	static const crud_t slides = { .table = "slider_slides", .fields = slide_fields,
 *		.nfields = S_FIELDS, .noun = "Slide", .select_one = "SELECT ... WHERE id = $1",
 *		.row = slide_json, .area = CACHE_HOME };
 *	static int admin_slider_update(req_t *req) { return crud_update(req, &slides); }
 *
 * Bodies are read with the field table (update.h: one meaning of null);
 * the id is the route's {id:int}; every write invalidates the cache area.
 * Errors: 404 "<noun> not found", database errors through on_db_error
 * (when set: unique / foreign-key cases of the resource) or reply_db_error.
 */
#ifndef HWC_CRUD_H
#define HWC_CRUD_H

#include "../svc/cache.h"
#include "update.h"

typedef struct crud {
	const char *table;
	const upd_field_t *fields;
	size_t nfields;
	const char *noun;       /* "Slide": "Slide not found", "Slide deleted" */
	const char *select_one; /* the row as row() reads it, WHERE id = $1 */
	json_t *(*row)(db_rows_t *r);
	enum cache_area area;
	/* Optional: a failed write's answer (db_error tells the cause). */
	int (*on_db_error)(req_t *req, const char *what);
	/* Optional: values derived from the others before a create. */
	void (*before_create)(req_t *req, upd_value_t *in);
} crud_t;

/* The row as JSON with status, or 404. */
int crud_reply_one(req_t *req, const crud_t *c, int64_t id, int status);
int crud_get(req_t *req, const crud_t *c);    /* 200 */
int crud_create(req_t *req, const crud_t *c); /* 201 with the row */
int crud_update(req_t *req, const crud_t *c); /* 200 with the row */
int crud_delete(req_t *req, const crud_t *c); /* 200 {"message", "id"} */

#endif
