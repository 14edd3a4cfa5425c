/* Range, If-None-Match and Accept-Encoding (http/conditional.h). */
#include <stdint.h>
#include "t.h"
#include "http/conditional.h"

#define SENTINEL 0xdeadbeefULL

/* The result of h on size bytes; from and to stay SENTINEL but on OK. */
static enum http_range range(const char *h, uint64_t size, uint64_t *from, uint64_t *to)
{
	*from = *to = SENTINEL;
	return http_range_parse(h, size, from, to);
}

TEST(range_forms)
{
	uint64_t f, t;
	CHECK(range("bytes=0-0", 100, &f, &t) == HTTP_RANGE_OK && f == 0 && t == 0);
	CHECK(range("bytes=0-99", 100, &f, &t) == HTTP_RANGE_OK && f == 0 && t == 99);
	CHECK(range("bytes=10-19", 100, &f, &t) == HTTP_RANGE_OK && f == 10 && t == 19);
	/* suffix: the last n bytes, all of them when n is larger */
	CHECK(range("bytes=-5", 100, &f, &t) == HTTP_RANGE_OK && f == 95 && t == 99);
	CHECK(range("bytes=-100", 100, &f, &t) == HTTP_RANGE_OK && f == 0 && t == 99);
	CHECK(range("bytes=-500", 100, &f, &t) == HTTP_RANGE_OK && f == 0 && t == 99);
	/* open end, and an end past the size: clipped to the last byte */
	CHECK(range("bytes=5-", 100, &f, &t) == HTTP_RANGE_OK && f == 5 && t == 99);
	CHECK(range("bytes=5-1000", 100, &f, &t) == HTTP_RANGE_OK && f == 5 && t == 99);
	CHECK(range("bytes=99-", 100, &f, &t) == HTTP_RANGE_OK && f == 99 && t == 99);
}

TEST(range_unsatisfiable)
{
	uint64_t f, t;
	CHECK(range("bytes=100-", 100, &f, &t) == HTTP_RANGE_UNSATISFIABLE && f == SENTINEL && t == SENTINEL);
	CHECK(range("bytes=100-200", 100, &f, &t) == HTTP_RANGE_UNSATISFIABLE);
	CHECK(range("bytes=5000-", 100, &f, &t) == HTTP_RANGE_UNSATISFIABLE);
	CHECK(range("bytes=-0", 100, &f, &t) == HTTP_RANGE_UNSATISFIABLE);
	/* an empty file has no byte to send */
	CHECK(range("bytes=0-0", 0, &f, &t) == HTTP_RANGE_UNSATISFIABLE);
	CHECK(range("bytes=0-", 0, &f, &t) == HTTP_RANGE_UNSATISFIABLE);
	CHECK(range("bytes=-5", 0, &f, &t) == HTTP_RANGE_UNSATISFIABLE && f == SENTINEL);
}

