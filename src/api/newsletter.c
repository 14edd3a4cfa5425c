/*
 * newsletter.c: the newsletter sign-up with double opt-in: a subscription
 * counts only once the link mailed to the address is opened.
 */
#include <stdlib.h>
#include "api.h"
#include "../auth/account.h"
#include "../auth/identity.h"
#include "../core/config.h"
#include "../core/strbuf.h"
#include "../core/util.h"
#include "../http/reply.h"
#include "../http/request.h"
#include "../http/validate.h"
#include "../svc/mail.h"

/* A confirmation link works for a week; a resend waits a few minutes. */
#define NEWSLETTER_TOKEN_TTL_MS ((int64_t)7 * 24 * 3600 * 1000)
#define NEWSLETTER_RESEND_MS ((int64_t)5 * 60 * 1000)

static bool mail_newsletter_confirm(req_t *req, const char *email, const char *token)
{
	const char *link = arena_printf(req->arena, "%s/api/newsletter/confirm?token=%s", cfg.public_url, token);
	const char *text = arena_printf(req->arena,
		"Hi,\n\nPlease confirm that you want the HWC3D newsletter by opening this link:\n\n%s\n\n"
		"The link works for 7 days. If you did not ask for it, ignore this mail and nothing happens.\n\n"
		"— HWC3D\n", link);
	strbuf_t html;
	sb_init(&html, 0);
	sb_adds(&html, "<!doctype html><html><body style=\"font-family:sans-serif\">"
		"<p>Please confirm that you want the HWC3D newsletter:</p><p><a href=\"");
	html_escape(&html, link);
	sb_adds(&html, "\">Confirm my subscription</a></p><p>The link works for 7 days. If you did not ask"
		" for it, ignore this mail and nothing happens.</p><p>— HWC3D</p></body></html>");
	bool ok = mail_queue(req->db, "newsletter_confirm", email, "Confirm your HWC3D newsletter subscription",
			     text, html.buf);
	sb_release(&html);
	return ok;
}

/* Starts (or restarts) the opt-in for an address not yet confirmed.  The
 * answer never says whether the address was known. */
static int newsletter_subscribe(req_t *req)
{
	valid_t v;
	v_init(&v, req, req_body(req));
	const char *raw = v_str(&v, "email", V_REQUIRED, 3, EMAIL_MAX);
	const char *email = NULL;
	if (raw) {
		char *norm = email_normalize(raw);
		email = email_valid(norm) ? arena_strdup(req->arena, norm) : NULL;
		free(norm);
		if (!email)
			v_error(&v, "email", "Enter a valid email address");
	}
	if (!v_ok(&v))
		return v_reply(&v);
	char token[48], hash[65];
	token_random(token);
	token_hash(token, hash);
	int64_t now = now_ms();
	if (!db_begin(req->db))
		return reply_db_error(req, "begin");
	/* New address, or one that unsubscribed, or a pending one whose last
	 * mail is old enough to send again. */
	int64_t changed = DBX(req->db,
		"INSERT INTO newsletter_subscribers (email_normalized, token_hash, token_sent_at, created_at)"
		" VALUES ($1, $2, $3, $3) ON CONFLICT (email_normalized) DO UPDATE SET"
		" token_hash = excluded.token_hash, token_sent_at = excluded.token_sent_at,"
		" confirmed_at = NULL, unsubscribed_at = NULL"
		" WHERE newsletter_subscribers.unsubscribed_at IS NOT NULL"
		" OR (newsletter_subscribers.confirmed_at IS NULL"
		" AND COALESCE(newsletter_subscribers.token_sent_at, 0) < $4)",
		P_TEXT(email), P_TEXT(hash), P_INT(now), P_INT(now - NEWSLETTER_RESEND_MS));
	if (changed < 0 || (changed > 0 && !mail_newsletter_confirm(req, email, token))) {
		bool raced = db_error(req->db) == DB_ERR_UNIQUE; /* the same address, at the same time */
		db_rollback(req->db);
		if (raced)
			goto answer;
		return reply_internal(req, "subscribe");
	}
	if (!db_commit(req->db))
		return reply_db_error(req, "commit");
	if (changed > 0)
		mail_wake();
answer:
	return reply_ok(req, json_pack("{s:s}", "message",
		"Thanks! Check your inbox and confirm your subscription with the link we sent."));
}

static int newsletter_confirm(req_t *req)
{
	valid_t v;
	v_init(&v, req, NULL);
	const char *token = q_str(&v, "token", 100);
	if (v_ok(&v) && (!token || !*token))
		v_error(&v, "token", "Required");
	if (!v_ok(&v))
		return v_reply(&v);
	char hash[65];
	token_hash(token, hash);
	int64_t now = now_ms();
	int64_t changed = DBX(req->db,
		"UPDATE newsletter_subscribers SET confirmed_at = $2, token_hash = NULL"
		" WHERE token_hash = $1 AND confirmed_at IS NULL AND unsubscribed_at IS NULL AND token_sent_at > $3",
		P_TEXT(hash), P_INT(now), P_INT(now - NEWSLETTER_TOKEN_TTL_MS));
	if (changed < 0)
		return reply_db_error(req, "confirm subscription");
	if (changed == 0)
		return reply_invalid1(req, "token", "This link is invalid or has expired");
	return reply_ok(req, json_pack("{s:s}", "message", "Your subscription is confirmed. Welcome aboard!"));
}

const route_t newsletter_routes[] = {
	{ M_POST, "/api/newsletter/subscribe", newsletter_subscribe, ACCESS_PUBLIC, RL_AUTH, BODY_JSON, 0, 0, "Subscribe to the newsletter (double opt-in)" },
	{ M_GET, "/api/newsletter/confirm", newsletter_confirm, ACCESS_PUBLIC, RL_AUTH, BODY_NONE, 0, 0, "Confirm a newsletter subscription" },
};
EXPORT_ROUTES(newsletter_routes);
