/*
 * safety.h: the safety scan as the API layer uses it (src/api/safety.c):
 * POST /api/models/safety-scan, the gate of POST /api/models, and the
 * scan summary of admin moderation.
 */
#ifndef HWC_API_SAFETY_H
#define HWC_API_SAFETY_H

#include <jansson.h>
#include "../http/request.h"

/* Continues a request once the upload's latest scan is known: when the
 * upload (a model of any owner: the caller checked ownership) has a scan,
 * then(req, ctx, verdict, scan) runs at once; otherwise the scan runs on
 * the worker pool first and is stored.  scan is the scan document (see
 * openapi SafetyScan), borrowed for the call.  Returns DONE. */
typedef int (*safety_then_fn)(req_t *req, void *ctx, const char *verdict, json_t *scan);
int safety_gate(req_t *req, int64_t upload_id, safety_then_fn then, void *ctx);

/* The latest scan of model_id's upload as {verdict, findings, duplicate_of,
 * scanned_at}, or JSON null when it has none. */
json_t *safety_summary(req_t *req, int64_t model_id);

#endif