TEST(range_ignored)
{
	uint64_t f, t;
	/* several ranges: the whole file (static.c answers 200) */
	CHECK(range("bytes=0-1,5-6", 100, &f, &t) == HTTP_RANGE_NONE && f == SENTINEL && t == SENTINEL);
	CHECK(range("bytes=0-1, 5-6", 100, &f, &t) == HTTP_RANGE_NONE);
	CHECK(range("bytes=0-0,-1", 100, &f, &t) == HTTP_RANGE_NONE);
	/* no header, another unit, junk */
	CHECK(range(NULL, 100, &f, &t) == HTTP_RANGE_NONE);
	CHECK(range("", 100, &f, &t) == HTTP_RANGE_NONE);
	CHECK(range("bytes=", 100, &f, &t) == HTTP_RANGE_NONE);
	CHECK(range("bytes=-", 100, &f, &t) == HTTP_RANGE_NONE);
	CHECK(range("bytes=a-b", 100, &f, &t) == HTTP_RANGE_NONE);
	CHECK(range("bytes=1-2-3", 100, &f, &t) == HTTP_RANGE_NONE);
	CHECK(range("bytes=1--2", 100, &f, &t) == HTTP_RANGE_NONE);
	CHECK(range("bytes=5", 100, &f, &t) == HTTP_RANGE_NONE);
	CHECK(range("bytes=0x10-", 100, &f, &t) == HTTP_RANGE_NONE);
	CHECK(range("bytes=+1-2", 100, &f, &t) == HTTP_RANGE_NONE);
	CHECK(range("bytes=1-+2", 100, &f, &t) == HTTP_RANGE_NONE);
	CHECK(range("bytes=--1", 100, &f, &t) == HTTP_RANGE_NONE);
	CHECK(range("items=0-5", 100, &f, &t) == HTTP_RANGE_NONE);
	CHECK(range("Bytes=0-5", 100, &f, &t) == HTTP_RANGE_NONE);
	CHECK(range("bytes 0-5/100", 100, &f, &t) == HTTP_RANGE_NONE);
	/* an end before the start is invalid, so ignored (not 416) */
	CHECK(range("bytes=9-3", 100, &f, &t) == HTTP_RANGE_NONE);
	/* spaces anywhere (strtoull would skip the leading ones) */
	CHECK(range("bytes= 0-5", 100, &f, &t) == HTTP_RANGE_NONE);
	CHECK(range("bytes=0 -5", 100, &f, &t) == HTTP_RANGE_NONE);
	CHECK(range("bytes=0- 5", 100, &f, &t) == HTTP_RANGE_NONE);
	CHECK(range("bytes=0-5 ", 100, &f, &t) == HTTP_RANGE_NONE);
	CHECK(range("bytes=- 5", 100, &f, &t) == HTTP_RANGE_NONE);
	CHECK(range(" bytes=0-5", 100, &f, &t) == HTTP_RANGE_NONE);
	CHECK(range("bytes=0-5\t", 100, &f, &t) == HTTP_RANGE_NONE);
	CHECK(f == SENTINEL && t == SENTINEL);
}

TEST(range_overflow)
{
	uint64_t f, t;
	/* 2^64 and beyond do not fit: ignored, never wrapped */
	CHECK(range("bytes=18446744073709551616-", 100, &f, &t) == HTTP_RANGE_NONE);
	CHECK(range("bytes=0-18446744073709551616", 100, &f, &t) == HTTP_RANGE_NONE);
	CHECK(range("bytes=-18446744073709551616", 100, &f, &t) == HTTP_RANGE_NONE);
	CHECK(range("bytes=-99999999999999999999999999", 100, &f, &t) == HTTP_RANGE_NONE);
	CHECK(f == SENTINEL && t == SENTINEL);
	/* 2^64 - 1 fits: past the end, or all of it */
	CHECK(range("bytes=18446744073709551615-", 100, &f, &t) == HTTP_RANGE_UNSATISFIABLE);
	CHECK(range("bytes=0-18446744073709551615", 100, &f, &t) == HTTP_RANGE_OK && f == 0 && t == 99);
	CHECK(range("bytes=-18446744073709551615", 100, &f, &t) == HTTP_RANGE_OK && f == 0 && t == 99);
	CHECK(range("bytes=-1", UINT64_MAX, &f, &t) == HTTP_RANGE_OK && f == UINT64_MAX - 1 && t == UINT64_MAX - 1);
	CHECK(range("bytes=18446744073709551614-", UINT64_MAX, &f, &t) == HTTP_RANGE_OK &&
	      f == UINT64_MAX - 1 && t == UINT64_MAX - 1);
}

TEST(etag_lists)
{
	const char *a = "\"abc\"", *gz = "\"abc-gz\"";
	CHECK(http_etag_matches("\"abc\"", a, gz));
	CHECK(http_etag_matches("\"abc-gz\"", a, gz));
	CHECK(http_etag_matches("\"abc-gz\"", NULL, gz));
	CHECK(!http_etag_matches("\"abc-gz\"", a, NULL));
	CHECK(http_etag_matches("\"x\", \"abc\"", a, NULL));
	CHECK(http_etag_matches("\"abc\",\"x\"", a, NULL));
	CHECK(http_etag_matches(" \t\"x\" ,\t \"abc\" \t", a, NULL));
	CHECK(http_etag_matches(",,\"abc\",,", a, NULL));
	CHECK(!http_etag_matches("\"a\", \"b\"", a, gz));
	CHECK(http_etag_matches("\"a\", \"b\"", "\"b\"", NULL));
	CHECK(http_etag_matches("\"a\", \"b\"", "\"a\"", NULL));
	/* no partial or unquoted matches */
	CHECK(!http_etag_matches("abc", a, gz));
	CHECK(!http_etag_matches("\"ab\"", a, gz));
	CHECK(!http_etag_matches("\"abc\"x", a, gz));
	CHECK(!http_etag_matches("\"abc-g\"", a, gz));
	CHECK(!http_etag_matches("", a, gz));
	CHECK(!http_etag_matches(",", a, gz));
	CHECK(!http_etag_matches(NULL, a, gz));
}

