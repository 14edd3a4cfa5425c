/*
 * fuzz_s3list: the S3 ListObjectsV2 answer parser (svc/s3_list.c), which
 * reads what a bucket endpoint sends the orphan sweep.
 *
 * Input: the answer's bytes, parsed whole; and its first line (up to 64
 * bytes, as a C string) as a LastModified time.
 *
 * Checked: an accepted page holds only keys of 1 to KEY_MAX bytes, times
 * of 1970 or later, and a next token exactly when it is truncated (of at
 * most S3_LIST_TOKEN_MAX bytes); a refused one is empty with a message; an
 * accepted time names the same date and time of day as gmtime() gives back
 * for it (leap seconds aside).  ASan and UBSan watch libxml2's callers and
 * the arithmetic; the parse must also never reach the network or a file
 * (XML_PARSE_NONET, no DTD loading: an input naming one is refused).
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "fuzz.h"
#include "svc/s3_list.h"
#include "core/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ASSERT(c) do { if (!(c)) { fprintf(stderr, "fuzz_s3list: %s\n", #c); abort(); } } while (0)

#define KEY_MAX 200

static void check_time(const uint8_t *data, size_t size)
{
	char s[65];
	size_t n = 0;
	while (n < size && n < sizeof(s) - 1 && data[n] != '\n')
		n++;
	memcpy(s, data, n);
	s[n] = '\0';
	int64_t ms = -1;
	if (!s3_parse_time(s, &ms))
		return;
	ASSERT(ms >= 0);
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	ASSERT(gmtime_r(&t, &tm));
	char back[32];
	snprintf(back, sizeof(back), "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
		 tm.tm_hour, tm.tm_min, tm.tm_sec);
	/* The date and the time of day; s[10] is 'T' or 't'. */
	if (!strncmp(s + 17, "60", 2)) /* a leap second reads as :59.999 */
		ASSERT(!strncmp(back, s, 10) && !strncmp(back + 11, s + 11, 6) && !strcmp(back + 17, "59") &&
		       ms % 1000 == 999);
	else
		ASSERT(!strncmp(back, s, 10) && !strncmp(back + 11, s + 11, 8));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_time(data, size);

	struct s3_list_page p;
	char err[256] = "";
	bool ok = s3_list_parse((const char *)data, size, KEY_MAX, &p, err, sizeof(err));
	if (!ok) {
		ASSERT(*err && p.n == 0 && !p.items && !p.next_token && !p.truncated);
	} else {
		ASSERT(p.n <= S3_LIST_ITEMS_MAX);
		for (size_t i = 0; i < p.n; i++) {
			size_t len = strlen(p.items[i].key);
			ASSERT(len >= 1 && len <= KEY_MAX);
			ASSERT(p.items[i].mtime_ms >= 0);
		}
		ASSERT(p.truncated == (p.next_token != NULL));
		ASSERT(!p.next_token || (*p.next_token && strlen(p.next_token) <= S3_LIST_TOKEN_MAX));
	}
	s3_list_page_free(&p);
	return 0;
}
