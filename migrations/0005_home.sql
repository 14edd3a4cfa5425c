-- The homepage: testimonials, the slider, and newsletter subscribers (double
-- opt-in: a subscriber counts once confirmed_at is set).

CREATE TABLE testimonials (
    id {{PK}},
    user_id BIGINT REFERENCES users(id) ON DELETE SET NULL,
    author_name TEXT NOT NULL,
    author_title TEXT,
    avatar_url TEXT,
    content TEXT NOT NULL,
    rating INTEGER NOT NULL DEFAULT 5 CHECK (rating BETWEEN 1 AND 5),
    is_approved {{BOOL}} NOT NULL DEFAULT FALSE,
    sort_order INTEGER NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX testimonials_public_idx ON testimonials (is_approved, sort_order, created_at);

CREATE TABLE slider_slides (
    id {{PK}},
    title TEXT NOT NULL,
    subtitle TEXT,
    image_url TEXT NOT NULL,
    link_url TEXT,
    button_text TEXT,
    sort_order INTEGER NOT NULL DEFAULT 0,
    is_active {{BOOL}} NOT NULL DEFAULT TRUE,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX slider_slides_active_idx ON slider_slides (is_active, sort_order);

-- token_hash is the SHA-256 of the pending confirmation token (NULL once
-- confirmed); token_sent_at dates it (links expire, resends are spaced).
CREATE TABLE newsletter_subscribers (
    id {{PK}},
    email_normalized TEXT NOT NULL UNIQUE,
    token_hash TEXT,
    token_sent_at BIGINT,
    confirmed_at BIGINT,
    unsubscribed_at BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX newsletter_token_idx ON newsletter_subscribers (token_hash);

-- The leaderboard sums model_daily by day across a creator's models.
CREATE INDEX model_daily_day_idx ON model_daily (day);
