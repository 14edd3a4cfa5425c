/*
 * model_convert.h: the "model_convert" job, which gives a model a GLB for
 * the web viewer (media/convert.h) and records the outcome on the model
 * (migration 0020: viewer_key, conversion_status, conversion_error).
 *
 * Enqueued by POST /api/models for every model that is not a GLB (a GLB is
 * shown as uploaded), and by `hwc3d convert-models` for older models.
 * Payload {"model_id": N} (with "quality_only": true, a model whose GLB
 * is done only gets its missing quality report).  A model without a
 * quality report (stored before there were reports, or by seed-demo) gets
 * one from an analysis of its file.  Outcomes:
 *   - converted: the GLB is stored under "derived/<random>.glb", the model
 *     gets viewer_key and conversion_status 'done'; a model deleted
 *     meanwhile gets nothing and the GLB is deleted;
 *   - the file cannot be converted: conversion_status 'failed' with the
 *     reason in conversion_error, the owner is notified, the job fails at
 *     once (no retry: the same bytes fail the same way);
 *   - the server cannot convert now (no free converter, Blender missing,
 *     storage unreachable): the job is retried with backoff; after its last
 *     attempt the model is marked failed with that reason.
 * The job's result: {"model_id", "viewer_key", "bytes", "poly_count"}.
 */
#ifndef HWC_MODEL_CONVERT_H
#define HWC_MODEL_CONVERT_H

#include <stdbool.h>
#include <stdint.h>
#include "../db/db.h"

#define MODEL_CONVERT_JOB "model_convert"
#define MODEL_CONVERT_ATTEMPTS 4

/* Registers the kind (before job_workers_start). */
void model_convert_register(void);

/* Queues the conversion of a model (in the caller's transaction);
 * quality_only: only its missing quality report. */
bool model_convert_enqueue(db_t *db, int64_t model_id, int64_t owner_id, bool quality_only);

#endif
