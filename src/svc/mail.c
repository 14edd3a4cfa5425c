#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sodium.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "mail.h"
#include "mail_tpl.h"
#include "../core/config.h"
#include "../core/log.h"
#include "../core/num.h"
#include "../core/util.h"

static struct {
	const char *host, *user, *password, *from;
	int port;
	int timeout_s; /* one SMTP delivery, connection included */
	enum { TLS_NONE, TLS_STARTTLS, TLS_IMPLICIT } tls;
} smtp;

static pthread_mutex_t wake_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static bool stopping, worker_running, wake_pending;
static pthread_t worker;

bool mail_init(char *err, size_t errlen)
{
	smtp.host = config_get("SMTP_HOST");
	smtp.user = config_get("SMTP_USER");
	smtp.password = config_get("SMTP_PASSWORD");
	smtp.from = config_get("SMTP_FROM");
	if (!smtp.from)
		smtp.from = "HWC3D <no-reply@hwc3d.local>";
	if (strpbrk(smtp.from, "\r\n")) {
		snprintf(err, errlen, "invalid SMTP_FROM: it must be one line");
		return false;
	}
	const char *port = config_get("SMTP_PORT");
	int64_t p = 587;
	if (port && !parse_i64_range(port, 1, 65535, &p)) {
		snprintf(err, errlen, "invalid SMTP_PORT: \"%.32s\"", port);
		return false;
	}
	smtp.port = (int)p;
	const char *timeout = config_get("SMTP_TIMEOUT_S");
	int64_t t = 30;
	if (timeout && !parse_i64_range(timeout, 1, 600, &t)) {
		snprintf(err, errlen, "invalid SMTP_TIMEOUT_S: \"%.32s\" (1 to 600 seconds)", timeout);
		return false;
	}
	smtp.timeout_s = (int)t;
	const char *tls = config_get("SMTP_TLS");
	if (!tls || !strcmp(tls, "starttls"))
		smtp.tls = TLS_STARTTLS;
	else if (!strcmp(tls, "tls") || !strcmp(tls, "ssl"))
		smtp.tls = TLS_IMPLICIT;
	else if (!strcmp(tls, "none"))
		smtp.tls = TLS_NONE;
	else {
		snprintf(err, errlen, "invalid SMTP_TLS: \"%.32s\" (expected starttls, tls or none)", tls);
		return false;
	}
	return true;
}

bool mail_queue(db_t *db, const char *kind, const char *to, const char *subject,
		const char *text, const char *html)
{
	return mail_queue_campaign(db, kind, to, subject, text, html, 0);
}

bool mail_queue_campaign(db_t *db, const char *kind, const char *to, const char *subject,
			 const char *text, const char *html, int64_t campaign_id)
{
	int64_t now = now_ms();
	const char *rid = log_context_get();
	if (DBX(db, "INSERT INTO mail_outbox (kind, to_addr, subject, body_text, body_html,"
		" next_attempt_at, created_at, campaign_id, request_id) VALUES ($1, $2, $3, $4, $5, $6, $6, $7, $8)",
		P_TEXT(kind), P_TEXT(to), P_TEXT(subject), P_TEXT(text), P_TEXT(html), P_INT(now),
		campaign_id > 0 ? P_INT(campaign_id) : P_NULL, rid ? P_TEXT(rid) : P_NULL) != 1)
		return false;
	/* Inside a transaction the row is not visible yet: the caller wakes
	 * the worker after its commit (a wake now would find nothing). */
	if (!db_in_transaction(db))
		mail_wake();
	return true;
}

void mail_wake(void)
{
	pthread_mutex_lock(&wake_lock);
	wake_pending = true; /* not lost if the worker is busy draining */
	pthread_cond_signal(&wake);
	pthread_mutex_unlock(&wake_lock);
}

void html_escape(strbuf_t *out, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&': sb_adds(out, "&amp;"); break;
		case '<': sb_adds(out, "&lt;"); break;
		case '>': sb_adds(out, "&gt;"); break;
		case '"': sb_adds(out, "&quot;"); break;
		case '\'': sb_adds(out, "&#39;"); break;
		default: sb_addc(out, *s); break;
		}
	}
}

