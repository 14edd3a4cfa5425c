/*
 * pay_paypal.c: PayPal through the Orders v2 API (payments.h).
 *
 * A charge:
 *   1. the order: c->token is the id of an order the buyer approved on
 *      PayPal; without it, one is created (intent CAPTURE, one purchase
 *      unit for the amount, custom_id = the order's idempotency key,
 *      PayPal-Request-Id = the key, so a repeat finds the same order);
 *   2. the order is read (GET): its amount and currency must be ours (an
 *      order id comes from the buyer, and anyone holding our public client
 *      id can create orders), and its status decides:
 *        CREATED, PAYER_ACTION_REQUIRED: PAY_DECLINED "Approve the payment
 *          on PayPal first", ref = the order id (the client opens PayPal's
 *          approval for it and checks out again with it as the token);
 *        APPROVED, COMPLETED: capture;  VOIDED: PAY_DECLINED;
 *        anything else: PAY_UNREACHABLE;
 *      reading the order rather than trusting the create answer matters on
 *      a repeat, where the answer may date from before the approval;
 *   3. the capture, PayPal-Request-Id = "<key>-capture": a repeat returns
 *      the capture it made.  Its capture status COMPLETED (or since
 *      refunded) is PAY_SUCCEEDED with ref = "ORDERID:CAPTUREID" (both
 *      [A-Za-z0-9_-]): the refund needs the capture id.  PENDING is read
 *      again (GET the capture) and stays PAY_UNREACHABLE while pending:
 *      the money is not ours yet but may become so.  DECLINED/FAILED are
 *      declines.  ORDER_ALREADY_CAPTURED is ours only when the order's
 *      custom_id is our key (a capture whose answer we lost); otherwise
 *      someone used that order already: PAY_DECLINED.
 *
 * Known limit: an order created for one key and captured under another
 * (the buyer approved it in one checkout and paid it in a second one) is
 * recognised on a repeat only while PayPal keeps the capture's request
 * id; after that, the repeat sees ORDER_ALREADY_CAPTURED with a foreign
 * custom_id and answers PAY_DECLINED.
 *
 * The request ids differ per operation ("<key>", "<key>-capture",
 * "<key>-refund") so that no PayPal API can answer one operation with
 * another's stored result.  Every id that goes into a URL path is checked
 * (pay_id_ok).  Messages for the buyer are ours: PayPal's descriptions are
 * written for developers.
 *
 * The access token (client credentials) is cached until five minutes
 * before it expires, for one API base and client id, under a mutex; the
 * fetch happens under the mutex too, so a burst of checkouts makes one
 * token request.  A 401 from the API drops the token and the call is made
 * once more with a new one.
 */
#include <inttypes.h>
#include <pthread.h>
#include "payments.h"
#include "pay_internal.h"
#include "../core/config.h"
#include "../core/log.h"
#include "../core/num.h"
#include "../core/strbuf.h"
#include "../core/util.h"

#define PAYPAL_DEFAULT_BASE "https://api-m.sandbox.paypal.com"
#define TOKEN_MAX 2048
#define OWNER_MAX 1024
#define DESCRIPTION_MAX 127 /* PayPal's limit for a purchase unit */

#define MSG_APPROVE "Approve the payment on PayPal first"
#define MSG_REFUSED "PayPal refused the payment."
#define MSG_UNAVAILABLE "PayPal is unavailable right now; please try again later."
#define MSG_NOT_THIS "This PayPal order is not for this purchase."

bool paypal_configured(void)
{
	return config_get("PAYPAL_CLIENT_ID") && config_get("PAYPAL_CLIENT_SECRET");
}

static const char *api_base(void)
{
	return pay_setting("PAYPAL_API_BASE", PAYPAL_DEFAULT_BASE);
}

/* ------------------------------------------------------------ access token */

