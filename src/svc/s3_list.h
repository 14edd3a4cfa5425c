/*
 * s3_list.h: one page of an S3 ListObjectsV2 answer, parsed (s3_list.c).
 *
 * Pure: bytes in, (key, mtime) pairs and the next continuation token out;
 * no network, no global state, so tests/unit and tests/fuzz/fuzz_s3list.c
 * drive it directly.  storage_s3.c fetches the pages.
 *
 * The answer is untrusted (a bucket endpoint we are configured with, or
 * whatever sits in its place): at most S3_LIST_ANSWER_MAX bytes, parsed by
 * libxml2 without network access, DTD loading or entity substitution, and
 * refused when it has a DTD at all (S3 never sends one).
 */
#ifndef HWC_S3_LIST_H
#define HWC_S3_LIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define S3_LIST_ANSWER_MAX ((size_t)4 << 20) /* a 1000-key page is ~350 KB */
#define S3_LIST_ITEMS_MAX 10000              /* S3 sends at most 1000 */
#define S3_LIST_TOKEN_MAX 2048               /* S3's are ~100-200 bytes */

struct s3_list_item {
	char *key;
	int64_t mtime_ms; /* LastModified, ms since the epoch (UTC) */
};

struct s3_list_page {
	struct s3_list_item *items;
	size_t n;
	size_t skipped;    /* Contents left out: no key, a key over key_max bytes, a bad LastModified */
	bool truncated;    /* IsTruncated: another page follows */
	char *next_token;  /* NextContinuationToken, or NULL (always set when truncated) */
};

/* Parses one ListBucketResult.  Keys longer than key_max bytes, empty or
 * holding a NUL are skipped (counted in skipped), as are objects whose
 * LastModified is not an RFC 3339 UTC time.  False, with a message, when
 * the answer is too big, not XML, has a DTD, is not a ListBucketResult,
 * or says IsTruncated without a usable NextContinuationToken; out is then
 * empty.  Free out with s3_list_page_free in every case. */
bool s3_list_parse(const char *xml, size_t len, size_t key_max, struct s3_list_page *out, char *err,
		   size_t errlen);
void s3_list_page_free(struct s3_list_page *p);

/* "2026-12-07T12:00:00.123Z" (fraction optional, "Z" or "+00:00") into ms
 * since the epoch; false on anything else. */
bool s3_parse_time(const char *s, int64_t *ms);

#endif
