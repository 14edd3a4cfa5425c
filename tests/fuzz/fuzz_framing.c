/*
 * fuzz_framing: the strict HTTP framing checks (src/http/framing.c).
 *
 * Input: a header section as lines "name:value\n" (split at the first
 * colon, as libmicrohttpd does; a line without one is a name with an empty
 * value).  Checked against an independent reading of the same fields: a
 * request that carries Content-Length together with Transfer-Encoding,
 * two of either, a Content-Length that is not plain digits or a coding
 * that is not "chunked" is never let through, and a verdict is always
 * 0, 400 or 431.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "fuzz.h"
#include "http/framing.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_FIELDS (HTTP_MAX_HEADERS + 8)
#define ASSERT(c) do { if (!(c)) { fprintf(stderr, "fuzz_framing: %s\n", #c); abort(); } } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1);
	memcpy(buf, data, size);
	buf[size] = '\0';
	http_field_t f[MAX_FIELDS];
	size_t n = 0;
	for (char *line = buf; line && *line && n < MAX_FIELDS;) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		char *colon = strchr(line, ':');
		if (colon)
			*colon = '\0';
		f[n++] = (http_field_t){ line, colon ? colon + 1 : "" };
		line = nl ? nl + 1 : NULL;
	}
	framing_verdict_t v = http_framing_check(f, n);
	ASSERT(v.status == 0 || v.status == 400 || v.status == 431);
	ASSERT(v.status == 0 || (v.detail && *v.detail));
	if (v.status == 0) {
		size_t cl = 0, te = 0;
		for (size_t i = 0; i < n; i++) {
			ASSERT(http_is_token(f[i].name));
			if (!strcasecmp(f[i].name, "Content-Length")) {
				cl++;
				ASSERT(*f[i].value && strspn(f[i].value, "0123456789") == strlen(f[i].value));
			}
			if (!strcasecmp(f[i].name, "Transfer-Encoding")) {
				te++;
				ASSERT(!strcasecmp(f[i].value, "chunked"));
			}
		}
		ASSERT(cl <= 1 && te <= 1 && !(cl && te));
		ASSERT(n <= HTTP_MAX_HEADERS);
	}
	free(buf);
	return 0;
}
