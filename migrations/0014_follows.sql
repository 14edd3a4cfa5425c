-- Follows and the notification list (issue 12, points 1 and 2).
--
-- follows: one row per (follower, followee); users.followers_count and
-- following_count move in the transaction that inserts or deletes a row
-- (src/api/social.c), so they stay exact.  Each list (a user's followers,
-- a user's followees) is read newest first from an index of its own, the
-- other user's id as the tie-breaker.
CREATE TABLE follows (
    follower_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    followee_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (follower_id, followee_id),
    CHECK (follower_id <> followee_id)
-- @sqlite
) WITHOUT ROWID;
-- @end
-- @pg
);
-- @end
CREATE INDEX follows_followee_idx ON follows (followee_id, created_at, follower_id);
CREATE INDEX follows_follower_idx ON follows (follower_id, created_at, followee_id);

-- A user's notifications newest first, read or not (GET /api/notifications):
-- notifications_user_idx (user_id, is_read, created_at) serves the unread
-- count and the unread filter; this one the whole list, in page order.
CREATE INDEX notifications_user_time_idx ON notifications (user_id, created_at, id);
