-- Direct messages (issue 12, point 3) and blocks between users.
--
-- Two people share one conversation whoever writes first: a conversation
-- is the ordered pair (user_low < user_high), and the unique index on the
-- pair makes two racing first messages land in the same row.  It keeps the
-- time and id of its last message, so the list sorts by newest activity
-- through an index per participant.
CREATE TABLE dm_conversations (
    id {{PK}},
    user_low BIGINT NOT NULL REFERENCES users(id),
    user_high BIGINT NOT NULL REFERENCES users(id),
    last_message_id BIGINT,
    last_message_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    CHECK (user_low < user_high)
);
CREATE UNIQUE INDEX dm_conversations_pair_idx ON dm_conversations (user_low, user_high);
CREATE INDEX dm_conversations_low_idx ON dm_conversations (user_low, last_message_at);
CREATE INDEX dm_conversations_high_idx ON dm_conversations (user_high, last_message_at);

-- One message; read_at is set when its recipient marks it (or a later one)
-- read.  History pages by id (keyset: ?before=<id>).
CREATE TABLE dm_messages (
    id {{PK}},
    conversation_id BIGINT NOT NULL REFERENCES dm_conversations(id) ON DELETE CASCADE,
    sender_id BIGINT NOT NULL REFERENCES users(id),
    recipient_id BIGINT NOT NULL REFERENCES users(id),
    content TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    read_at BIGINT
);
CREATE INDEX dm_messages_conversation_idx ON dm_messages (conversation_id, id);
-- Unread counts: only the unread rows are indexed.
CREATE INDEX dm_messages_unread_idx ON dm_messages (recipient_id, conversation_id, id) WHERE read_at IS NULL;

-- blocker_id has blocked blocked_id: neither can message the other.
CREATE TABLE user_blocks (
    blocker_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    blocked_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (blocker_id, blocked_id)
);
CREATE INDEX user_blocks_blocked_idx ON user_blocks (blocked_id);
