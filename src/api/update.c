/*
 * update.c: the field-table reader and the INSERT / UPDATE it feeds
 * (contract in update.h).
 */
#include "update.h"
#include "../core/strbuf.h"
#include "../core/util.h"

upd_value_t *upd_values(req_t *req, size_t n)
{
	return arena_calloc(req->arena, (n ? n : 1) * sizeof(upd_value_t));
}

void upd_put(upd_value_t *val, db_param_t p)
{
	val->set = true;
	val->p = p;
}

static const char *column(const upd_field_t *f)
{
	return f->column ? f->column : f->name;
}

/* One field of the body into *out (left untouched when absent). */
static void read_one(valid_t *v, const upd_field_t *f, int flags, upd_value_t *out)
{
	const char *name = f->name;
	bool present = v_present(v, name);
	if (present && v_is_null(v, name) && (flags & V_NULLABLE)) {
		upd_put(out, P_TEXT(f->def_text)); /* NULL, or "" for text that is never null */
		return;
	}
	switch (f->kind) {
	case UPD_TEXT:
	case UPD_SLUG: {
		const char *s = f->kind == UPD_SLUG ? v_slug(v, name, flags, (size_t)f->max)
						    : v_str(v, name, flags, (size_t)f->min, (size_t)f->max);
		if (!s)
			return;
		const char *problem = *s && f->check ? f->check(v->req, s) : NULL;
		if (problem) {
			v_error(v, name, problem);
			return;
		}
		/* "" in a nullable text field is the same as null */
		upd_put(out, !*s && (flags & V_NULLABLE) ? P_TEXT(f->def_text) : P_TEXT(s));
		return;
	}
	case UPD_INT: {
		int64_t x = v_int(v, name, flags, f->min, f->max, 0);
		if (present)
			upd_put(out, P_INT(x));
		return;
	}
	case UPD_BOOL: {
		bool b = v_bool(v, name, flags, false);
		if (present)
			upd_put(out, P_BOOL(b));
		return;
	}
	case UPD_MONEY: {
		int64_t c = v_money(v, name, flags, f->max, 0);
		if (present)
			upd_put(out, P_INT(c));
		return;
	}
	case UPD_ENUM: {
		const char *s = v_enum(v, name, flags, f->allowed, NULL);
		if (s)
			upd_put(out, P_TEXT(s));
		return;
	}
	case UPD_HANDLER:
		return;
	}
}

/* The create default of a field: def_text / def_int; a nullable number
 * defaults to NULL. */
static db_param_t default_of(const upd_field_t *f)
{
	if (f->kind != UPD_TEXT && f->kind != UPD_SLUG && (f->flags & V_NULLABLE))
		return P_NULL;
	switch (f->kind) {
	case UPD_INT:
	case UPD_MONEY:
		return P_INT(f->def_int);
	case UPD_BOOL:
		return P_BOOL(f->def_int != 0);
	default:
		return P_TEXT(f->def_text);
	}
}

bool upd_read(valid_t *v, const upd_field_t *fields, size_t n, bool create, upd_value_t *out)
{
	for (size_t i = 0; i < n; i++) {
		const upd_field_t *f = &fields[i];
		out[i].set = false;
		out[i].p = create ? default_of(f) : P_NULL;
		if (!f->name || f->kind == UPD_HANDLER)
			continue;
		int flags = create ? f->flags : f->flags & ~V_REQUIRED;
		read_one(v, f, flags, &out[i]);
	}
	return v_ok(v);
}

int upd_insert(req_t *req, const char *table, const upd_field_t *fields, size_t n,
	       const upd_value_t *vals, int64_t *id)
{
	strbuf_t cols, ph;
	sb_init(&cols, 0);
	sb_init(&ph, 0);
	db_param_t *params = arena_alloc(req->arena, (n + 1) * sizeof(*params));
	int k = 0;
	for (size_t i = 0; i < n; i++) {
		params[k++] = vals[i].p;
		sb_addf(&cols, "%s, ", column(&fields[i]));
		sb_addf(&ph, "$%d, ", k);
	}
	params[k++] = P_INT(now_ms());
	char *sql = arena_printf(req->arena, "INSERT INTO %s (%screated_at, updated_at) VALUES (%s$%d, $%d) RETURNING id",
				 table, cols.buf ? cols.buf : "", ph.buf ? ph.buf : "", k, k);
	sb_release(&cols);
	sb_release(&ph);
	return db_scalar(req->db, sql, params, k, id);
}

int64_t upd_update(req_t *req, const char *table, const upd_field_t *fields, size_t n,
		   const upd_value_t *vals, int64_t id)
{
	strbuf_t sql;
	sb_init(&sql, 0);
	sb_addf(&sql, "UPDATE %s SET ", table);
	db_param_t *params = arena_alloc(req->arena, (2 * n + 2) * sizeof(*params));
	int k = 0;
	params[k++] = P_INT(id);
	for (size_t i = 0; i < n; i++) {
		const char *c = column(&fields[i]);
		params[k++] = P_BOOL(vals[i].set);
		params[k++] = vals[i].set ? vals[i].p : P_NULL;
		sb_addf(&sql, "%s = CASE WHEN $%d = TRUE THEN $%d ELSE %s END, ", c, k - 1, k, c);
	}
	params[k++] = P_INT(now_ms());
	sb_addf(&sql, "updated_at = $%d WHERE id = $1", k);
	int64_t changed = db_exec(req->db, sql.buf, params, k);
	sb_release(&sql);
	return changed;
}
