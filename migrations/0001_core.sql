-- Accounts and categories: the tables the platform itself stands on.
-- Timestamps are BIGINT milliseconds since the epoch (UTC); money is cents.

CREATE TABLE users (
    id {{PK}},
    email TEXT NOT NULL,
    email_normalized TEXT NOT NULL UNIQUE,
    username TEXT NOT NULL,
    username_lower TEXT NOT NULL UNIQUE,
    password_hash TEXT,
    full_name TEXT,
    avatar_url TEXT,
    bio TEXT,
    user_type TEXT NOT NULL DEFAULT 'buyer',
    role TEXT NOT NULL DEFAULT 'user',
    is_verified {{BOOL}} NOT NULL DEFAULT FALSE,
    is_email_verified {{BOOL}} NOT NULL DEFAULT FALSE,
    is_banned {{BOOL}} NOT NULL DEFAULT FALSE,
    ban_reason TEXT,
    country TEXT,
    skills TEXT NOT NULL DEFAULT '[]',
    settings TEXT NOT NULL DEFAULT '{}',
    followers_count BIGINT NOT NULL DEFAULT 0,
    following_count BIGINT NOT NULL DEFAULT 0,
    models_count BIGINT NOT NULL DEFAULT 0,
    balance_cents BIGINT NOT NULL DEFAULT 0,
    -- access tokens issued before this instant (ms) are no longer accepted
    tokens_valid_after BIGINT NOT NULL DEFAULT 0,
    last_login_at BIGINT,
    deleted_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX users_created_idx ON users (created_at);

CREATE TABLE categories (
    id {{PK}},
    name TEXT NOT NULL,
    slug TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL DEFAULT '',
    icon TEXT,
    sort_order INTEGER NOT NULL DEFAULT 0,
    is_active {{BOOL}} NOT NULL DEFAULT TRUE,
    models_count BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX categories_name_idx ON categories (lower(name));
CREATE INDEX categories_order_idx ON categories (sort_order, name);
