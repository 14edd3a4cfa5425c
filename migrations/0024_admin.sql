-- The admin console (issue 14, points 3-7): the audit log, platform
-- settings kept in the database (every instance reads them), mail
-- templates, admin mailings, and what a ban hides.

-- Who did what: admin actions and the user actions that matter.  The
-- actor's username is copied so that a row still reads after the account
-- is deleted.
CREATE TABLE audit_log (
    id {{PK}},
    actor_id BIGINT REFERENCES users(id) ON DELETE SET NULL,
    actor_username TEXT,
    action TEXT NOT NULL,
    target_type TEXT,
    target_id BIGINT,
    detail TEXT NOT NULL DEFAULT '{}',
    ip TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX audit_log_created_idx ON audit_log (created_at);
CREATE INDEX audit_log_action_idx ON audit_log (action, created_at);
CREATE INDEX audit_log_actor_idx ON audit_log (actor_id, created_at);

-- One row per setting an admin changed; an absent key keeps its default
-- (the environment's, see src/svc/settings.c).
CREATE TABLE platform_settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    updated_by BIGINT REFERENCES users(id) ON DELETE SET NULL,
    updated_at BIGINT NOT NULL
);

-- Mail templates: subject and body with {{variable}} placeholders.  The
-- system ones (is_system) are the mails the platform sends; they can be
-- edited but not deleted.
CREATE TABLE email_templates (
    id {{PK}},
    key TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    is_system {{BOOL}} NOT NULL DEFAULT FALSE,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

INSERT INTO email_templates (key, name, subject, body, is_system, created_at, updated_at) VALUES
('verify_email', 'Email verification code', 'Your HWC3D verification code',
 'Hi {{name}},

Your code to verify your email address:

{{code}}

It expires in 10 minutes. If you did not sign up, ignore this message.

— HWC3D', TRUE, 0, 0),
('admin_otp', 'Admin sign-in code', 'Your HWC3D admin sign-in code',
 'Hi {{name}},

Your code to finish signing in to the admin console:

{{code}}

It expires in 10 minutes. If this was not you, change your password now.

— HWC3D', TRUE, 0, 0),
('password_reset', 'Password reset link', 'Reset your HWC3D password',
 'Hi {{name}},

Open this link to choose a new password:

{{link}}

The link works once and expires in 30 minutes. If you did not ask for it, ignore this message.

— HWC3D', TRUE, 0, 0),
('admin_password_reset', 'Admin password reset link', 'Reset your HWC3D password',
 'Hi {{name}},

Open this link to choose a new password:

{{link}}

The link works once and expires in 30 minutes. If you did not ask for it, ignore this message.

— HWC3D', TRUE, 0, 0),
('welcome', 'Welcome', 'Welcome to HWC3D',
 'Hi {{name}},

Your email address is verified and your account is ready.

{{link}}

Browse the marketplace, follow creators, or upload your first model.

— HWC3D', TRUE, 0, 0),
('model_approved', 'Model approved', 'Your model is live',
 'Hi {{name}},

''{{title}}'' was approved and is now on the marketplace.

{{link}}

— HWC3D', TRUE, 0, 0),
('model_rejected', 'Model not approved', 'Your model was not approved',
 'Hi {{name}},

''{{title}}'' was not approved: {{reason}}

{{link}}

— HWC3D', TRUE, 0, 0),
('purchase_receipt', 'Purchase receipt', 'Your HWC3D purchase {{transaction}}',
 'Hi {{name}},

Thank you for your purchase on HWC3D.

Transaction: {{transaction}}

{{items}}

Total: {{total}}

Your purchases: {{link}}

— HWC3D', TRUE, 0, 0);

-- Mailings an admin sent (POST /api/admin/emails/send); the job
-- email_campaign expands the recipients into the outbox in batches.
CREATE TABLE email_campaigns (
    id {{PK}},
    segment TEXT NOT NULL,
    user_id BIGINT REFERENCES users(id) ON DELETE SET NULL,
    template_key TEXT,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'queued',
    recipients_count BIGINT NOT NULL DEFAULT 0,
    last_user_id BIGINT NOT NULL DEFAULT 0,
    created_by BIGINT REFERENCES users(id) ON DELETE SET NULL,
    created_at BIGINT NOT NULL,
    finished_at BIGINT
);
CREATE INDEX email_campaigns_created_idx ON email_campaigns (created_at);

ALTER TABLE mail_outbox ADD COLUMN campaign_id BIGINT;
CREATE INDEX mail_outbox_created_idx ON mail_outbox (created_at);
CREATE INDEX mail_outbox_campaign_idx ON mail_outbox (campaign_id);

-- A ban unpublishes the user's published models and marks them, so that
-- an unban publishes exactly those again.
ALTER TABLE users ADD COLUMN banned_at BIGINT;
ALTER TABLE models ADD COLUMN ban_hidden {{BOOL}} NOT NULL DEFAULT FALSE;
CREATE INDEX users_banned_idx ON users (is_banned);
