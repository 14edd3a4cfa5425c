-- Support tickets (issue 12, point 5): a user's ticket, its conversation
-- with the staff, and the files attached to its messages.
--
-- status: active (waiting for the staff) | pending (the staff answered,
-- waiting for the user) | resolved.  A staff reply moves an active ticket
-- to pending, a user's message moves a pending or resolved one back to
-- active; an admin may set any of them (PUT .../status).
CREATE TABLE support_tickets (
    id {{PK}},
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    subject TEXT NOT NULL,
    category TEXT NOT NULL,                -- general | account | billing | technical | models | other
    priority TEXT NOT NULL,                -- low | normal | high | urgent
    status TEXT NOT NULL DEFAULT 'active', -- active | pending | resolved
    assigned_to BIGINT REFERENCES users(id) ON DELETE SET NULL,
    messages_count BIGINT NOT NULL DEFAULT 0,
    last_message_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    resolved_at BIGINT
);
CREATE INDEX support_tickets_user_idx ON support_tickets (user_id, last_message_at);
CREATE INDEX support_tickets_status_idx ON support_tickets (status, last_message_at);

-- via: chat (the conversation) | email (an admin's mail to the user,
-- kept so the conversation shows what was sent).
CREATE TABLE support_messages (
    id {{PK}},
    ticket_id BIGINT NOT NULL REFERENCES support_tickets(id) ON DELETE CASCADE,
    sender_id BIGINT REFERENCES users(id) ON DELETE SET NULL,
    is_staff {{BOOL}} NOT NULL DEFAULT FALSE,
    via TEXT NOT NULL DEFAULT 'chat',
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX support_messages_ticket_idx ON support_messages (ticket_id, id);

-- An attachment upload (kind 'attachment', its sender's) belongs to one
-- message; sweep.c keeps the uploads referenced here.
CREATE TABLE support_attachments (
    message_id BIGINT NOT NULL REFERENCES support_messages(id) ON DELETE CASCADE,
    upload_id BIGINT NOT NULL REFERENCES uploads(id) ON DELETE CASCADE,
    PRIMARY KEY (message_id, upload_id)
);
CREATE UNIQUE INDEX support_attachments_upload_idx ON support_attachments (upload_id);
