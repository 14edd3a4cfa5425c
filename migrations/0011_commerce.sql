-- Commerce (issue 10): the cart, orders charged exactly once, purchases,
-- the creators' earnings ledger and payouts.  Money is integer cents.
--
-- An order is one checkout: written 'pending' (with its items and their
-- prices from models) before the charge, then 'fulfilled' or 'failed' in
-- one transaction after it.  Its idempotency key (the client's, per buyer)
-- makes a retried checkout answer from the order as it stands.  A pending
-- order's items are also rows of order_locks, so two checkouts of the same
-- model by one buyer cannot both be pending.

CREATE TABLE cart_items (
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    model_id BIGINT NOT NULL REFERENCES models(id) ON DELETE CASCADE,
    added_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, model_id)
);

CREATE TABLE orders (
    id {{PK}},
    buyer_id BIGINT NOT NULL REFERENCES users(id),
    idempotency_key TEXT,                  -- the client's Idempotency-Key, NULL when none was sent
    request_hash TEXT NOT NULL,            -- SHA-256 of what was asked: a key reused for another request is refused
    status TEXT NOT NULL DEFAULT 'pending', -- pending | fulfilled | failed | refunded
    provider TEXT NOT NULL,                -- test | stripe | paypal
    payment_method TEXT NOT NULL,          -- card | paypal
    payment_token TEXT,                    -- the card token or PayPal order id, kept while pending (reconciliation), cleared after
    provider_ref TEXT,                     -- the provider's id of the charge
    amount_cents BIGINT NOT NULL,
    fee_cents BIGINT NOT NULL,
    currency TEXT NOT NULL DEFAULT 'USD',
    error_code TEXT,
    error_detail TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX orders_idempotency_idx ON orders (buyer_id, idempotency_key);
CREATE INDEX orders_status_idx ON orders (status, created_at);
CREATE INDEX orders_buyer_idx ON orders (buyer_id, created_at);
CREATE INDEX orders_ref_idx ON orders (provider, provider_ref);

CREATE TABLE order_items (
    order_id BIGINT NOT NULL REFERENCES orders(id) ON DELETE CASCADE,
    model_id BIGINT NOT NULL REFERENCES models(id),
    creator_id BIGINT NOT NULL REFERENCES users(id),
    price_cents BIGINT NOT NULL,
    fee_cents BIGINT NOT NULL,
    PRIMARY KEY (order_id, model_id)
);
CREATE INDEX order_items_creator_idx ON order_items (creator_id);

CREATE TABLE order_locks (
    buyer_id BIGINT NOT NULL,
    model_id BIGINT NOT NULL,
    order_id BIGINT NOT NULL REFERENCES orders(id) ON DELETE CASCADE,
    PRIMARY KEY (buyer_id, model_id)
);

-- What a buyer owns.  One live purchase per buyer and model; a refunded one
-- stays for the books (refunded_at) and the model may be bought again.
CREATE TABLE purchases (
    id {{PK}},
    buyer_id BIGINT NOT NULL REFERENCES users(id),
    model_id BIGINT NOT NULL REFERENCES models(id),
    order_id BIGINT NOT NULL REFERENCES orders(id),
    creator_id BIGINT NOT NULL REFERENCES users(id),
    price_cents BIGINT NOT NULL,
    fee_cents BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    refunded_at BIGINT
);
CREATE UNIQUE INDEX purchases_live_idx ON purchases (buyer_id, model_id) WHERE refunded_at IS NULL;
CREATE INDEX purchases_model_idx ON purchases (model_id);
CREATE INDEX purchases_creator_idx ON purchases (creator_id, created_at);
CREATE INDEX purchases_order_idx ON purchases (order_id);

-- The creators' money, one row per movement: a sale (+ net of the fee), a
-- refund (- the same), a payout (- the amount paid out).  A balance is a
-- sum over it; nothing is ever updated in place.
CREATE TABLE earnings (
    id {{PK}},
    creator_id BIGINT NOT NULL REFERENCES users(id),
    kind TEXT NOT NULL,                    -- sale | refund | payout
    amount_cents BIGINT NOT NULL,
    purchase_id BIGINT REFERENCES purchases(id),
    payout_id BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX earnings_creator_idx ON earnings (creator_id, created_at);
-- a sale and its refund are booked once each
CREATE UNIQUE INDEX earnings_purchase_idx ON earnings (purchase_id, kind) WHERE purchase_id IS NOT NULL;

-- The built-in test processor's own books (payments.c): what it charged
-- for which key, so that a repeated key answers the first result, as
-- Stripe does.  Stands for the provider's side, not ours.
CREATE TABLE test_payments (
    idempotency_key TEXT PRIMARY KEY,
    ref TEXT NOT NULL,
    amount_cents BIGINT NOT NULL,
    currency TEXT NOT NULL,
    status TEXT NOT NULL,                  -- succeeded | declined
    message TEXT,
    refunded_cents BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);
