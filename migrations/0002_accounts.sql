-- Sessions, one-time codes, password resets, OAuth links and the mail outbox.

-- A refresh token is stored only as its SHA-256.  Tokens of one login form a
-- family: rotation adds a member and marks the old one replaced; presenting
-- a replaced (or revoked) member revokes the whole family.  A family ends
-- 7 days after its login whatever the rotations (family_expires_at).
CREATE TABLE refresh_tokens (
    id {{PK}},
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    family TEXT NOT NULL,
    scope TEXT NOT NULL DEFAULT 'user', -- 'admin' when the login passed the admin OTP
    token_hash TEXT NOT NULL UNIQUE,
    expires_at BIGINT NOT NULL,
    family_expires_at BIGINT NOT NULL,
    replaced_at BIGINT,
    revoked_at BIGINT,
    ip TEXT,
    user_agent TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family);
CREATE INDEX refresh_tokens_user_idx ON refresh_tokens (user_id);

-- Six-digit codes mailed for email verification and the admin second factor:
-- HMAC-SHA256 under the server secret, one live code per user and purpose.
CREATE TABLE email_codes (
    id {{PK}},
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    purpose TEXT NOT NULL,
    code_hash TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    expires_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (user_id, purpose)
);

CREATE TABLE password_resets (
    id {{PK}},
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    for_admin {{BOOL}} NOT NULL DEFAULT FALSE,
    expires_at BIGINT NOT NULL,
    used_at BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX password_resets_user_idx ON password_resets (user_id);

CREATE TABLE oauth_accounts (
    id {{PK}},
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    provider TEXT NOT NULL,
    provider_user_id TEXT NOT NULL,
    email TEXT,
    created_at BIGINT NOT NULL,
    UNIQUE (provider, provider_user_id)
);
CREATE INDEX oauth_accounts_user_idx ON oauth_accounts (user_id);

CREATE TABLE oauth_states (
    state TEXT PRIMARY KEY,
    provider TEXT NOT NULL,
    redirect_uri TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);

-- Durable outbox drained by the mail worker, with retries and backoff.
CREATE TABLE mail_outbox (
    id {{PK}},
    kind TEXT NOT NULL,
    to_addr TEXT NOT NULL,
    subject TEXT NOT NULL,
    body_text TEXT NOT NULL,
    body_html TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'queued', -- queued | sending | sent | failed
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    locked_until BIGINT,
    last_error TEXT,
    sent_at BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX mail_outbox_due_idx ON mail_outbox (status, next_attempt_at);
