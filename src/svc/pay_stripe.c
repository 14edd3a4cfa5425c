/*
 * pay_stripe.c: card payments through Stripe's PaymentIntents API
 * (payments.h).
 *
 * A charge is one POST /v1/payment_intents that creates and confirms the
 * intent (confirm=true), form encoded, with the order's key as the
 * Idempotency-Key: Stripe answers a repeated key with the first answer and
 * charges once.  The card is a token from Stripe.js or Stripe's test mode:
 * a "tok_..." goes in as payment_method_data[card][token] (Stripe turns it
 * into a PaymentMethod), anything else as payment_method (a "pm_...").
 *
 * Decisions:
 *  - payment_method_types[]=card rather than automatic_payment_methods: we
 *    only ever pass a card, so the intent says so and does not depend on
 *    what the Dashboard enables; no redirect-based method can be picked,
 *    so no return_url is needed.
 *  - No 3-D Secure: this checkout has no page to run it on, so we send
 *    error_on_requires_action=true and Stripe fails such a card at once as
 *    a card error (402 authentication_required).  Should an intent still
 *    answer requires_action, it is declined with a message saying so: the
 *    intent waits for an authentication nobody can give (its client secret
 *    never leaves the server), so nothing is taken.
 *  - "processing" is not a decline: the money may still arrive.  The
 *    intent is read once more (GET); if it is still processing, the answer
 *    is PAY_UNREACHABLE, so the order stays pending and a later reconcile
 *    (the same call again: the create replays, the GET is current) learns
 *    the end.
 *  - Unknown outcomes are PAY_UNREACHABLE, never PAY_DECLINED, because
 *    DECLINED means nothing was taken: transport failures, timeouts, 5xx,
 *    3xx, unreadable bodies, 409 and idempotency_error answers (a key
 *    reused with other parameters: a bug of ours, and the first request
 *    may have charged), a refused API key (401/403, our configuration, not
 *    the buyer's card), 429, and statuses we do not know.
 *  - Other 4xx answers are declines: a card_error's message is written for
 *    the buyer and is passed on; an invalid_request_error's is written for
 *    developers (it may quote the token), so the buyer gets a fixed text
 *    and the log gets its type, code and param.
 *  - A succeeded intent must be for the amount and currency we asked;
 *    otherwise it is logged as an error and answered PAY_UNREACHABLE.
 *  - Refunds carry "<key>-refund" as their Idempotency-Key: Stripe refuses
 *    a key first used on another endpoint, so a caller that passes the
 *    order's own key still gets one refund, once.
 *  - Amounts are cents of a two-decimal currency (pay_currency_ok).
 */
#include <inttypes.h>
#include "payments.h"
#include "pay_internal.h"
#include "../core/config.h"
#include "../core/log.h"
#include "../core/strbuf.h"
#include "../core/util.h"

#define STRIPE_DEFAULT_BASE "https://api.stripe.com"
#define FORM_MAX 8192

#define MSG_DECLINED "Your card was declined."
#define MSG_REFUSED "The card payment could not be processed."
#define MSG_3DS "This card asks for an extra confirmation (3-D Secure) that this checkout cannot do; please use another card."
#define MSG_PROCESSING "The card payment is still being processed."
#define MSG_UNAVAILABLE "Card payments are unavailable right now; please try again later."

bool stripe_configured(void)
{
	return config_get("STRIPE_SECRET_KEY") != NULL;
}

/* The secret key, or NULL (logged) when it cannot go into a header. */
static const char *secret_key(void)
{
	const char *k = config_get("STRIPE_SECRET_KEY");
	if (!pay_token_ok(k)) {
		log_error("stripe: STRIPE_SECRET_KEY is %s", k ? "not a printable key without spaces" : "not set");
		return NULL;
	}
	return k;
}

/* One call to Stripe: a form POST when form is set, else a GET.  False
 * when it could not be made (logged); the answer is in a otherwise. */