static struct {
	pthread_mutex_t mu;
	char token[TOKEN_MAX + 1];
	char owner[OWNER_MAX]; /* "<base>\n<client id>" the token belongs to */
	int64_t expires_us;    /* mono_us() after which it is not used */
} tok = { .mu = PTHREAD_MUTEX_INITIALIZER };

static bool token_sane(const char *t)
{
	return pay_token_ok(t) && strlen(t) <= TOKEN_MAX;
}

/* Asks PayPal for a token; called with tok.mu held. */
static bool fetch_token(const char *id, const char *secret, const char *owner)
{
	char *url = pay_url("paypal", api_base(), "/v1/oauth2/token");
	if (!url)
		return false;
	pay_req_t r = {
		.who = "paypal",
		.url = url,
		.body = "grant_type=client_credentials",
		.content_type = "application/x-www-form-urlencoded",
		.basic_user = id,
		.basic_pass = secret,
	};
	pay_ans_t a;
	bool ok = false;
	if (!pay_http(&r, &a)) {
		/* logged */
	} else if (a.status == 401 || a.status == 403) {
		log_error("paypal: PAYPAL_CLIENT_ID/PAYPAL_CLIENT_SECRET were refused (%ld)", a.status);
	} else if (a.status < 200 || a.status > 299) {
		log_warn("paypal: the token endpoint answered %ld", a.status);
	} else {
		const char *t = pay_jstr(a.json, "access_token");
		json_t *exp = json_object_get(a.json, "expires_in");
		int64_t secs = json_is_integer(exp) ? (int64_t)json_integer_value(exp) : 0;
		if (!token_sane(t) || secs <= 0) {
			log_warn("paypal: the token endpoint gave no usable token");
		} else {
			secs = MIN(secs, (int64_t)86400);
			int64_t margin = secs > 600 ? 300 : secs / 2;
			memcpy(tok.token, t, strlen(t) + 1);
			memcpy(tok.owner, owner, strlen(owner) + 1);
			tok.expires_us = mono_us() + (secs - margin) * 1000000;
			ok = true;
		}
	}
	pay_ans_release(&a);
	free(url);
	return ok;
}

/* A token into out.  stale: a token the API just refused (401), which is
 * not handed out again; NULL otherwise.  False (logged) when none. */
static bool access_token(char out[TOKEN_MAX + 1], const char *stale)
{
	const char *id = config_get("PAYPAL_CLIENT_ID"), *secret = config_get("PAYPAL_CLIENT_SECRET");
	if (!pay_token_ok(id) || !pay_token_ok(secret)) {
		log_error("paypal: PAYPAL_CLIENT_ID and PAYPAL_CLIENT_SECRET must be set, printable, without spaces");
		return false;
	}
	char owner[OWNER_MAX];
	int n = snprintf(owner, sizeof(owner), "%s\n%s", api_base(), id);
	if (n < 0 || (size_t)n >= sizeof(owner)) {
		log_error("paypal: PAYPAL_API_BASE or PAYPAL_CLIENT_ID is too long");
		return false;
	}
	pthread_mutex_lock(&tok.mu);
	bool cached = tok.token[0] && !strcmp(tok.owner, owner) && mono_us() < tok.expires_us &&
		      !(stale && !strcmp(stale, tok.token));
	bool ok = cached || fetch_token(id, secret, owner);
	if (ok)
		memcpy(out, tok.token, strlen(tok.token) + 1);
	else
		tok.token[0] = '\0';
	pthread_mutex_unlock(&tok.mu);
	return ok;
}

/* ------------------------------------------------------------ API calls */

/* One authorized call: a JSON POST when body is set, else a GET; retried
 * once with a new token after a 401.  False when it could not be made
 * (logged); the answer is in a otherwise. */
