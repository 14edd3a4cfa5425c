/*
 * storage_s3.h: the S3 backend of storage.h (libcurl, AWS Signature V4).
 *
 * Settings: S3_BUCKET_NAME (turns it on), S3_ENDPOINT (default
 * https://s3.<region>.amazonaws.com; path-style URLs <endpoint>/<bucket>/<key>
 * for other endpoints), S3_REGION (default us-east-1), S3_ACCESS_KEY_ID,
 * S3_SECRET_ACCESS_KEY (or AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
 * AWS_REGION, AWS_ENDPOINT_URL); S3_LIST_PAGE_SIZE (1-1000, the max-keys of
 * a listing page; for tests).  Thread safe.
 */
#ifndef HWC_STORAGE_S3_H
#define HWC_STORAGE_S3_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* *enabled is set when S3_BUCKET_NAME is; false on a bad setting. */
bool s3_init(bool *enabled, char *err, size_t errlen);
bool s3_put_file(const char *path, const char *key, const char *content_type, char *err, size_t errlen);
bool s3_get_file(const char *key, const char *dest_path, char *err, size_t errlen);
bool s3_delete(const char *key);
/* A presigned GET URL (query-string SigV4), valid ttl_s seconds; caller frees. */
char *s3_presign_get(const char *key, int ttl_s);
/* Lists the objects whose keys start with prefix (ListObjectsV2, page by
 * page, at most a million), calling fn(key, mtime_ms, arg) for each until
 * fn returns false.  Keys longer than key_max bytes are skipped.  True when
 * the listing was read to its end or fn stopped it; false with a message
 * when a request or an answer failed (fn may have been called already). */
typedef bool (*s3_visit_fn)(const char *key, int64_t mtime_ms, void *arg);
bool s3_list(const char *prefix, size_t key_max, s3_visit_fn fn, void *arg, char *err, size_t errlen);
/* The same, and S3 answers with this Content-Disposition (for example
 * "attachment; filename=\"model.glb\""), so a redirect to S3 keeps the
 * download behaviour local serving has; NULL for none.  Caller frees. */
char *s3_presign_get_as(const char *key, int ttl_s, const char *content_disposition);

#endif