static bool stripe_call(const char *path, const char *form, const char *idem, pay_ans_t *a)
{
	a->status = 0;
	a->json = NULL;
	const char *key = secret_key();
	char *url = key ? pay_url("stripe", pay_setting("STRIPE_API_BASE", STRIPE_DEFAULT_BASE), path) : NULL;
	if (!url)
		return false;
	pay_req_t r = {
		.who = "stripe",
		.url = url,
		.body = form,
		.content_type = "application/x-www-form-urlencoded",
		.bearer = key,
		.idem_name = idem ? "Idempotency-Key" : NULL,
		.idem_value = idem,
	};
	bool ok = pay_http(&r, a);
	free(url);
	return ok;
}

/* What a non-2xx answer means (logged).  *card_message is the buyer's
 * message of a card error (a string inside a->json, or MSG_DECLINED), NULL
 * for any other answer. */
static pay_status_t error_status(const char *what, const pay_ans_t *a, const char **card_message)
{
	json_t *err = json_object_get(a->json, "error");
	const char *type = pay_jstr(err, "type"), *code = pay_jstr(err, "code");
	*card_message = NULL;
	if (a->status == 0)
		return PAY_UNREACHABLE; /* logged by pay_http */
	if (a->status >= 500 || a->status < 400 || !json_is_object(err)) {
		log_warn("stripe: %s answered %ld%s", what, a->status,
			 json_is_object(err) ? "" : " without a Stripe error body");
		return PAY_UNREACHABLE;
	}
	if (a->status == 409 || (type && !strcmp(type, "idempotency_error"))) {
		log_error("stripe: %s answered %ld %s: an idempotency key conflict, the outcome is unknown", what,
			  a->status, type ? type : "");
		return PAY_UNREACHABLE;
	}
	if (a->status == 401 || a->status == 403) {
		log_error("stripe: %s answered %ld: STRIPE_SECRET_KEY was refused", what, a->status);
		return PAY_UNREACHABLE;
	}
	if (a->status == 429) {
		log_warn("stripe: %s answered 429: rate limited", what);
		return PAY_UNREACHABLE;
	}
	if (type && !strcmp(type, "card_error")) {
		const char *decline = pay_jstr(err, "decline_code");
		log_info("stripe: %s: card error %s%s%s", what, code ? code : "?", decline ? "/" : "",
			 decline ? decline : "");
		*card_message = pay_jstr(err, "message");
		if (!*card_message)
			*card_message = MSG_DECLINED;
		return PAY_DECLINED;
	}
	/* The message of an invalid_request_error may quote the card token:
	 * the log gets its type, code and parameter name only. */
	const char *param = pay_jstr(err, "param");
	log_warn("stripe: %s answered %ld %s %s%s%.64s", what, a->status, type ? type : "?", code ? code : "",
		 param ? " param=" : "", param ? param : "");
	return PAY_DECLINED;
}

/* Is the intent for c's amount and currency? */
static bool same_amount(json_t *pi, const pay_charge_t *c)
{
	json_t *amount = json_object_get(pi, "amount");
	const char *cur = pay_jstr(pi, "currency");
	return json_is_integer(amount) && json_integer_value(amount) == c->amount_cents && cur &&
	       str_eq_nocase(cur, c->currency);
}

/* The outcome of a PaymentIntent answer (2xx).  fresh: pi was just read
 * with a GET, so "processing" is not looked up again. */
