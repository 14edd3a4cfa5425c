/* Strict HTTP framing (src/http/framing.c). */
#include "t.h"
#include "http/framing.h"
#include "core/util.h"

#define F(n, v) { n, v }

static int verdict(const http_field_t *f, size_t n)
{
	return http_framing_check(f, n).status;
}

TEST(framing_plain_requests_pass)
{
	http_field_t a[] = { F("Host", "x"), F("Content-Type", "application/json"), F("Content-Length", "12") };
	CHECK(verdict(a, ARRAY_LEN(a)) == 0);
	http_field_t b[] = { F("Host", "x"), F("transfer-encoding", "Chunked") };
	CHECK(verdict(b, ARRAY_LEN(b)) == 0);
	CHECK(verdict(NULL, 0) == 0);
	http_field_t c[] = { F("X-Empty", ""), F("User-Agent", "curl/8 (x; y)\tz") };
	CHECK(verdict(c, ARRAY_LEN(c)) == 0);
}

TEST(framing_smuggling_shapes_are_400)
{
	http_field_t both[] = { F("Content-Length", "5"), F("Transfer-Encoding", "chunked") };
	CHECK(verdict(both, 2) == 400);
	http_field_t two_cl[] = { F("Content-Length", "5"), F("content-length", "5") };
	CHECK(verdict(two_cl, 2) == 400);
	http_field_t two_te[] = { F("Transfer-Encoding", "chunked"), F("Transfer-Encoding", "chunked") };
	CHECK(verdict(two_te, 2) == 400);
	http_field_t space[] = { F("Content-Length ", "5") };
	CHECK(verdict(space, 1) == 400);
	http_field_t tab[] = { F("Content-Length\t", "5") };
	CHECK(verdict(tab, 1) == 400);
	http_field_t folded[] = { F("Transfer-Encodingchunked", "") };
	CHECK(verdict(folded, 1) == 400);
	http_field_t folded_cl[] = { F("Content-Length46", "") };
	CHECK(verdict(folded_cl, 1) == 400);
	http_field_t gzip[] = { F("Transfer-Encoding", "gzip") };
	CHECK(verdict(gzip, 1) == 400);
	http_field_t list[] = { F("Transfer-Encoding", "gzip, chunked") };
	CHECK(verdict(list, 1) == 400);
	const char *bad_cl[] = { "", "+5", "-1", "5 ", " 5", "0x5", "5,5", "1234567890123456789", "5a" };
	for (size_t i = 0; i < ARRAY_LEN(bad_cl); i++) {
		http_field_t f[] = { F("Content-Length", bad_cl[i]) };
		CHECK(verdict(f, 1) == 400);
	}
	http_field_t empty_name[] = { F("", "x") };
	CHECK(verdict(empty_name, 1) == 400);
	http_field_t ctl[] = { F("X-A", "a\x01" "b") };
	CHECK(verdict(ctl, 1) == 400);
}

TEST(framing_limits_are_431)
{
	static http_field_t many[HTTP_MAX_HEADERS + 1];
	for (size_t i = 0; i < ARRAY_LEN(many); i++)
		many[i] = (http_field_t)F("X-A", "1");
	CHECK(verdict(many, HTTP_MAX_HEADERS) == 0);
	CHECK(verdict(many, HTTP_MAX_HEADERS + 1) == 431);
	static char big[HTTP_MAX_FIELD_BYTES + 2];
	memset(big, 'a', sizeof(big) - 1);
	http_field_t one[] = { F("X-Big", big) };
	CHECK(verdict(one, 1) == 431);
	static char half[HTTP_MAX_FIELD_BYTES - 100];
	memset(half, 'a', sizeof(half) - 1);
	http_field_t sum[] = { F("X-A", half), F("X-B", half), F("X-C", half) };
	CHECK(verdict(sum, 3) == 431);
}