/* Subject: plain when ASCII, else RFC 2047 base64 words. */
static void add_subject(strbuf_t *out, const char *subject)
{
	bool ascii = true;
	for (const unsigned char *p = (const unsigned char *)subject; *p; p++)
		if (*p >= 0x80 || *p < 0x20)
			ascii = false;
	if (ascii) {
		sb_addf(out, "Subject: %s\r\n", subject);
		return;
	}
	size_t n = strlen(subject);
	size_t b64 = sodium_base64_encoded_len(n, sodium_base64_VARIANT_ORIGINAL);
	char *enc = xmalloc(b64);
	sodium_bin2base64(enc, b64, (const unsigned char *)subject, n, sodium_base64_VARIANT_ORIGINAL);
	sb_addf(out, "Subject: =?UTF-8?B?%s?=\r\n", enc);
	free(enc);
}

/* Body lines end in CRLF; a line starting with "." is left to curl,
 * which dot-stuffs on the wire. */
static void add_body(strbuf_t *out, const char *s)
{
	for (; *s; s++) {
		if (*s == '\r')
			continue;
		if (*s == '\n')
			sb_adds(out, "\r\n");
		else
			sb_addc(out, *s);
	}
	sb_adds(out, "\r\n");
}

/* How long a claimed mail stays claimed: past every timeout of one
 * delivery, so a second worker takes it over only from a dead one. */
static int64_t lease_ms(void)
{
	return (int64_t)smtp.timeout_s * 3 * 1000;
}

/* The Message-ID's right-hand side: SMTP_FROM's domain. */
static void from_domain(char *out, size_t n)
{
	const char *at = strrchr(smtp.from, '@');
	size_t len = 0;
	if (at)
		for (at++; at[len] && at[len] != '>' && at[len] != ' '; len++)
			;
	if (!len)
		snprintf(out, n, "hwc3d.local");
	else
		snprintf(out, n, "%.*s", (int)len, at);
}

/* msgid names the outbox row, so a mail sent again after a crash (the
 * worker died between the server's 250 and its own "sent") repeats with
 * the same Message-ID, which receivers use to drop the repeat. */
static void mail_render(strbuf_t *out, const char *from, const char *to, const char *subject,
		 const char *text, const char *html, const char *msgid)
{
	char boundary[40];
	random_hex(boundary, 12);
	char date[64];
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	sb_addf(out, "From: %s\r\nTo: %s\r\n", from, to);
	add_subject(out, subject);
	sb_addf(out, "Date: %s\r\nMessage-ID: <%s>\r\nMIME-Version: 1.0\r\n"
		"Content-Type: multipart/alternative; boundary=\"b%s\"\r\n\r\n", date, msgid, boundary);
	sb_addf(out, "--b%s\r\nContent-Type: text/plain; charset=utf-8\r\n"
		"Content-Transfer-Encoding: 8bit\r\n\r\n", boundary);
	add_body(out, text);
	sb_addf(out, "--b%s\r\nContent-Type: text/html; charset=utf-8\r\n"
		"Content-Transfer-Encoding: 8bit\r\n\r\n", boundary);
	add_body(out, html);
	sb_addf(out, "--b%s--\r\n", boundary);
}

struct upload {
	const char *data;
	size_t len, pos;
};

static size_t read_cb(char *buf, size_t size, size_t n, void *arg)
{
	struct upload *u = arg;
	size_t want = size * n, left = u->len - u->pos;
	size_t k = want < left ? want : left;
	memcpy(buf, u->data + u->pos, k);
	u->pos += k;
	return k;
}

/* The bare address from "Name <addr>" or "addr". */
static void bare_address(const char *from, char *out, size_t n)
{
	const char *lt = strchr(from, '<'), *gt = lt ? strchr(lt, '>') : NULL;
	if (lt && gt && gt > lt + 1)
		snprintf(out, n, "<%.*s>", (int)(gt - lt - 1), lt + 1);
	else
		snprintf(out, n, "<%s>", from);
}

