/*
 * seo.h: what shared links and search engines read (seo.c).
 *
 * seo_head() writes the <title>, description, canonical link, Open Graph
 * and Twitter card tags of a public model (/model/{id}, /view/{id}) or
 * profile (/u/{username}) for the HTML shell; seo_serve() answers
 * /robots.txt, /sitemap.xml and /sitemap/{models,users}-N.xml.  Both run on
 * the poll thread of a static request (static.c); the sitemap pages are
 * built on the worker pool (POOL_DB).
 *
 * Links are absolute, on FRONTEND_URL (the site's own address: the one the
 * share links and mails use); image links on PUBLIC_URL when relative.
 */
#ifndef HWC_SEO_H
#define HWC_SEO_H

#include <stdbool.h>
#include "request.h"
#include "../core/strbuf.h"

enum seo_result {
	SEO_NONE,    /* not a path with its own tags: the generic shell */
	SEO_FOUND,   /* head holds the tags */
	SEO_MISSING, /* no such public object: the generic shell with 404 */
	SEO_ERROR,   /* the database failed: the generic shell */
};

enum seo_result seo_head(req_t *req, const char *path, strbuf_t *head);

/* Answers robots.txt and the sitemaps; false for any other path. */
bool seo_serve(req_t *req, const char *path);

/* s escaped for HTML text and attribute values (and XML): & < > " '
 * become references, C0 controls but tab and newlines a space. */
void sb_add_html(strbuf_t *sb, const char *s);

#define SITEMAP_PAGE 50000 /* URLs in one sitemap page, the protocol's limit */

#endif
