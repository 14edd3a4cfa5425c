#include "mail_tpl.h"
#include "mail.h"
#include "../core/config.h"
#include "../core/log.h"
#include "../core/util.h"

static const char *const vars_code[] = { "name", "code", "site_name", "site_url", NULL };
static const char *const vars_link[] = { "name", "link", "site_name", "site_url", NULL };
static const char *const vars_model_ok[] = { "name", "title", "link", "site_name", "site_url", NULL };
static const char *const vars_model_no[] = { "name", "title", "reason", "link", "site_name", "site_url", NULL };
static const char *const vars_receipt[] = { "name", "transaction", "items", "total", "link", "site_name", "site_url", NULL };
static const char *const vars_custom[] = { "name", "username", "email", "site_name", "site_url", NULL };

static const struct { const char *key; const char *const *vars; } system_keys[] = {
	{ "verify_email", vars_code },
	{ "admin_otp", vars_code },
	{ "password_reset", vars_link },
	{ "admin_password_reset", vars_link },
	{ "welcome", vars_link },
	{ "model_approved", vars_model_ok },
	{ "model_rejected", vars_model_no },
	{ "purchase_receipt", vars_receipt },
};

const char *const *mail_tpl_vars(const char *key)
{
	for (size_t i = 0; i < ARRAY_LEN(system_keys); i++)
		if (!strcmp(system_keys[i].key, key))
			return system_keys[i].vars;
	return vars_custom;
}

bool mail_tpl_is_system(const char *key)
{
	for (size_t i = 0; i < ARRAY_LEN(system_keys); i++)
		if (!strcmp(system_keys[i].key, key))
			return true;
	return false;
}

static bool var_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

/* At s ("{{"): the placeholder's name into name (trimmed) and its length
 * in *len; false when it is not one ("{{" without "}}", a bad name). */
static bool placeholder(const char *s, char *name, size_t cap, size_t *len)
{
	const char *p = s + 2;
	while (*p == ' ')
		p++;
	size_t n = 0;
	while (var_char(*p) && n + 1 < cap)
		name[n++] = *p++;
	name[n] = '\0';
	while (*p == ' ')
		p++;
	if (n == 0 || p[0] != '}' || p[1] != '}')
		return false;
	*len = (size_t)(p + 2 - s);
	return true;
}

static bool allowed_var(const char *name, const char *const *allowed)
{
	for (size_t i = 0; allowed[i]; i++)
		if (!strcmp(allowed[i], name))
			return true;
	return false;
}

char *mail_tpl_check(const char *s, const char *const *allowed)
{
	for (const char *p = s; (p = strstr(p, "{{"));) {
		char name[33];
		size_t len;
		if (!placeholder(p, name, sizeof(name), &len))
			return xasprintf("Malformed placeholder near \"%.20s\": use {{name}} with a-z, 0-9 and _", p);
		if (!allowed_var(name, allowed)) {
			strbuf_t list;
			sb_init(&list, 0);
			for (size_t i = 0; allowed[i]; i++)
				sb_addf(&list, "%s{{%s}}", i ? ", " : "", allowed[i]);
			char *msg = xasprintf("Unknown variable {{%s}}; this template may use %s", name, list.buf);
			sb_release(&list);
			return msg;
		}
		p += len;
	}
	return NULL;
}

static const char *var_value(const char *name, const mail_var_t *vars, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(vars[i].name, name))
			return vars[i].value ? vars[i].value : "";
	if (!strcmp(name, "site_name"))
		return "HWC3D";
	if (!strcmp(name, "site_url"))
		return cfg.frontend_url ? cfg.frontend_url : "";
	return "";
}

/* Appends s to html escaped, a blank line starting a new paragraph and
 * a single newline a <br>. */
static void html_text(strbuf_t *html, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\r')
			continue;
		if (s[i] == '\n') {
			if (i + 1 < n && s[i + 1] == '\n') {
				sb_adds(html, "</p><p>");
				while (i + 1 < n && (s[i + 1] == '\n' || s[i + 1] == '\r'))
					i++;
			} else {
				sb_adds(html, "<br>");
			}
			continue;
		}
		char c[2] = { s[i], 0 };
		html_escape(html, c);
	}
}

/* A value in the HTML part: escaped, each http(s) URL in it a link (a
 * receipt's download links, a mailing's site_url). */
