/* s3_list.c: parse one S3 ListObjectsV2 page (s3_list.h). */
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "s3_list.h"
#include "../core/strbuf.h"
#include "../core/util.h"

/* ------------------------------------------------------------ times */

static bool digits(const char *s, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar. */
static int64_t days_since_epoch(int y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int days_in_month(int y, int m)
{
	static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return m == 2 && leap ? 29 : days[m - 1];
}

bool s3_parse_time(const char *s, int64_t *ms)
{
	int y, mo, d, h, mi, sec, frac = 0;
	if (strlen(s) < 20 || !digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) || s[7] != '-' ||
	    !digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't') || !digits(s + 11, 2, &h) || s[13] != ':' ||
	    !digits(s + 14, 2, &mi) || s[16] != ':' || !digits(s + 17, 2, &sec))
		return false;
	const char *p = s + 19;
	if (*p == '.') {
		p++;
		int n = 0;
		for (; *p >= '0' && *p <= '9'; p++, n++)
			if (n < 3)
				frac = frac * 10 + (*p - '0');
		if (n == 0 || n > 9)
			return false;
		for (; n < 3; n++)
			frac *= 10;
	}
	if (strcmp(p, "Z") && strcmp(p, "z") && strcmp(p, "+00:00"))
		return false;
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 || sec > 60)
		return false;
	if (sec == 60) /* a leap second: the last ms of the minute's end */
		sec = 59, frac = 999;
	*ms = ((days_since_epoch(y, mo, d) * 24 + h) * 60 + mi) * 60000LL + sec * 1000LL + frac;
	return true;
}

/* ------------------------------------------------------------ XML */

static bool named(const xmlNode *n, const char *name)
{
	return n->type == XML_ELEMENT_NODE && n->name && !strcmp((const char *)n->name, name);
}

/* The text of an element made only of text (and CDATA), at most max bytes:
 * a copy, or NULL when it holds anything else or is longer. */
static char *text_of(const xmlNode *e, size_t max)
{
	strbuf_t sb;
	sb_init(&sb, max + 1);
	for (const xmlNode *c = e->children; c; c = c->next) {
		if ((c->type != XML_TEXT_NODE && c->type != XML_CDATA_SECTION_NODE) || !c->content) {
			sb_release(&sb);
			return NULL;
		}
		size_t n = strlen((const char *)c->content);
		if (n > max - sb.len) {
			sb_release(&sb);
			return NULL;
		}
		sb_add(&sb, c->content, n);
	}
	return sb_detach(&sb, NULL);
}

static void add_contents(const xmlNode *c, size_t key_max, struct s3_list_page *out)
{
	char *key = NULL, *when = NULL;
	for (const xmlNode *f = c->children; f; f = f->next) {
		if (named(f, "Key") && !key)
			key = text_of(f, key_max);
		else if (named(f, "LastModified") && !when)
			when = text_of(f, 64);
	}
	int64_t ms = 0;
	if (!key || !*key || !when || !s3_parse_time(when, &ms) || out->n >= S3_LIST_ITEMS_MAX) {
		free(key);
		free(when);
		out->skipped++;
		return;
	}
	free(when);
	if (out->n % 64 == 0)
		out->items = xrealloc(out->items, (out->n + 64) * sizeof(*out->items));
	out->items[out->n++] = (struct s3_list_item){ key, ms };
}

static pthread_once_t xml_once = PTHREAD_ONCE_INIT;

static void xml_init(void)
{
	xmlInitParser();
}

bool s3_list_parse(const char *xml, size_t len, size_t key_max, struct s3_list_page *out, char *err,
		   size_t errlen)
{
	memset(out, 0, sizeof(*out));
	if (len > S3_LIST_ANSWER_MAX) {
		snprintf(err, errlen, "the listing is larger than %zu MB", S3_LIST_ANSWER_MAX >> 20);
		return false;
	}
	pthread_once(&xml_once, xml_init);
	/* No XML_PARSE_NOENT (entities are not substituted), XML_PARSE_DTDLOAD,
	 * XML_PARSE_DTDATTR or XML_PARSE_HUGE; no network; errors not printed. */
	xmlDoc *doc = xmlReadMemory(len ? xml : "", (int)len, "s3-list.xml", NULL,
				    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_NOCDATA);
	if (!doc) {
		snprintf(err, errlen, "the listing is not well-formed XML");
		return false;
	}
	bool ok = false;
	const xmlNode *root = xmlDocGetRootElement(doc);
	if (doc->intSubset || doc->extSubset) {
		snprintf(err, errlen, "the listing has a DTD");
		goto out;
	}
	if (!root || !named(root, "ListBucketResult")) {
		snprintf(err, errlen, "the answer is not a ListBucketResult");
		goto out;
	}
	bool seen_token = false;
	for (const xmlNode *c = root->children; c; c = c->next) {
		if (named(c, "Contents")) {
			add_contents(c, key_max, out);
		} else if (named(c, "IsTruncated")) {
			char *t = text_of(c, 16);
			out->truncated = t && !strcmp(t, "true");
			free(t);
		} else if (named(c, "NextContinuationToken") && !seen_token) {
			seen_token = true;
			out->next_token = text_of(c, S3_LIST_TOKEN_MAX);
			if (out->next_token && !*out->next_token) {
				free(out->next_token);
				out->next_token = NULL;
			}
		}
	}
	if (out->truncated && !out->next_token) {
		snprintf(err, errlen, "the listing is truncated but has no usable NextContinuationToken");
		goto out;
	}
	if (!out->truncated) {
		free(out->next_token);
		out->next_token = NULL;
	}
	ok = true;
out:
	xmlFreeDoc(doc);
	if (!ok)
		s3_list_page_free(out);
	return ok;
}

void s3_list_page_free(struct s3_list_page *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->items[i].key);
	free(p->items);
	free(p->next_token);
	memset(p, 0, sizeof(*p));
}
