/*
 * The ListObjectsV2 answer parser (svc/s3_list.c): keys and times out of a
 * real-shaped page, the continuation token, and refusals: not XML, a DTD
 * or entities, another root, a truncated page without a token, a huge
 * answer; keys over the limit and bad times skipped.
 */
#include <stdlib.h>
#include "t.h"
#include "svc/s3_list.h"
#include "core/strbuf.h"

#define HEAD "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" \
	"<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">" \
	"<Name>b</Name><Prefix>models/</Prefix><KeyCount>2</KeyCount><MaxKeys>2</MaxKeys>"

static bool parse(const char *xml, struct s3_list_page *p, char *err)
{
	return s3_list_parse(xml, strlen(xml), 200, p, err, 256);
}

TEST(s3list_parses_a_page_and_its_token)
{
	const char *xml = HEAD "<IsTruncated>true</IsTruncated>"
		"<Contents><Key>models/a.glb</Key><LastModified>2026-12-07T12:00:00.123Z</LastModified>"
		"<ETag>&quot;x&quot;</ETag><Size>3</Size><StorageClass>STANDARD</StorageClass></Contents>"
		"<Contents><LastModified>1970-01-01T00:00:01Z</LastModified><Key>models/b&amp;c.glb</Key></Contents>"
		"<NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>"
		"</ListBucketResult>";
	struct s3_list_page p;
	char err[256] = "";
	CHECK(parse(xml, &p, err));
	CHECK(p.n == 2 && p.skipped == 0 && p.truncated);
	if (p.n == 2) {
		CHECK_STR(p.items[0].key, "models/a.glb");
		CHECK(p.items[0].mtime_ms == 1796644800123LL);
		CHECK_STR(p.items[1].key, "models/b&c.glb");
		CHECK(p.items[1].mtime_ms == 1000);
	}
	CHECK_STR(p.next_token, "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=");
	s3_list_page_free(&p);

	/* the last page: no token; an empty page is fine too */
	CHECK(parse(HEAD "<IsTruncated>false</IsTruncated></ListBucketResult>", &p, err));
	CHECK(p.n == 0 && !p.truncated && !p.next_token);
	s3_list_page_free(&p);
	CHECK(parse("<ListBucketResult><Contents><Key><![CDATA[images/x.png]]></Key>"
		    "<LastModified>2000-02-29T23:59:60+00:00</LastModified></Contents></ListBucketResult>", &p, err));
	CHECK(p.n == 1 && p.items && !strcmp(p.items[0].key, "images/x.png"));
	s3_list_page_free(&p);
}

TEST(s3list_skips_long_keys_and_bad_times)
{
	char longkey[260];
	memset(longkey, 'a', 201);
	longkey[201] = '\0';
	strbuf_t sb;
	sb_init(&sb, 1 << 20);
	sb_adds(&sb, HEAD);
	sb_addf(&sb, "<Contents><Key>%s</Key><LastModified>2026-01-01T00:00:00Z</LastModified></Contents>", longkey);
	longkey[200] = '\0'; /* exactly the limit: kept */
	sb_addf(&sb, "<Contents><Key>%s</Key><LastModified>2026-01-01T00:00:00Z</LastModified></Contents>", longkey);
	static const char *bad_times[] = { "2026-02-30T00:00:00Z", "2026-01-01T00:00:00", "2026-01-01 00:00:00Z",
					   "2026-01-01T24:00:00Z", "1969-12-31T23:59:59Z", "2026-01-01T00:00:00+01:00",
					   "2026-01-01T00:00:00.Z", "", "2026-1-01T00:00:00Z" };
	for (size_t i = 0; i < sizeof(bad_times) / sizeof(*bad_times); i++)
		sb_addf(&sb, "<Contents><Key>k%zu</Key><LastModified>%s</LastModified></Contents>", i, bad_times[i]);
	sb_adds(&sb, "<Contents><Key></Key><LastModified>2026-01-01T00:00:00Z</LastModified></Contents>"
		     "<Contents><Key>no-time</Key></Contents>"
		     "<Contents><Key>x<b>y</b></Key><LastModified>2026-01-01T00:00:00Z</LastModified></Contents>"
		     "</ListBucketResult>");
	struct s3_list_page p;
	char err[256] = "";
	CHECK(parse(sb.buf, &p, err));
	CHECK(p.n == 1 && p.skipped == 13);
	CHECK(p.n == 1 && strlen(p.items[0].key) == 200);
	s3_list_page_free(&p);
	sb_release(&sb);
}

TEST(s3list_refuses_what_is_not_a_listing)
{
	static const char *bad[] = {
		"",
		"not xml",
		"<ListBucketResult><Contents>",
		"<Error><Code>AccessDenied</Code></Error>",
		/* a truncated page must say where to go on */
		"<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>",
		"<ListBucketResult><IsTruncated>true</IsTruncated><NextContinuationToken></NextContinuationToken></ListBucketResult>",
		/* any DTD: internal entities, external ones, billion laughs */
		"<!DOCTYPE l [<!ENTITY e \"models/x\">]><ListBucketResult><Contents><Key>&e;</Key>"
		"<LastModified>2026-01-01T00:00:00Z</LastModified></Contents></ListBucketResult>",
		"<!DOCTYPE l [<!ENTITY e SYSTEM \"file:///etc/passwd\">]><ListBucketResult><Contents><Key>&e;</Key>"
		"<LastModified>2026-01-01T00:00:00Z</LastModified></Contents></ListBucketResult>",
		"<!DOCTYPE l SYSTEM \"http://127.0.0.1:1/x.dtd\"><ListBucketResult></ListBucketResult>",
		"<!DOCTYPE l [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">"
		"<!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\">]><ListBucketResult><Contents><Key>&c;</Key>"
		"</Contents></ListBucketResult>",
		/* an entity never declared */
		"<ListBucketResult><Contents><Key>&e;</Key></Contents></ListBucketResult>",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		struct s3_list_page p;
		char err[256] = "";
		bool ok = parse(bad[i], &p, err);
		if (ok)
			fprintf(stderr, "    accepted: %s\n", bad[i]);
		CHECK(!ok && *err && p.n == 0 && !p.items && !p.next_token);
		s3_list_page_free(&p);
	}
	/* too big, before any parsing */
	size_t n = S3_LIST_ANSWER_MAX + 1;
	char *big = malloc(n);
	memset(big, ' ', n);
	struct s3_list_page p;
	char err[256] = "";
	CHECK(big && !s3_list_parse(big, n, 200, &p, err, sizeof(err)) && strstr(err, "larger"));
	s3_list_page_free(&p);
	free(big);
}

TEST(s3list_parses_rfc3339_utc_times)
{
	int64_t ms = -1;
	CHECK(s3_parse_time("1970-01-01T00:00:00Z", &ms) && ms == 0);
	CHECK(s3_parse_time("2000-03-01T00:00:00.5Z", &ms) && ms == 951868800500LL);
	CHECK(s3_parse_time("2024-02-29T12:34:56.789123Z", &ms) && ms == 1709210096789LL);
	CHECK(s3_parse_time("2026-12-07T12:00:00+00:00", &ms) && ms == 1796644800000LL);
	CHECK(!s3_parse_time("2023-02-29T00:00:00Z", &ms));
	CHECK(!s3_parse_time("2026-12-07T12:00:00.1234567890Z", &ms));
	CHECK(!s3_parse_time("2026-12-07T12:00:00Zjunk", &ms));
}
