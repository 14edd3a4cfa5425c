-- Ending every session of a user without comparing clocks (issue 15: clock
-- skew between instances).  An access token carries the user's
-- token_version ("tv") at issue; session_revoke_all() increments it, and a
-- token whose tv differs is refused.  tokens_valid_after (0001) compared
-- the token's issue time, set by the issuing instance's clock, with the
-- revoking instance's clock: an instance a few seconds behind issued
-- tokens that were refused until its clock caught up.  It still guards
-- tokens issued before this migration, which carry no tv.
ALTER TABLE users ADD COLUMN token_version BIGINT NOT NULL DEFAULT 0;