static bool api_call(const char *path, const char *body, const char *request_id, const char *prefer, pay_ans_t *a)
{
	a->status = 0;
	a->json = NULL;
	char token[TOKEN_MAX + 1];
	if (!access_token(token, NULL))
		return false;
	char *url = pay_url("paypal", api_base(), path);
	if (!url)
		return false;
	bool ok = false;
	for (int attempt = 0; attempt < 2; attempt++) {
		pay_req_t r = {
			.who = "paypal",
			.url = url,
			.body = body,
			.content_type = "application/json",
			.bearer = token,
			.idem_name = request_id ? "PayPal-Request-Id" : NULL,
			.idem_value = request_id,
			.extra = prefer,
		};
		ok = pay_http(&r, a);
		if (!ok || a->status != 401 || attempt > 0)
			break;
		log_info("paypal: %s answered 401; getting a new access token", path);
		pay_ans_release(a);
		char stale[TOKEN_MAX + 1];
		memcpy(stale, token, sizeof(stale));
		if (!access_token(token, stale)) {
			ok = false;
			a->status = 0;
			break;
		}
	}
	free(url);
	return ok;
}

/* The first detail's issue of a PayPal error ("INSTRUMENT_DECLINED"), or
 * its name, or NULL. */
static const char *error_issue(json_t *j)
{
	const char *issue = pay_jstr(json_array_get(json_object_get(j, "details"), 0), "issue");
	return issue ? issue : pay_jstr(j, "name");
}

/* What a non-2xx answer (or none) means, logged; *issue as error_issue. */
static pay_status_t error_status(const char *what, const pay_ans_t *a, const char **issue)
{
	*issue = error_issue(a->json);
	if (a->status == 0)
		return PAY_UNREACHABLE; /* logged by pay_http or access_token */
	if (a->status >= 500 || a->status < 400 || !a->json) {
		log_warn("paypal: %s answered %ld%s", what, a->status, a->json ? "" : " without a JSON body");
		return PAY_UNREACHABLE;
	}
	if (a->status == 401 || a->status == 409 || a->status == 429 ||
	    (*issue && !strcmp(*issue, "DUPLICATE_REQUEST_ID"))) {
		log_warn("paypal: %s answered %ld %.64s: the outcome is unknown", what, a->status,
			 *issue ? *issue : "");
		return PAY_UNREACHABLE;
	}
	log_info("paypal: %s answered %ld %.64s", what, a->status, *issue ? *issue : "");
	return PAY_DECLINED;
}

static bool is_2xx(const pay_ans_t *a)
{
	return a->status >= 200 && a->status <= 299 && a->json;
}

/* The only purchase unit of an order, or NULL. */
static json_t *purchase_unit(json_t *order)
{
	json_t *units = json_object_get(order, "purchase_units");
	return json_array_size(units) == 1 ? json_array_get(units, 0) : NULL;
}

/* Is amount ({currency_code, value}) exactly cents of currency? */
static bool amount_is(json_t *amount, const char *currency, int64_t cents)
{
	const char *cur = pay_jstr(amount, "currency_code"), *value = pay_jstr(amount, "value");
	int64_t got;
	return cur && value && !strcmp(cur, currency) && parse_cents(value, &got) && got == cents;
}

/* ------------------------------------------------------------ charge */

static void set_ref2(pay_charge_t *c, pay_status_t st, const char *order_id, const char *capture_id,
		     const char *message)
{
	char ref[PAY_REF_MAX];
	snprintf(ref, sizeof(ref), "%s:%s", order_id, capture_id); /* 2 * PAY_ID_MAX + 1 < PAY_REF_MAX */
	pay_result(c, st, ref, message);
}