static void html_value(strbuf_t *html, const char *v)
{
	while (*v) {
		const char *u = strstr(v, "http");
		while (u && strncmp(u, "https://", 8) && strncmp(u, "http://", 7))
			u = strstr(u + 4, "http");
		if (!u) {
			html_text(html, v, strlen(v));
			return;
		}
		html_text(html, v, (size_t)(u - v));
		size_t n = strcspn(u, " \t\r\n<>\"'");
		char *url = xstrndup(u, n);
		sb_adds(html, "<a href=\"");
		html_escape(html, url);
		sb_adds(html, "\">");
		html_escape(html, url);
		sb_adds(html, "</a>");
		free(url);
		v = u + n;
	}
}

static void render_one(const char *tpl, const mail_var_t *vars, size_t n, strbuf_t *text, strbuf_t *html,
		       bool one_line)
{
	const char *p = tpl;
	while (*p) {
		const char *open = strstr(p, "{{");
		size_t lit = open ? (size_t)(open - p) : strlen(p);
		sb_add(text, p, lit);
		if (html)
			html_text(html, p, lit);
		if (!open)
			break;
		char name[33];
		size_t len;
		if (!placeholder(open, name, sizeof(name), &len)) {
			sb_adds(text, "{{");
			if (html)
				sb_adds(html, "{{");
			p = open + 2;
			continue;
		}
		const char *v = var_value(name, vars, n);
		sb_adds(text, v);
		if (html) {
			if (!strcmp(name, "link") || !strcmp(name, "site_url")) {
				html_value(html, v);
			} else if (!strcmp(name, "code")) {
				sb_adds(html, "<span style=\"font-size:28px;letter-spacing:6px;font-weight:bold\">");
				html_escape(html, v);
				sb_adds(html, "</span>");
			} else {
				html_value(html, v);
			}
		}
		p = open + len;
	}
	if (one_line)
		for (size_t i = 0; i < text->len; i++)
			if (text->buf[i] == '\r' || text->buf[i] == '\n')
				text->buf[i] = ' ';
}

void mail_tpl_render(const char *subject, const char *body, const mail_var_t *vars, size_t n,
		     strbuf_t *subject_out, strbuf_t *text, strbuf_t *html)
{
	render_one(subject, vars, n, subject_out, NULL, true);
	sb_adds(html, "<!doctype html><html><body style=\"font-family:sans-serif\"><p>");
	render_one(body, vars, n, text, html, false);
	sb_adds(html, "</p></body></html>");
	if (!text->len || text->buf[text->len - 1] != '\n')
		sb_addc(text, '\n');
}

static bool queue_rendered(db_t *db, const char *key, const char *to, const char *subject, const char *body,
			   const mail_var_t *vars, size_t n, int64_t campaign_id)
{
	strbuf_t subj, text, html;
	sb_init(&subj, 0);
	sb_init(&text, 0);
	sb_init(&html, 0);
	mail_tpl_render(subject, body, vars, n, &subj, &text, &html);
	bool ok = !subj.overflow && !text.overflow && !html.overflow &&
		  mail_queue_campaign(db, key, to, subj.buf, text.buf, html.buf, campaign_id);
	sb_release(&subj);
	sb_release(&text);
	sb_release(&html);
	return ok;
}

bool mail_tpl_send(db_t *db, const char *key, const char *kind, const char *to, const mail_var_t *vars, size_t n,
		   int64_t campaign_id)
{
	db_rows_t *r = DBQ(db, "SELECT subject, body FROM email_templates WHERE key = $1", P_TEXT(key));
	if (!r)
		return false;
	if (!db_next(r)) {
		db_done(r);
		return false;
	}
	char *subject = xstrdup(db_text(r, 0)), *body = xstrdup(db_text(r, 1));
	db_done(r);
	bool ok = queue_rendered(db, kind ? kind : key, to, subject, body, vars, n, campaign_id);
	free(subject);
	free(body);
	return ok;
}

/* ---- mailings ---- */

/* The recipients of a segment after last_id, in id order: id, email,
 * name, username. */