static bool send_smtp(const char *to, const strbuf_t *msg, char *err, size_t errlen)
{
	CURL *c = curl_easy_init();
	if (!c) {
		snprintf(err, errlen, "curl_easy_init failed");
		return false;
	}
	char url[512], from[320], rcpt[320];
	snprintf(url, sizeof(url), "%s://%s:%d", smtp.tls == TLS_IMPLICIT ? "smtps" : "smtp", smtp.host, smtp.port);
	bare_address(smtp.from, from, sizeof(from));
	snprintf(rcpt, sizeof(rcpt), "<%s>", to);
	struct curl_slist *rcpts = curl_slist_append(NULL, rcpt);
	struct upload up = { msg->buf, msg->len, 0 };
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_MAIL_FROM, from);
	curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpts);
	curl_easy_setopt(c, CURLOPT_READFUNCTION, read_cb);
	curl_easy_setopt(c, CURLOPT_READDATA, &up);
	curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, (long)MIN(smtp.timeout_s, 10));
	curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)smtp.timeout_s);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_USE_SSL, smtp.tls == TLS_NONE ? (long)CURLUSESSL_NONE : (long)CURLUSESSL_ALL);
	if (smtp.user) {
		curl_easy_setopt(c, CURLOPT_USERNAME, smtp.user);
		curl_easy_setopt(c, CURLOPT_PASSWORD, smtp.password ? smtp.password : "");
	}
	CURLcode rc = curl_easy_perform(c);
	if (rc != CURLE_OK)
		snprintf(err, errlen, "SMTP %s:%d: %s", smtp.host, smtp.port, curl_easy_strerror(rc));
	curl_slist_free_all(rcpts);
	curl_easy_cleanup(c);
	return rc == CURLE_OK;
}

/* The file is named by the row (creation time, id): a mail written again
 * after a crash replaces its first copy instead of doubling it. */
static bool write_eml(int64_t id, int64_t created_at, const char *to, const strbuf_t *msg, char *err,
		      size_t errlen)
{
	char dir[4096], tmp[4200], final[4200];
	snprintf(dir, sizeof(dir), "%s/mail", cfg.data_dir);
	if (mkdir(dir, 0750) && errno != EEXIST) {
		snprintf(err, errlen, "cannot create %.300s: %s", dir, strerror(errno));
		return false;
	}
	snprintf(tmp, sizeof(tmp), "%s/.%lld.tmp", dir, (long long)id);
	snprintf(final, sizeof(final), "%s/%lld-%06lld.eml", dir, (long long)created_at, (long long)id);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd < 0) {
		snprintf(err, errlen, "cannot write %.300s: %s", tmp, strerror(errno));
		return false;
	}
	ssize_t w = write(fd, msg->buf, msg->len);
	bool ok = w == (ssize_t)msg->len && fsync(fd) == 0;
	close(fd);
	if (!ok || rename(tmp, final)) {
		unlink(tmp);
		snprintf(err, errlen, "cannot write %.300s", final);
		return false;
	}
	log_info("mail to %s written to %s", to, final);
	return true;
}