/* The outcome of a capture's status; fresh: it was just read with a GET. */
static void capture_outcome(pay_charge_t *c, const char *order_id, const char *cap_id, const char *st, bool fresh)
{
	if (!pay_id_ok(cap_id, PAY_ID_MAX) || !st) {
		log_warn("paypal: the capture of order %s has no usable id or status", order_id);
		pay_result(c, PAY_UNREACHABLE, order_id, MSG_UNAVAILABLE);
	} else if (!strcmp(st, "COMPLETED") || !strcmp(st, "PARTIALLY_REFUNDED") || !strcmp(st, "REFUNDED")) {
		set_ref2(c, PAY_SUCCEEDED, order_id, cap_id, NULL);
	} else if (!strcmp(st, "DECLINED") || !strcmp(st, "FAILED")) {
		log_info("paypal: capture %s of order %s is %s", cap_id, order_id, st);
		set_ref2(c, PAY_DECLINED, order_id, cap_id, "PayPal declined the payment.");
	} else if (!strcmp(st, "PENDING") && !fresh) {
		char path[32 + PAY_ID_MAX];
		snprintf(path, sizeof(path), "/v2/payments/captures/%s", cap_id);
		pay_ans_t a;
		if (api_call(path, NULL, NULL, NULL, &a) && is_2xx(&a)) {
			capture_outcome(c, order_id, cap_id, pay_jstr(a.json, "status"), true);
		} else {
			log_warn("paypal: capture %s is pending and could not be read again (%ld)", cap_id, a.status);
			set_ref2(c, PAY_UNREACHABLE, order_id, cap_id, "The PayPal payment is pending at PayPal.");
		}
		pay_ans_release(&a);
	} else if (!strcmp(st, "PENDING")) {
		log_info("paypal: capture %s of order %s is pending", cap_id, order_id);
		set_ref2(c, PAY_UNREACHABLE, order_id, cap_id, "The PayPal payment is pending at PayPal.");
	} else {
		log_error("paypal: capture %s of order %s has the unexpected status %.40s", cap_id, order_id, st);
		set_ref2(c, PAY_UNREACHABLE, order_id, cap_id, MSG_UNAVAILABLE);
	}
}

/* The first capture of an order (or of a capture answer, which has the
 * order's shape), its amount checked against c. */
static void first_capture_outcome(pay_charge_t *c, const char *order_id, json_t *order)
{
	json_t *cap = json_array_get(json_object_get(json_object_get(purchase_unit(order), "payments"), "captures"), 0);
	json_t *amount = json_object_get(cap, "amount");
	if (amount && !amount_is(amount, c->currency, c->amount_cents)) {
		log_error("paypal: the capture of order %s for %s is not for %" PRId64 " %s", order_id,
			  c->idempotency_key, c->amount_cents, c->currency);
		pay_result(c, PAY_UNREACHABLE, order_id, MSG_UNAVAILABLE);
		return;
	}
	capture_outcome(c, order_id, pay_jstr(cap, "id"), pay_jstr(cap, "status"), false);
}

/* GET the order into *order (a new reference).  False with c filled when
 * it cannot be read. */
static bool get_order(pay_charge_t *c, const char *order_id, json_t **order)
{
	char path[32 + PAY_ID_MAX];
	snprintf(path, sizeof(path), "/v2/checkout/orders/%s", order_id);
	pay_ans_t a;
	const char *issue;
	*order = NULL;
	if (api_call(path, NULL, NULL, NULL, &a) && is_2xx(&a)) {
		*order = json_incref(a.json);
	} else if (error_status("GET the order", &a, &issue) == PAY_DECLINED) {
		/* an id from the buyer that is not an order of ours: nothing taken */
		pay_result(c, PAY_DECLINED, NULL, "This PayPal order cannot be used.");
	} else {
		pay_result(c, PAY_UNREACHABLE, order_id, MSG_UNAVAILABLE);
	}
	pay_ans_release(&a);
	return *order != NULL;
}