static db_rows_t *segment_batch(db_t *db, const char *segment, int64_t user_id, int64_t last_id)
{
#define LIVE " u.deleted_at IS NULL AND u.is_banned = FALSE AND u.is_email_verified = TRUE AND u.id > $1"
#define COLS "SELECT u.id, u.email, COALESCE(u.full_name, u.username), u.username FROM users u WHERE"
	if (!strcmp(segment, "user") || !strcmp(segment, "me"))
		return DBQ(db, COLS " u.deleted_at IS NULL AND u.id = $2 AND u.id > $1 LIMIT $3",
			   P_INT(last_id), P_INT(user_id), P_INT(MAIL_CAMPAIGN_BATCH));
	if (!strcmp(segment, "all"))
		return DBQ(db, COLS LIVE " ORDER BY u.id LIMIT $2", P_INT(last_id), P_INT(MAIL_CAMPAIGN_BATCH));
	if (!strcmp(segment, "creators") || !strcmp(segment, "buyers"))
		return DBQ(db, COLS LIVE " AND u.user_type = $3 ORDER BY u.id LIMIT $2", P_INT(last_id),
			   P_INT(MAIL_CAMPAIGN_BATCH), P_TEXT(segment[0] == 'c' ? "creator" : "buyer"));
	if (!strcmp(segment, "newsletter"))
		return DBQ(db, "SELECT n.id, n.email_normalized, COALESCE(u.full_name, u.username, 'there'), u.username"
			   " FROM newsletter_subscribers n LEFT JOIN users u ON u.email_normalized = n.email_normalized"
			   " AND u.deleted_at IS NULL WHERE n.confirmed_at IS NOT NULL AND n.unsubscribed_at IS NULL"
			   " AND n.id > $1 ORDER BY n.id LIMIT $2", P_INT(last_id), P_INT(MAIL_CAMPAIGN_BATCH));
#undef LIVE
#undef COLS
	return NULL;
}

struct recipient {
	int64_t id;
	char *email, *name, *username;
};

enum job_outcome mail_campaign_job(db_t *db, const job_t *job, json_t **result, char *err, size_t errlen)
{
	int64_t id = json_integer_value(json_object_get(job->payload, "campaign_id"));
	db_rows_t *r = DBQ(db, "SELECT segment, COALESCE(user_id, 0), template_key, subject, body, last_user_id, status"
			   " FROM email_campaigns WHERE id = $1", P_INT(id));
	if (!r || !db_next(r)) {
		db_done(r);
		snprintf(err, errlen, "campaign %lld not found", (long long)id);
		return r ? JOB_FAILED : JOB_RETRY;
	}
	char *segment = xstrdup(db_text(r, 0));
	int64_t user_id = db_int(r, 1);
	char *key = xstrdup(db_text(r, 2) ? db_text(r, 2) : "campaign");
	char *subject = xstrdup(db_text(r, 3)), *body = xstrdup(db_text(r, 4));
	int64_t last = db_int(r, 5);
	bool finished = !strcmp(db_text(r, 6), "sent");
	db_done(r);
	enum job_outcome out = JOB_DONE;
	int64_t sent = 0;
	while (!finished) {
		struct recipient batch[MAIL_CAMPAIGN_BATCH];
		size_t n = 0;
		db_rows_t *b = segment_batch(db, segment, user_id, last);
		while (b && n < MAIL_CAMPAIGN_BATCH && db_next(b)) {
			batch[n] = (struct recipient){ db_int(b, 0), xstrdup(db_text(b, 1)),
						       xstrdup(db_text(b, 2) ? db_text(b, 2) : "there"),
						       xstrdup(db_text(b, 3) ? db_text(b, 3) : "") };
			n++;
		}
		bool read_ok = b && !db_failed(b);
		db_done(b);
		bool ok = read_ok && db_begin(db);
		for (size_t i = 0; ok && i < n; i++) {
			mail_var_t vars[] = { { "name", batch[i].name }, { "username", batch[i].username },
					      { "email", batch[i].email } };
			ok = queue_rendered(db, key, batch[i].email, subject, body, vars, ARRAY_LEN(vars), id);
		}
		int64_t next = n ? batch[n - 1].id : last;
		finished = ok && n < MAIL_CAMPAIGN_BATCH;
		if (ok)
			ok = DBX(db, "UPDATE email_campaigns SET last_user_id = $2, recipients_count = recipients_count + $3,"
				 " status = $4, finished_at = $5 WHERE id = $1", P_INT(id), P_INT(next), P_INT((int64_t)n),
				 P_TEXT(finished ? "sent" : "sending"), finished ? P_INT(now_ms()) : P_NULL) == 1;
		if (ok)
			ok = db_commit(db);
		else if (read_ok)
			db_rollback(db);
		for (size_t i = 0; i < n; i++) {
			free(batch[i].email);
			free(batch[i].name);
			free(batch[i].username);
		}
		if (!ok) {
			snprintf(err, errlen, "campaign %lld: %s", (long long)id, db_errmsg(db));
			out = JOB_RETRY;
			break;
		}
		mail_wake();
		sent += (int64_t)n;
		last = next;
	}
	free(segment);
	free(key);
	free(subject);
	free(body);
	if (out == JOB_DONE)
		*result = json_pack("{s:I, s:I}", "campaign_id", (json_int_t)id, "queued", (json_int_t)sent);
	return out;
}
