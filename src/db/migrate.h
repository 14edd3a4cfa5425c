/*
 * migrate.h: versioned schema migrations, embedded in the binary.
 *
 * Files migrations/NNNN_name.sql are written once for both engines with a
 * few tokens ({{PK}}, {{BOOL}}, {{BLOB}}) and dialect blocks
 * (-- @sqlite ... -- @end, -- @pg ... -- @end).  Each is applied in its own
 * transaction and recorded in schema_migrations; none is applied twice; a
 * database newer than the binary is refused.
 */
#ifndef HWC_MIGRATE_H
#define HWC_MIGRATE_H

#include "db.h"

struct migration {
	int version;
	const char *name;
	const char *sql;
};

/* Generated from migrations/ by scripts/embed.py. */
extern const struct migration hwc_migrations[];
extern const int hwc_n_migrations;

/* Applies what is missing.  Returns the number applied, or -1 with a
 * message in err. */
int migrate_up(db_t *db, char *err, size_t errlen);
/* The highest version recorded in the database (0 for none), or -1. */
int migrate_current(db_t *db);
/* Expands the tokens and dialect blocks for one engine; caller frees. */
char *migrate_render(const char *sql, enum db_kind kind);

#endif