/* The capture answered ORDER_ALREADY_CAPTURED. */
static void already_captured(pay_charge_t *c, const char *order_id)
{
	json_t *order;
	if (!get_order(c, order_id, &order))
		return;
	const char *custom = pay_jstr(purchase_unit(order), "custom_id");
	if (custom && !strcmp(custom, c->idempotency_key)) {
		/* our order, captured by an earlier call whose answer was lost */
		first_capture_outcome(c, order_id, order);
	} else {
		log_warn("paypal: order %s was captured already, not for %s", order_id, c->idempotency_key);
		pay_result(c, PAY_DECLINED, order_id, "This PayPal payment has already been used.");
	}
	json_decref(order);
}

static void capture(pay_charge_t *c, const char *order_id)
{
	char path[48 + PAY_ID_MAX], rid[PAY_KEY_MAX + 16];
	snprintf(path, sizeof(path), "/v2/checkout/orders/%s/capture", order_id);
	snprintf(rid, sizeof(rid), "%s-capture", c->idempotency_key);
	pay_ans_t a;
	const char *issue;
	if (api_call(path, "", rid, "Prefer: return=representation", &a) && is_2xx(&a)) {
		first_capture_outcome(c, order_id, a.json);
	} else if (error_status("the capture", &a, &issue) == PAY_UNREACHABLE) {
		pay_result(c, PAY_UNREACHABLE, order_id, MSG_UNAVAILABLE);
	} else if (issue && !strcmp(issue, "ORDER_ALREADY_CAPTURED")) {
		already_captured(c, order_id);
	} else if (issue && (!strcmp(issue, "ORDER_NOT_APPROVED") || !strcmp(issue, "PAYER_ACTION_REQUIRED"))) {
		pay_result(c, PAY_DECLINED, order_id, MSG_APPROVE);
	} else if (issue && !strcmp(issue, "INSTRUMENT_DECLINED")) {
		pay_result(c, PAY_DECLINED, order_id,
			   "PayPal declined the payment method; choose another one on PayPal and try again.");
	} else {
		pay_result(c, PAY_DECLINED, order_id, MSG_REFUSED);
	}
	pay_ans_release(&a);
}

/* Creates the order for c; its id into order_id.  False with c filled. */
static bool create_order(pay_charge_t *c, const char *value, char order_id[PAY_ID_MAX + 1])
{
	char desc[PAY_MESSAGE_MAX];
	pay_message_set(desc, c->description, "HWC3D");
	size_t n = strlen(desc);
	if (n > DESCRIPTION_MAX) {
		n = DESCRIPTION_MAX;
		while (n > 0 && ((unsigned char)desc[n] & 0xc0) == 0x80)
			n--;
		desc[n] = '\0';
	}
	json_t *body = json_pack("{s:s, s:[{s:{s:s, s:s}, s:s, s:s}]}", "intent", "CAPTURE", "purchase_units",
				 "amount", "currency_code", c->currency, "value", value, "custom_id",
				 c->idempotency_key, "description", desc);
	if (!body) /* a description that is not UTF-8 */
		body = json_pack("{s:s, s:[{s:{s:s, s:s}, s:s}]}", "intent", "CAPTURE", "purchase_units", "amount",
				 "currency_code", c->currency, "value", value, "custom_id", c->idempotency_key);
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	json_decref(body);
	if (!text)
		die("out of memory (json_dumps)");

	pay_ans_t a;
	const char *issue;
	bool ok = false;
	if (api_call("/v2/checkout/orders", text, c->idempotency_key, "Prefer: return=minimal", &a) && is_2xx(&a)) {
		const char *id = pay_jstr(a.json, "id");
		if (pay_id_ok(id, PAY_ID_MAX)) {
			memcpy(order_id, id, strlen(id) + 1);
			ok = true;
		} else {
			log_warn("paypal: the new order for %s has no usable id", c->idempotency_key);
			pay_result(c, PAY_UNREACHABLE, NULL, MSG_UNAVAILABLE);
		}
	} else if (error_status("the order creation", &a, &issue) == PAY_UNREACHABLE) {
		pay_result(c, PAY_UNREACHABLE, NULL, MSG_UNAVAILABLE);
	} else {
		pay_result(c, PAY_DECLINED, NULL, MSG_REFUSED);
	}
	pay_ans_release(&a);
	free(text);
	return ok;
}

