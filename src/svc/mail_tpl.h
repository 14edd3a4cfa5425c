/*
 * mail_tpl.h: the mail templates (email_templates, migration 0024) that
 * every mail the platform sends is rendered from, and admin mailings.
 *
 * A template is a subject and a plain-text body with {{variable}}
 * placeholders.  Rendering gives three things: the subject (one line),
 * the text body (values as they are) and the HTML body (the template's
 * text and every value HTML-escaped, paragraphs on blank lines, {{link}}
 * as a link and {{code}} set large).  Which variables a template may use
 * depends on its key: the system mails have their own (mail_tpl_vars),
 * the admins' own templates the recipient's (name, username, email) and
 * the site's (site_name, site_url).  A placeholder not in that list is
 * refused when a template is saved, and renders as nothing if one slips
 * in by hand.
 *
 * mail_tpl_send() looks the template up by key and queues the mail in
 * the outbox (mail.h); when the row is missing or the database fails it
 * returns false and the caller sends its built-in text instead, so a
 * broken template table never stops a sign-in code.
 */
#ifndef HWC_MAIL_TPL_H
#define HWC_MAIL_TPL_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include "../core/strbuf.h"
#include "../db/db.h"
#include "jobs.h"

typedef struct mail_var {
	const char *name, *value; /* value NULL renders as "" */
} mail_var_t;

#define MAIL_TPL_SUBJECT_MAX 200
#define MAIL_TPL_BODY_MAX 20000
#define MAIL_CAMPAIGN_JOB "email_campaign"
#define MAIL_CAMPAIGN_BATCH 200

/* The variables a template of this key may use (NULL-terminated). */
const char *const *mail_tpl_vars(const char *key);
/* True for the keys of the mails the platform sends itself. */
bool mail_tpl_is_system(const char *key);

/* Checks the placeholders of s: NULL when every one is well formed and
 * allowed, else a message (malloc'd; the caller frees it). */
char *mail_tpl_check(const char *s, const char *const *allowed);

/* Renders subject and body with vars into subject_out, text and html
 * (initialised strbufs, appended to). */
void mail_tpl_render(const char *subject, const char *body, const mail_var_t *vars, size_t n,
		     strbuf_t *subject_out, strbuf_t *text, strbuf_t *html);

/* Renders the template of key for to and queues it as kind (NULL: the
 * key; campaign_id 0: none).  False when there is no such template or on
 * a database error (nothing queued). */
bool mail_tpl_send(db_t *db, const char *key, const char *kind, const char *to, const mail_var_t *vars, size_t n,
		   int64_t campaign_id);

/* The job that expands a mailing (payload {"campaign_id": N}) into the
 * outbox, MAIL_CAMPAIGN_BATCH recipients per transaction. */
enum job_outcome mail_campaign_job(db_t *db, const job_t *job, json_t **result, char *err, size_t errlen);

#endif