TEST(etag_weak_and_star)
{
	const char *a = "\"x\"";
	/* If-None-Match compares weakly */
	CHECK(http_etag_matches("W/\"x\"", a, NULL));
	CHECK(http_etag_matches("\"y\", W/\"x\"", a, NULL));
	CHECK(!http_etag_matches("w/\"x\"", a, NULL));
	CHECK(!http_etag_matches("W/ \"x\"", a, NULL));
	CHECK(!http_etag_matches("W/W/\"x\"", a, NULL));
	/* "*" alone matches any representation; inside a list it is junk */
	CHECK(http_etag_matches("*", a, NULL));
	CHECK(http_etag_matches("*", NULL, NULL));
	CHECK(!http_etag_matches("*, \"y\"", a, NULL));
	CHECK(!http_etag_matches(" *", a, NULL));
}

TEST(accept_encoding_gzip)
{
	CHECK(http_accepts_gzip("gzip"));
	CHECK(http_accepts_gzip("GZIP"));
	CHECK(http_accepts_gzip("GZip"));
	CHECK(http_accepts_gzip("gzip, deflate, br"));
	CHECK(http_accepts_gzip("br, gzip;q=0.5"));
	CHECK(http_accepts_gzip("br,gzip"));
	CHECK(http_accepts_gzip("deflate, gzip ;q=1.0"));
	CHECK(http_accepts_gzip("gzip;q=0.001"));
	CHECK(http_accepts_gzip("gzip;q=1"));
	CHECK(http_accepts_gzip("\tgzip\t"));
	CHECK(http_accepts_gzip("*"));
	CHECK(http_accepts_gzip("br;q=1, *;q=0.1"));
	CHECK(http_accepts_gzip("deflate, x-gzip"));
	CHECK(http_accepts_gzip("gzip;xq=0"));
	CHECK(http_accepts_gzip("gzip;q=0.5;x=0"));
	CHECK(http_accepts_gzip("gzip;q=01"));
	CHECK(http_accepts_gzip("*;q=0, gzip"));
}

TEST(accept_encoding_refused)
{
	CHECK(!http_accepts_gzip("gzip;q=0"));
	CHECK(!http_accepts_gzip("gzip; q=0"));
	CHECK(!http_accepts_gzip("gzip;q=0.0"));
	CHECK(!http_accepts_gzip("gzip;q=0.000"));
	CHECK(!http_accepts_gzip("GZIP;q=0, br"));
	CHECK(!http_accepts_gzip("br, gzip;q=0"));
	CHECK(!http_accepts_gzip("*;q=0"));
	CHECK(!http_accepts_gzip("br;q=1, *;q=0"));
	/* gzip named decides over *, whatever their order */
	CHECK(!http_accepts_gzip("gzip;q=0, *"));
	CHECK(!http_accepts_gzip("*, gzip;q=0"));
	CHECK(!http_accepts_gzip("gzip;Q=0"));
	CHECK(!http_accepts_gzip("gzip;level=1;q=0"));
	CHECK(!http_accepts_gzip("gzip;q=0;x=1"));
	CHECK(!http_accepts_gzip("gzip ; q = 0 "));
	CHECK(!http_accepts_gzip("x-gzip;q=0, *"));
	CHECK(!http_accepts_gzip("identity"));
	CHECK(!http_accepts_gzip("identity;q=1, br"));
	CHECK(!http_accepts_gzip("br"));
	CHECK(!http_accepts_gzip("deflate, x-gzipped"));
	CHECK(!http_accepts_gzip("gzipped"));
	CHECK(!http_accepts_gzip("gzi"));
	CHECK(!http_accepts_gzip("**"));
	CHECK(!http_accepts_gzip("q=1"));
	CHECK(!http_accepts_gzip(";;;,,, ;q=0"));
	CHECK(!http_accepts_gzip(""));
	CHECK(!http_accepts_gzip(" , "));
	CHECK(!http_accepts_gzip(NULL));
}