void paypal_charge(pay_charge_t *c)
{
	pay_result(c, PAY_UNREACHABLE, NULL, MSG_UNAVAILABLE);
	char value[32];
	if (!pay_key_ok(c->idempotency_key) || c->amount_cents <= 0 || !pay_currency_ok(c->currency) ||
	    !pay_amount_str(c->amount_cents, value)) {
		log_error("paypal: refusing a charge with a bad key, amount (%" PRId64 ") or currency", c->amount_cents);
		pay_result(c, PAY_DECLINED, NULL, "This payment cannot be made with PayPal.");
		return;
	}
	char order_id[PAY_ID_MAX + 1];
	if (c->token) {
		if (!pay_id_ok(c->token, PAY_ID_MAX)) {
			pay_result(c, PAY_DECLINED, NULL, "This PayPal order cannot be used.");
			return;
		}
		memcpy(order_id, c->token, strlen(c->token) + 1);
	} else if (!create_order(c, value, order_id)) {
		return;
	}

	json_t *order;
	if (!get_order(c, order_id, &order))
		return;
	const char *st = pay_jstr(order, "status");
	if (!amount_is(json_object_get(purchase_unit(order), "amount"), c->currency, c->amount_cents)) {
		log_warn("paypal: order %s is not for %" PRId64 " %s (%s)", order_id, c->amount_cents, c->currency,
			 c->idempotency_key);
		pay_result(c, PAY_DECLINED, order_id, MSG_NOT_THIS);
	} else if (!st) {
		log_warn("paypal: order %s has no status", order_id);
		pay_result(c, PAY_UNREACHABLE, order_id, MSG_UNAVAILABLE);
	} else if (!strcmp(st, "CREATED") || !strcmp(st, "PAYER_ACTION_REQUIRED")) {
		pay_result(c, PAY_DECLINED, order_id, MSG_APPROVE);
	} else if (!strcmp(st, "APPROVED") || !strcmp(st, "COMPLETED")) {
		/* COMPLETED too: if the capture was ours, its request id gives
		 * it back; if not, PayPal says ORDER_ALREADY_CAPTURED */
		capture(c, order_id);
	} else if (!strcmp(st, "VOIDED")) {
		pay_result(c, PAY_DECLINED, order_id, "The PayPal order was cancelled.");
	} else {
		log_error("paypal: order %s has the unexpected status %.40s", order_id, st);
		pay_result(c, PAY_UNREACHABLE, order_id, MSG_UNAVAILABLE);
	}
	json_decref(order);
}

/* ------------------------------------------------------------ refund */

/* The capture of ref ("ORDER:CAPTURE", or an order id alone: its first
 * capture) and its currency.  PAY_SUCCEEDED when found. */
static pay_status_t find_capture(const char *ref, char cap_id[PAY_ID_MAX + 1], char currency[4])
{
	const char *colon = strchr(ref, ':');
	char order_id[PAY_ID_MAX + 1];
	size_t olen = colon ? (size_t)(colon - ref) : strlen(ref);
	if (olen == 0 || olen > PAY_ID_MAX)
		return PAY_DECLINED;
	memcpy(order_id, ref, olen);
	order_id[olen] = '\0';
	if (!pay_id_ok(order_id, PAY_ID_MAX) || (colon && !pay_id_ok(colon + 1, PAY_ID_MAX)))
		return PAY_DECLINED;

	char path[48 + PAY_ID_MAX];
	if (colon)
		snprintf(path, sizeof(path), "/v2/payments/captures/%s", colon + 1);
	else
		snprintf(path, sizeof(path), "/v2/checkout/orders/%s", order_id);
	pay_ans_t a;
	const char *issue;
	pay_status_t st;
	if (api_call(path, NULL, NULL, NULL, &a) && is_2xx(&a)) {
		json_t *cap = colon ? a.json
			: json_array_get(json_object_get(json_object_get(purchase_unit(a.json), "payments"), "captures"), 0);
		const char *id = pay_jstr(cap, "id");
		const char *cur = pay_jstr(json_object_get(cap, "amount"), "currency_code");
		st = PAY_DECLINED;
		if (pay_id_ok(id, PAY_ID_MAX) && pay_currency_ok(cur)) {
			memcpy(cap_id, id, strlen(id) + 1);
			memcpy(currency, cur, 4);
			st = PAY_SUCCEEDED;
		} else {
			log_warn("paypal: no refundable capture found for %s", ref);
		}
	} else {
		st = error_status("GET the capture", &a, &issue);
	}
	pay_ans_release(&a);
	return st;
}