static bool deliver(db_t *db, int64_t id, int attempts)
{
	db_rows_t *r = DBQ(db, "SELECT to_addr, subject, body_text, body_html, created_at, request_id"
			   " FROM mail_outbox WHERE id = $1", P_INT(id));
	if (!r)
		return false;
	if (!db_next(r)) {
		db_done(r);
		return false;
	}
	char *to = xstrdup(db_text(r, 0));
	int64_t created_at = db_int(r, 4);
	char rid[64] = "", domain[256], msgid[400];
	if (!db_isnull(r, 5))
		snprintf(rid, sizeof(rid), "%s", db_text(r, 5));
	log_context(rid); /* this delivery's lines carry the id of the request that queued it */
	from_domain(domain, sizeof(domain));
	snprintf(msgid, sizeof(msgid), "%lld.%lld@%s", (long long)created_at, (long long)id, domain);
	strbuf_t msg;
	sb_init(&msg, 0);
	mail_render(&msg, smtp.from, to, db_text(r, 1), db_text(r, 2), db_text(r, 3), msgid);
	db_done(r);
	char err[512] = "";
	bool ok = smtp.host ? send_smtp(to, &msg, err, sizeof(err))
			    : write_eml(id, created_at, to, &msg, err, sizeof(err));
	sb_release(&msg);
	int64_t now = now_ms();
	if (ok) {
		/* Codes and reset links must not outlive their delivery in the
		 * database: the bodies of those mails are dropped once sent. */
		DBX(db, "UPDATE mail_outbox SET status = 'sent', sent_at = $2, locked_until = NULL, last_error = NULL,"
			" body_text = CASE WHEN kind IN ('verify_email', 'admin_otp', 'password_reset', 'admin_password_reset')"
			" THEN '[redacted after delivery]' ELSE body_text END,"
			" body_html = CASE WHEN kind IN ('verify_email', 'admin_otp', 'password_reset', 'admin_password_reset')"
			" THEN '' ELSE body_html END"
			" WHERE id = $1", P_INT(id), P_INT(now));
	} else {
		bool give_up = attempts >= MAIL_MAX_ATTEMPTS;
		int64_t backoff = MIN((int64_t)30000 << MIN(attempts - 1, 10), (int64_t)3600000);
		log_warn("mail %lld to %s failed (attempt %d%s): %s", (long long)id, to, attempts,
			 give_up ? ", giving up" : "", err);
		DBX(db, "UPDATE mail_outbox SET status = $2, next_attempt_at = $3, locked_until = NULL,"
			" last_error = $4 WHERE id = $1",
			P_INT(id), P_TEXT(give_up ? "failed" : "queued"), P_INT(now + backoff), P_TEXT(err));
	}
	free(to);
	log_context(NULL);
	return ok;
}

static int mail_drain_once(db_t *db)
{
	int64_t now = now_ms();
	int64_t ids[20];
	int n = 0;
	db_rows_t *r = DBQ(db,
		"SELECT id FROM mail_outbox WHERE (status = 'queued' AND next_attempt_at <= $1)"
		" OR (status = 'sending' AND locked_until < $1) ORDER BY id LIMIT 20", P_INT(now));
	if (!r)
		return 0;
	while (n < 20 && db_next(r))
		ids[n++] = db_int(r, 0);
	db_done(r);
	int handled = 0;
	for (int i = 0; i < n; i++) {
		/* Claim it: only one worker (of any instance) wins the row. */
		db_rows_t *c = DBQ(db,
			"UPDATE mail_outbox SET status = 'sending', locked_until = $2, attempts = attempts + 1"
			" WHERE id = $1 AND (status = 'queued' OR (status = 'sending' AND locked_until < $3))"
			" RETURNING attempts",
			P_INT(ids[i]), P_INT(now + lease_ms()), P_INT(now));
		if (!c)
			continue;
		int attempts = db_next(c) ? (int)db_int(c, 0) : 0;
		db_done(c);
		if (attempts > 0) {
			deliver(db, ids[i], attempts);
			handled++;
		}
	}
	return handled;
}

static void *worker_main(void *arg)
{
	UNUSED(arg);
	while (true) {
		pthread_mutex_lock(&wake_lock);
		bool stop = stopping;
		wake_pending = false; /* this drain covers every wake so far */
		pthread_mutex_unlock(&wake_lock);
		if (stop)
			break;
		db_t *db = db_thread();
		int n = db ? mail_drain_once(db) : 0;
		if (n > 0)
			continue;
		pthread_mutex_lock(&wake_lock);
		if (!stopping && !wake_pending) {
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += 2;
			pthread_cond_timedwait(&wake, &wake_lock, &ts);
		}
		pthread_mutex_unlock(&wake_lock);
	}
	db_thread_release();
	return NULL;
}

