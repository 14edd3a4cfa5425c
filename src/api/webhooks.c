/*
 * webhooks.c: POST /api/webhooks/stripe, what Stripe tells us after the
 * fact.
 *
 * The Stripe-Signature header is checked over the raw body with
 * STRIPE_WEBHOOK_SECRET (payments.h, stripe_signature_ok: HMAC-SHA256,
 * five minutes of tolerance) before anything in it is believed.  A full
 * refund (charge.refunded) or a dispute opened (charge.dispute.created)
 * reverses the order (orders_refund: the purchases revoked, the earnings
 * reversed); a repeated delivery finds it reversed already.  Other events
 * are acknowledged and ignored, so Stripe stops sending them again.
 */
#include "api.h"
#include "../core/config.h"
#include "../core/log.h"
#include "../core/util.h"
#include "../http/reply.h"
#include "../http/request.h"
#include "../svc/orders.h"
#include "../svc/payments.h"

/* The PaymentIntent an event's object belongs to (a Charge or a Dispute
 * names it in payment_intent). */
static const char *payment_intent_of(json_t *object)
{
	const char *pi = json_string_value(json_object_get(object, "payment_intent"));
	return pi && *pi && strlen(pi) < PAY_REF_MAX ? pi : NULL;
}

static int stripe_webhook(req_t *req)
{
	const char *secret = config_get("STRIPE_WEBHOOK_SECRET");
	if (!secret || !*secret) {
		req->retry_after = 3600;
		return reply_error(req, ERR_UNAVAILABLE, "Stripe webhooks are not configured on this server");
	}
	const char *sig = req_header(req, "Stripe-Signature");
	if (!sig || !stripe_signature_ok(sig, req->body.buf ? req->body.buf : "", req->body.len, secret,
					 now_ms() / 1000, STRIPE_SIGNATURE_TOLERANCE_S))
		return reply_error_status(req, 400, ERR_VALIDATION, "The Stripe-Signature header does not verify");
	json_t *event = req_body(req);
	const char *type = json_string_value(json_object_get(event, "type"));
	json_t *object = json_object_get(json_object_get(event, "data"), "object");
	const char *event_id = json_string_value(json_object_get(event, "id"));
	if (!type || !json_is_object(object))
		return reply_invalid1(req, "type", "Not a Stripe event");
	bool refund = !strcmp(type, "charge.refunded"), dispute = !strcmp(type, "charge.dispute.created");
	if (refund && !json_is_true(json_object_get(object, "refunded"))) {
		log_info("stripe webhook %s: a partial refund, left to the books", event_id ? event_id : "?");
		refund = false;
	}
	if (refund || dispute) {
		const char *pi = payment_intent_of(object);
		int64_t order = pi ? orders_by_ref(req->db, "stripe", pi) : 0;
		if (order) {
			enum settle_result s = orders_refund(req->db, order);
			if (s == SETTLE_DB_ERROR)
				return reply_db_error(req, "reverse order"); /* Stripe sends it again */
			if (s == SETTLE_DONE)
				log_info("stripe webhook %s: order %lld reversed (%s)", event_id ? event_id : "?",
					 (long long)order, type);
		} else {
			log_warn("stripe webhook %s: %s for a payment we do not know", event_id ? event_id : "?", type);
		}
	}
	return reply_ok(req, json_pack("{s:b}", "received", 1));
}

const route_t webhook_routes[] = {
	{ M_POST, "/api/webhooks/stripe", stripe_webhook, ACCESS_PUBLIC, RL_NONE, BODY_JSON, 0, 0, "Stripe events (signed): refunds and disputes reverse their order" },
};
EXPORT_ROUTES(webhook_routes);