pay_status_t paypal_refund(const char *ref, int64_t amount_cents, const char *idempotency_key,
			   char message[PAY_MESSAGE_MAX])
{
	pay_message_set(message, NULL, "");
	char value[32], cap_id[PAY_ID_MAX + 1], currency[4];
	if (!ref || amount_cents <= 0 || !pay_key_ok(idempotency_key) || !pay_amount_str(amount_cents, value)) {
		log_error("paypal: refusing a refund with a bad reference, amount (%" PRId64 ") or key", amount_cents);
		pay_message_set(message, NULL, "This payment cannot be refunded here.");
		return PAY_DECLINED;
	}
	pay_status_t st = find_capture(ref, cap_id, currency);
	if (st != PAY_SUCCEEDED) {
		pay_message_set(message, NULL, st == PAY_DECLINED ? "This PayPal payment cannot be refunded here."
								  : "PayPal could not be reached; try the refund again later.");
		return st;
	}

	char path[48 + PAY_ID_MAX], rid[PAY_KEY_MAX + 16];
	snprintf(path, sizeof(path), "/v2/payments/captures/%s/refund", cap_id);
	snprintf(rid, sizeof(rid), "%s-refund", idempotency_key);
	json_t *body = json_pack("{s:{s:s, s:s}}", "amount", "value", value, "currency_code", currency);
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	json_decref(body);
	if (!text)
		die("out of memory (json_dumps)");

	pay_ans_t a;
	const char *issue;
	if (api_call(path, text, rid, "Prefer: return=minimal", &a) && is_2xx(&a)) {
		const char *rs = pay_jstr(a.json, "status");
		if (rs && (!strcmp(rs, "COMPLETED") || !strcmp(rs, "PENDING"))) {
			st = PAY_SUCCEEDED;
		} else if (rs && (!strcmp(rs, "CANCELLED") || !strcmp(rs, "FAILED"))) {
			log_warn("paypal: the refund of capture %s is %s", cap_id, rs);
			pay_message_set(message, NULL, "The refund failed.");
			st = PAY_DECLINED;
		} else {
			log_error("paypal: the refund of capture %s has the status %.40s", cap_id, rs ? rs : "(none)");
			st = PAY_UNREACHABLE;
		}
	} else {
		st = error_status("the refund", &a, &issue);
		if (st == PAY_DECLINED)
			pay_message_set(message, NULL,
					issue && !strcmp(issue, "CAPTURE_FULLY_REFUNDED") ? "This payment is already refunded."
					: issue && !strcmp(issue, "REFUND_AMOUNT_EXCEEDED") ? "The refund is larger than what is left of the payment."
					: issue && !strcmp(issue, "REFUND_TIME_LIMIT_EXCEEDED") ? "This payment is too old to be refunded."
					: "PayPal refused the refund.");
	}
	pay_ans_release(&a);
	free(text);
	if (st == PAY_UNREACHABLE)
		pay_message_set(message, NULL, "PayPal could not be reached; try the refund again later.");
	return st;
}
