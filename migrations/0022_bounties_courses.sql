-- Bounties and the learning center (issue 14, points 1 and 2).
--
-- A bounty is a commission: its owner posts it (open), creators apply,
-- the owner accepts one application (in_progress, the others declined),
-- the accepted creator delivers (bounty_deliveries), the owner asks for
-- changes or completes it (completed).  An open bounty may be cancelled.
-- No money moves: the agreed price is recorded (agreed_price_cents).
-- applications_count is kept exact by the handlers, in the transaction of
-- the application row.

CREATE TABLE bounties (
    id {{PK}},
    owner_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    search_text TEXT NOT NULL,           -- title and description, lowercased (utf8_lower)
    category TEXT NOT NULL DEFAULT 'other',
    budget_cents BIGINT NOT NULL,
    currency TEXT NOT NULL DEFAULT 'USD',
    deadline BIGINT NOT NULL,
    status TEXT NOT NULL DEFAULT 'open',   -- open | in_progress | completed | cancelled
    is_featured {{BOOL}} NOT NULL DEFAULT FALSE,
    applications_count BIGINT NOT NULL DEFAULT 0,
    accepted_application_id BIGINT,
    agreed_price_cents BIGINT,
    accepted_at BIGINT,
    completed_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX bounties_list_idx ON bounties (status, created_at, id);
CREATE INDEX bounties_recent_idx ON bounties (is_featured, created_at, id);
CREATE INDEX bounties_deadline_idx ON bounties (deadline, id);
CREATE INDEX bounties_budget_idx ON bounties (budget_cents, id);
CREATE INDEX bounties_category_idx ON bounties (status, category, created_at, id);
CREATE INDEX bounties_owner_idx ON bounties (owner_id, created_at);

-- Reference images: image uploads of the owner.  The foreign key keeps
-- the upload from the expired-upload sweep (sweep.c).
CREATE TABLE bounty_images (
    bounty_id BIGINT NOT NULL REFERENCES bounties(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    upload_id BIGINT NOT NULL REFERENCES uploads(id),
    PRIMARY KEY (bounty_id, position)
);
CREATE INDEX bounty_images_upload_idx ON bounty_images (upload_id);

-- One application per creator and bounty.
CREATE TABLE bounty_applications (
    id {{PK}},
    bounty_id BIGINT NOT NULL REFERENCES bounties(id) ON DELETE CASCADE,
    creator_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    message TEXT NOT NULL,
    proposed_price_cents BIGINT,
    proposed_days INTEGER,
    status TEXT NOT NULL DEFAULT 'pending', -- pending | accepted | declined
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX bounty_applications_once_idx ON bounty_applications (bounty_id, creator_id);
CREATE INDEX bounty_applications_creator_idx ON bounty_applications (creator_id, created_at);

-- Portfolio: models of the applicant shown with the application.
CREATE TABLE bounty_application_models (
    application_id BIGINT NOT NULL REFERENCES bounty_applications(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    model_id BIGINT NOT NULL REFERENCES models(id) ON DELETE CASCADE,
    PRIMARY KEY (application_id, position)
);

-- What the accepted creator hands in: a message and one of their models
-- or one of their uploads.  status: submitted | changes_requested | accepted.
CREATE TABLE bounty_deliveries (
    id {{PK}},
    bounty_id BIGINT NOT NULL REFERENCES bounties(id) ON DELETE CASCADE,
    creator_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    message TEXT NOT NULL,
    model_id BIGINT REFERENCES models(id) ON DELETE SET NULL,
    upload_id BIGINT REFERENCES uploads(id),
    status TEXT NOT NULL DEFAULT 'submitted',
    response TEXT,
    created_at BIGINT NOT NULL,
    responded_at BIGINT
);
CREATE INDEX bounty_deliveries_bounty_idx ON bounty_deliveries (bounty_id, created_at, id);
CREATE INDEX bounty_deliveries_upload_idx ON bounty_deliveries (upload_id);

-- Courses: drafts (is_published FALSE) exist for admins only.  A
-- course's lesson count and duration are its lessons' (summed when read);
-- enrolled_count is kept by the enroll handler, in the enrollment's
-- transaction.
CREATE TABLE courses (
    id {{PK}},
    title TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    difficulty TEXT NOT NULL DEFAULT 'beginner', -- beginner | intermediate | advanced
    category TEXT NOT NULL DEFAULT 'modeling',
    thumbnail_url TEXT,
    instructor TEXT NOT NULL DEFAULT '',
    is_published {{BOOL}} NOT NULL DEFAULT FALSE,
    enrolled_count BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX courses_list_idx ON courses (is_published, created_at, id);
CREATE INDEX courses_filter_idx ON courses (is_published, difficulty, category, created_at);

CREATE TABLE course_lessons (
    id {{PK}},
    course_id BIGINT NOT NULL REFERENCES courses(id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    content TEXT NOT NULL DEFAULT '',
    video_url TEXT,
    duration_minutes INTEGER NOT NULL DEFAULT 0,
    position INTEGER NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX course_lessons_course_idx ON course_lessons (course_id, position, id);

CREATE TABLE course_enrollments (
    course_id BIGINT NOT NULL REFERENCES courses(id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    enrolled_at BIGINT NOT NULL,
    last_lesson_id BIGINT REFERENCES course_lessons(id) ON DELETE SET NULL,
    last_activity_at BIGINT NOT NULL,
    PRIMARY KEY (course_id, user_id)
);
CREATE INDEX course_enrollments_user_idx ON course_enrollments (user_id, last_activity_at);

CREATE TABLE lesson_completions (
    lesson_id BIGINT NOT NULL REFERENCES course_lessons(id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    course_id BIGINT NOT NULL REFERENCES courses(id) ON DELETE CASCADE,
    completed_at BIGINT NOT NULL,
    PRIMARY KEY (lesson_id, user_id)
);
CREATE INDEX lesson_completions_user_idx ON lesson_completions (user_id, course_id);