static void intent_outcome(pay_charge_t *c, json_t *pi, bool fresh)
{
	const char *id = pay_jstr(pi, "id"), *st = pay_jstr(pi, "status");
	if (!pay_id_ok(id, PAY_ID_MAX) || !st) {
		log_warn("stripe: a PaymentIntent answer for %s has no usable id or status", c->idempotency_key);
		pay_result(c, PAY_UNREACHABLE, NULL, MSG_UNAVAILABLE);
		return;
	}
	if (!strcmp(st, "succeeded")) {
		if (!same_amount(pi, c)) {
			log_error("stripe: PaymentIntent %s for %s is not for %" PRId64 " %s", id, c->idempotency_key,
				  c->amount_cents, c->currency);
			pay_result(c, PAY_UNREACHABLE, id, MSG_UNAVAILABLE);
			return;
		}
		pay_result(c, PAY_SUCCEEDED, id, NULL);
	} else if (!strcmp(st, "requires_payment_method") || !strcmp(st, "canceled")) {
		json_t *last = json_object_get(pi, "last_payment_error");
		const char *type = pay_jstr(last, "type");
		const char *msg = type && !strcmp(type, "card_error") ? pay_jstr(last, "message") : NULL;
		log_info("stripe: PaymentIntent %s for %s is %s", id, c->idempotency_key, st);
		pay_result(c, PAY_DECLINED, id, NULL);
		pay_message_set(c->message, msg, MSG_DECLINED);
	} else if (!strcmp(st, "requires_action")) {
		log_info("stripe: PaymentIntent %s for %s requires an action (3-D Secure): declined", id,
			 c->idempotency_key);
		pay_result(c, PAY_DECLINED, id, MSG_3DS);
	} else if (!strcmp(st, "processing") && !fresh) {
		char path[16 + PAY_ID_MAX];
		snprintf(path, sizeof(path), "/v1/payment_intents/%s", id);
		pay_ans_t a;
		if (stripe_call(path, NULL, NULL, &a) && a.status >= 200 && a.status <= 299 && a.json) {
			intent_outcome(c, a.json, true);
		} else {
			log_warn("stripe: PaymentIntent %s for %s is processing and could not be read again (%ld)", id,
				 c->idempotency_key, a.status);
			pay_result(c, PAY_UNREACHABLE, id, MSG_PROCESSING);
		}
		pay_ans_release(&a);
	} else if (!strcmp(st, "processing")) {
		log_info("stripe: PaymentIntent %s for %s is still processing", id, c->idempotency_key);
		pay_result(c, PAY_UNREACHABLE, id, MSG_PROCESSING);
	} else {
		log_error("stripe: PaymentIntent %s for %s has the unexpected status %.40s", id, c->idempotency_key, st);
		pay_result(c, PAY_UNREACHABLE, id, MSG_UNAVAILABLE);
	}
}

/* False (with c filled as a decline) when the charge cannot be sent. */
static bool charge_input_ok(pay_charge_t *c)
{
	if (!pay_key_ok(c->idempotency_key) || c->amount_cents <= 0 || !pay_currency_ok(c->currency)) {
		log_error("stripe: refusing a charge with a bad key, amount (%" PRId64 ") or currency",
			  c->amount_cents);
		pay_result(c, PAY_DECLINED, NULL, "This payment cannot be made by card.");
		return false;
	}
	if (!pay_token_ok(c->token)) {
		pay_result(c, PAY_DECLINED, NULL, c->token ? "The card details are not valid." : "Card details are missing.");
		return false;
	}
	return true;
}

void stripe_charge(pay_charge_t *c)
{
	pay_result(c, PAY_UNREACHABLE, NULL, MSG_UNAVAILABLE);
	if (!charge_input_ok(c))
		return;
	char num[32], cur[4], desc[PAY_MESSAGE_MAX];
	snprintf(num, sizeof(num), "%" PRId64, c->amount_cents);
	for (int i = 0; i < 3; i++) /* pay_currency_ok: three letters A-Z */
		cur[i] = (char)(c->currency[i] - 'A' + 'a');
	cur[3] = '\0';
	pay_message_set(desc, c->description, "HWC3D");

	strbuf_t form;
	sb_init(&form, FORM_MAX);
	pay_form_add(&form, "amount", num);
	pay_form_add(&form, "currency", cur);
	pay_form_add(&form, "confirm", "true");
	pay_form_add(&form, "payment_method_types[]", "card");
	pay_form_add(&form, "error_on_requires_action", "true");
	if (str_has_prefix(c->token, "tok_")) {
		pay_form_add(&form, "payment_method_data[type]", "card");
		pay_form_add(&form, "payment_method_data[card][token]", c->token);
	} else {
		pay_form_add(&form, "payment_method", c->token);
	}
	pay_form_add(&form, "description", desc);
	pay_form_add(&form, "metadata[order_key]", c->idempotency_key);
	if (form.overflow) { /* cannot happen with the bounds above */
		sb_release(&form);
		pay_result(c, PAY_DECLINED, NULL, MSG_REFUSED);
		return;
	}

	pay_ans_t a;
	bool sent = stripe_call("/v1/payment_intents", form.buf, c->idempotency_key, &a);
	sb_release(&form);
	if (!sent) {
		pay_result(c, PAY_UNREACHABLE, NULL, MSG_UNAVAILABLE);
	} else if (a.status >= 200 && a.status <= 299) {
		if (a.json) {
			intent_outcome(c, a.json, false);
		} else {
			log_warn("stripe: the PaymentIntent answer for %s is not a JSON object", c->idempotency_key);
			pay_result(c, PAY_UNREACHABLE, NULL, MSG_UNAVAILABLE);
		}
	} else {
		const char *card_msg;
		pay_status_t st = error_status("POST /v1/payment_intents", &a, &card_msg);
		/* a declined card's error carries the intent it failed */
		const char *pi = pay_jstr(json_object_get(json_object_get(a.json, "error"), "payment_intent"), "id");
		pay_result(c, st, pay_id_ok(pi, PAY_ID_MAX) ? pi : NULL, NULL);
		pay_message_set(c->message, card_msg, st == PAY_DECLINED ? MSG_REFUSED : MSG_UNAVAILABLE);
	}
	pay_ans_release(&a);
}

