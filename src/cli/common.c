/* common.c: what the subcommands share. */
#include <errno.h>
#include <sys/stat.h>
#include "cli.h"
#include "../core/config.h"
#include "../core/util.h"
#include "../db/migrate.h"

int cli_make_data_dir(void)
{
	if (mkdir(cfg.data_dir, 0750) && errno != EEXIST) {
		fprintf(stderr, "hwc3d: cannot create DATA_DIR %s: %s\n", cfg.data_dir, strerror(errno));
		return -1;
	}
	return 0;
}

/* Opens the database and brings the schema up to date. */
int cli_open_db(db_t **out)
{
	if (cli_make_data_dir())
		return 1;
	db_t *db = db_open();
	if (!db) {
		fprintf(stderr, "hwc3d: cannot open the database (see the log above)\n");
		return 1;
	}
	char err[512];
	int n = migrate_up(db, err, sizeof(err));
	if (n < 0) {
		fprintf(stderr, "hwc3d: %s\n", err);
		db_close(db);
		return 1;
	}
	*out = db;
	return 0;
}

