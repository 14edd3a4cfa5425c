-- Creator money (issue 10, point 6): where a creator is paid, and the
-- payouts they ask for.  Money is integer cents; a balance stays a sum over
-- earnings (0011), which gets one 'payout' row when a request is paid.
--
-- A payout method is one row per user and kind (paypal | bank), replaced
-- when set again.  It holds what an operator needs to send the money (the
-- PayPal address; the holder, IBAN or account number with its routing or
-- sort code, the country).  The API never answers the account number or
-- IBAN: answers are built from the masked columns (account_last4, and the
-- address masked in revenue.c), so a stolen session cannot read them back.
CREATE TABLE payout_methods (
    id {{PK}},
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,                    -- paypal | bank
    paypal_email TEXT,                     -- paypal
    account_holder TEXT,                   -- bank
    iban TEXT,                             -- bank: an IBAN, upper case, no spaces ...
    account_number TEXT,                   -- ... or an account number (digits)
    routing_number TEXT,                   -- with its routing number / sort code (digits)
    bic TEXT,                              -- optional SWIFT/BIC
    country TEXT,                          -- bank: ISO 3166 alpha-2
    account_last4 TEXT,                    -- bank: the last 4 characters of the IBAN or account number, for answers
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX payout_methods_user_kind_idx ON payout_methods (user_id, kind);

-- A creator's request to be paid.  requested -> paid (an admin approved it:
-- the 'payout' earning is written in the same transaction) or rejected (no
-- money moves).  'approved' is reserved for a payout sent through a
-- provider that confirms later; nothing sets it yet.  The method is
-- copied when the request is made, so a later change of method does not
-- redirect money already asked for: method_label is what answers show,
-- method_details (JSON) the full copy for the operator, never answered.
CREATE TABLE payout_requests (
    id {{PK}},
    creator_id BIGINT NOT NULL REFERENCES users(id),
    amount_cents BIGINT NOT NULL CHECK (amount_cents > 0),
    currency TEXT NOT NULL DEFAULT 'USD',
    status TEXT NOT NULL DEFAULT 'requested', -- requested | approved | paid | rejected
    method_kind TEXT NOT NULL,
    method_label TEXT NOT NULL,
    method_details TEXT NOT NULL,
    note TEXT,                             -- the creator's
    reason TEXT,                           -- the admin's, when rejected
    created_at BIGINT NOT NULL,
    decided_at BIGINT,
    decided_by BIGINT REFERENCES users(id)
);
-- At most one open request per creator: two requests at once cannot both
-- be written, whatever the handler checked before.
CREATE UNIQUE INDEX payout_requests_open_idx ON payout_requests (creator_id) WHERE status = 'requested';
CREATE INDEX payout_requests_creator_idx ON payout_requests (creator_id, created_at);
CREATE INDEX payout_requests_status_idx ON payout_requests (status, created_at);

-- A payout is booked once, as a sale and its refund are (0011).
CREATE UNIQUE INDEX earnings_payout_idx ON earnings (payout_id, kind) WHERE payout_id IS NOT NULL;
CREATE INDEX earnings_created_idx ON earnings (created_at);
CREATE INDEX purchases_refunded_idx ON purchases (refunded_at) WHERE refunded_at IS NOT NULL;
CREATE INDEX purchases_created_idx ON purchases (created_at);
CREATE INDEX orders_created_idx ON orders (created_at);

-- The built-in test processor's refunds by idempotency key, so that it
-- answers a repeated refund with the first success as payments.h promises
-- (and as Stripe and PayPal do): a refund whose answer was lost, or whose
-- books failed to update, can be asked again.  Only refunds made are kept.
CREATE TABLE test_refunds (
    idempotency_key TEXT PRIMARY KEY,
    ref TEXT NOT NULL,
    amount_cents BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
