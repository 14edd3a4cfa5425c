/*
 * mail.h: outgoing mail through a durable outbox.
 *
 * mail_queue() adds a row to mail_outbox (in the caller's transaction, if
 * any) and wakes the worker.  The worker thread claims due rows, sends them
 * by SMTP through libcurl when SMTP_HOST is set, or writes them as .eml
 * files into $DATA_DIR/mail/, and retries failures with exponential backoff
 * (30 s doubling, up to an hour, 8 attempts).  A row left "sending" by a
 * crash is picked up again when its lock expires.  Thread safe.
 */
#ifndef HWC_MAIL_H
#define HWC_MAIL_H

#include <stdbool.h>
#include "../db/db.h"
#include "../core/strbuf.h"

#define MAIL_MAX_ATTEMPTS 8

/* Reads the SMTP_* settings; false with a message on a bad one. */
bool mail_init(char *err, size_t errlen);
bool mail_queue(db_t *db, const char *kind, const char *to, const char *subject,
		const char *text, const char *html);
/* The same for a mail of an admin mailing (email_campaigns.id). */
bool mail_queue_campaign(db_t *db, const char *kind, const char *to, const char *subject,
			 const char *text, const char *html, int64_t campaign_id);
/* Wakes the worker: call after committing a transaction that queued mail. */
void mail_wake(void);
void mail_worker_start(void);
void mail_worker_stop(void);

/* The messages the accounts flow sends.  name may be NULL.  Each is
 * rendered from its template (mail_tpl.h, editable by admins), or from
 * the built-in text when the template cannot be read. */
bool mail_verification_code(db_t *db, const char *to, const char *name, const char *code);
bool mail_admin_code(db_t *db, const char *to, const char *code);
bool mail_password_reset(db_t *db, const char *to, const char *link, bool admin);
bool mail_welcome(db_t *db, const char *to, const char *name);

/* Appends s with &, <, >, " and ' escaped. */
void html_escape(strbuf_t *out, const char *s);

#endif
