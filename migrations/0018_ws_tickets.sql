-- WebSocket tickets (issue 12, point 6): POST /api/ws/ticket hands out a
-- single-use credential that lives 30 seconds, for clients that would
-- rather not put their access token in a URL.  Kept in the database so
-- that a ticket made on one instance opens a socket on any other.  Only
-- the SHA-256 of the ticket is stored; using it deletes the row.
CREATE TABLE ws_tickets (
    token_hash TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    is_admin {{BOOL}} NOT NULL DEFAULT FALSE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX ws_tickets_expires ON ws_tickets (expires_at);