void mail_worker_start(void)
{
	stopping = false;
	if (pthread_create(&worker, NULL, worker_main, NULL) == 0)
		worker_running = true;
	else
		log_error("cannot start the mail worker");
	log_info("mail: %s", smtp.host ? "SMTP" : "writing .eml files to DATA_DIR/mail");
}

void mail_worker_stop(void)
{
	if (!worker_running)
		return;
	pthread_mutex_lock(&wake_lock);
	stopping = true;
	pthread_cond_broadcast(&wake);
	pthread_mutex_unlock(&wake_lock);
	pthread_join(worker, NULL);
	worker_running = false;
}

/* ---- the messages ---- */

static bool send_template(db_t *db, const char *kind, const char *to, const char *subject,
			  const char *greeting_name, const char *lead, const char *code_or_link,
			  bool is_link, const char *tail)
{
	strbuf_t text, html;
	sb_init(&text, 0);
	sb_init(&html, 0);
	sb_addf(&text, "Hi %s,\n\n%s\n\n%s\n\n%s\n\n— HWC3D\n",
		greeting_name ? greeting_name : "there", lead, code_or_link, tail);
	sb_adds(&html, "<!doctype html><html><body style=\"font-family:sans-serif\"><p>Hi ");
	html_escape(&html, greeting_name ? greeting_name : "there");
	sb_adds(&html, ",</p><p>");
	html_escape(&html, lead);
	if (is_link) {
		sb_adds(&html, "</p><p><a href=\"");
		html_escape(&html, code_or_link);
		sb_adds(&html, "\">");
		html_escape(&html, code_or_link);
		sb_adds(&html, "</a></p><p>");
	} else {
		sb_adds(&html, "</p><p style=\"font-size:28px;letter-spacing:6px;font-weight:bold\">");
		html_escape(&html, code_or_link);
		sb_adds(&html, "</p><p>");
	}
	html_escape(&html, tail);
	sb_adds(&html, "</p><p>— HWC3D</p></body></html>");
	bool ok = mail_queue(db, kind, to, subject, text.buf, html.buf);
	sb_release(&text);
	sb_release(&html);
	return ok;
}

/* The template of kind, else the built-in text (the caller's fallback). */
static bool send_tpl(db_t *db, const char *kind, const char *to, const char *name, const char *var,
		     const char *value)
{
	mail_var_t vars[] = { { "name", name ? name : "there" }, { var, value } };
	return mail_tpl_send(db, kind, NULL, to, vars, ARRAY_LEN(vars), 0);
}

bool mail_verification_code(db_t *db, const char *to, const char *name, const char *code)
{
	if (send_tpl(db, "verify_email", to, name, "code", code))
		return true;
	return send_template(db, "verify_email", to, "Your HWC3D verification code", name,
			     "Your code to verify your email address:", code, false,
			     "It expires in 10 minutes. If you did not sign up, ignore this message.");
}

bool mail_admin_code(db_t *db, const char *to, const char *code)
{
	if (send_tpl(db, "admin_otp", to, NULL, "code", code))
		return true;
	return send_template(db, "admin_otp", to, "Your HWC3D admin sign-in code", NULL,
			     "Your code to finish signing in to the admin console:", code, false,
			     "It expires in 10 minutes. If this was not you, change your password now.");
}

bool mail_password_reset(db_t *db, const char *to, const char *link, bool admin)
{
	if (send_tpl(db, admin ? "admin_password_reset" : "password_reset", to, NULL, "link", link))
		return true;
	return send_template(db, admin ? "admin_password_reset" : "password_reset", to,
			     "Reset your HWC3D password", NULL,
			     "Open this link to choose a new password:", link, true,
			     "The link works once and expires in 30 minutes. If you did not ask for it, ignore this message.");
}

bool mail_welcome(db_t *db, const char *to, const char *name)
{
	if (send_tpl(db, "welcome", to, name, "link", cfg.frontend_url))
		return true;
	return send_template(db, "welcome", to, "Welcome to HWC3D", name,
			     "Your email address is verified and your account is ready.",
			     cfg.frontend_url, true,
			     "Browse the marketplace, follow creators, or upload your first model.");
}
