-- Abuse limits (issue 8).

-- Refresh reuse interval: when a token is rotated, its successor is kept
-- here encrypted under a key derived from the rotated token itself (and the
-- server secret), so that a second tab presenting the old token within
-- 10 seconds gets the same new session.  The database alone cannot open it.
ALTER TABLE refresh_tokens ADD COLUMN successor TEXT;

-- Wrong one-time codes per account and purpose in a fixed window (admin
-- codes: 5 per 15 minutes).  Kept apart from email_codes so that mailing a
-- new code does not reset the count.
CREATE TABLE otp_failures (
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    purpose TEXT NOT NULL,
    window_start BIGINT NOT NULL,
    failures INTEGER NOT NULL,
    PRIMARY KEY (user_id, purpose)
);