pay_status_t stripe_refund(const char *ref, int64_t amount_cents, const char *idempotency_key,
			   char message[PAY_MESSAGE_MAX])
{
	pay_message_set(message, NULL, "");
	bool is_pi = ref && str_has_prefix(ref, "pi_"), is_ch = ref && str_has_prefix(ref, "ch_");
	if (!pay_id_ok(ref, PAY_ID_MAX) || !(is_pi || is_ch) || amount_cents <= 0 || !pay_key_ok(idempotency_key)) {
		log_error("stripe: refusing a refund with a bad reference, amount (%" PRId64 ") or key", amount_cents);
		pay_message_set(message, NULL, "This payment cannot be refunded here.");
		return PAY_DECLINED;
	}
	char num[32], idem[PAY_KEY_MAX + 16];
	snprintf(num, sizeof(num), "%" PRId64, amount_cents);
	snprintf(idem, sizeof(idem), "%s-refund", idempotency_key);
	strbuf_t form;
	sb_init(&form, FORM_MAX);
	pay_form_add(&form, is_pi ? "payment_intent" : "charge", ref);
	pay_form_add(&form, "amount", num);

	pay_ans_t a;
	pay_status_t st = PAY_UNREACHABLE;
	bool sent = stripe_call("/v1/refunds", form.buf, idem, &a);
	sb_release(&form);
	if (!sent) {
		st = PAY_UNREACHABLE;
	} else if (a.status >= 200 && a.status <= 299) {
		const char *rs = pay_jstr(a.json, "status");
		if (rs && (!strcmp(rs, "succeeded") || !strcmp(rs, "pending"))) {
			st = PAY_SUCCEEDED;
		} else if (rs && (!strcmp(rs, "failed") || !strcmp(rs, "canceled"))) {
			log_warn("stripe: the refund of %s is %s", ref, rs);
			pay_message_set(message, NULL, "The refund failed.");
			st = PAY_DECLINED;
		} else {
			log_error("stripe: the refund of %s has the status %.40s", ref, rs ? rs : "(none)");
			st = PAY_UNREACHABLE;
		}
	} else {
		const char *card_msg;
		st = error_status("POST /v1/refunds", &a, &card_msg);
		const char *code = pay_jstr(json_object_get(a.json, "error"), "code");
		if (st == PAY_DECLINED)
			pay_message_set(message, NULL,
					code && !strcmp(code, "charge_already_refunded") ? "This payment is already refunded."
					: code && !strcmp(code, "amount_too_large") ? "The refund is larger than what is left of the payment."
					: "Stripe refused the refund.");
	}
	pay_ans_release(&a);
	if (st == PAY_UNREACHABLE)
		pay_message_set(message, NULL, "Stripe could not be reached; try the refund again later.");
	return st;
}
