/* cli.h: subcommands beyond serve (admin accounts, demo data). */
#ifndef HWC_CLI_H
#define HWC_CLI_H

#include "../db/db.h"

/* Opens the database with the schema up to date (main.c); 0 on success. */
int cli_open_db(db_t **out);
/* Creates DATA_DIR when missing; 0 on success. */
int cli_make_data_dir(void);

int cli_create_admin(int argc, char **argv);
int cli_seed_demo(int argc, char **argv);
/* hwc3d job-enqueue KIND JSON [--owner ID] (jobs.c). */
int cli_job_enqueue(int argc, char **argv);
/* hwc3d fingerprint-backfill [--limit N]: fingerprints of older models
 * (fingerprints.c). */
int cli_fingerprint_backfill(int argc, char **argv);
/* hwc3d convert-models [--all | --model ID] (convert.c). */
int cli_convert_models(int argc, char **argv);
/* hwc3d render-thumbnails: queue thumbnails for models without one (jobs.c). */
int cli_render_thumbnails(int argc, char **argv);
/* hwc3d routes: the route table as JSON, with handler names (routes.c). */
int cli_routes(void);
/* The demo marketplace (seed_models.c); 0 on success. */
int seed_models(db_t *db, const char *password_hash);
int seed_activity(db_t *db);
/* N more approved models for benchmarks (after seed_models). */
int seed_bulk_models(db_t *db, int64_t n);
/* Testimonials and slider slides (with generated images). */
int seed_home(db_t *db);
/* Published demo courses with lessons; demo bounties from the demo buyers
 * with applications from the demo creators (after seed_models)
 * (seed_learn.c). */
int seed_courses(db_t *db);
int seed_bounties(db_t *db);

#endif
