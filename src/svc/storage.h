/*
 * storage.h: where user files live, behind one interface.
 *
 * Local disk under $DATA_DIR/files/ by default; an S3-compatible bucket
 * (libcurl with AWS SigV4) when S3_BUCKET_NAME is set.  Keys look like
 * "images/3f2a….jpg": the first segment is the area (models, images,
 * avatars, attachments, derived), the rest a random name.  Model sources
 * are private: their keys are never turned into public URLs.
 *
 * Thread safe.  Files given to store_put are consumed (moved or deleted).
 */
#ifndef HWC_STORAGE_H
#define HWC_STORAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "jobs.h"

/* Reads the S3_* (or AWS_*) settings; false with a message on a bad one. */
bool store_init(char *err, size_t errlen);
bool store_is_s3(void);

/* Stores the local file at path under key, consuming the file.  Crash
 * safe: fsync, then one rename into place (S3: one PUT), so a key never
 * names a partial file.  Write the row that references key only after this
 * returns true, and delete the row before the file: a crash then leaves at
 * worst an unreferenced file, which the sweep (sweep.h) removes. */
bool store_put(const char *path, const char *key, const char *content_type, char *err, size_t errlen);
/* True when the object is gone (or was never there). */
bool store_delete(const char *key);
/* For request handlers (poll threads): local storage deletes at once (one
 * unlink); S3 queues a durable job (STORE_DELETE_JOB, jobs.h) so the
 * network round trip runs on a job worker and a failed delete is retried
 * with backoff.  False when the key is bad or the job cannot be queued. */
#define STORE_DELETE_JOB "s3_delete"
bool store_delete_later(db_t *db, const char *key);
/* The job's handler (registered by job_init): {"key": ...} deleted, or
 * JOB_RETRY. */
enum job_outcome store_delete_job(db_t *db, const job_t *job, json_t **result, char *err, size_t errlen);

/* The longest key the store takes (and lists). */
#define STORE_KEY_MAX 200

/* Calls fn(key, mtime_ms, arg) for every stored file of an area
 * ("models", ...) until fn returns false: the files directly in its
 * directory (local), or the objects under "<area>/" (S3, ListObjectsV2 page
 * by page, LastModified as mtime; storage_s3.h).  Names the store would not
 * give a file (key_ok: charset, length, no deeper '/') are skipped.  False
 * when the area is bad or the listing failed part way (logged; fn may have
 * been called for part of the files).  Slow on S3 (one request per 1000
 * objects): never on a poll thread; the sweep calls it from its own. */
typedef bool (*store_visit_fn)(const char *key, int64_t mtime_ms, void *arg);
bool store_list(const char *area, store_visit_fn fn, void *arg);

/* For serving from local disk: an open fd and its size, or -1. */
int store_open_local(const char *key, uint64_t *size);

/* CDN_URL + "/files/" + key; the caller frees. */
char *store_public_url(const char *key);
/* The same, with the Content-Disposition S3 should answer with. */
char *store_presigned_url_as(const char *key, int ttl_s, const char *content_disposition);

/* The directory for temp files of uploads in progress (on the same file
 * system as local storage, so a put is a rename). */
const char *store_tmp_dir(void);

#endif
