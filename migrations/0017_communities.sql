-- Communities (issue 12): groups with members, posts, reactions, comments,
-- shares, reports and a chat; plus the global hub chat.
--
-- Counters (members_count, posts_count, and each post's reactions_count,
-- comments_count, shares_count) are kept exact by the handlers, in the
-- same transaction as the row that changes them.

CREATE TABLE communities (
    id {{PK}},
    name TEXT NOT NULL,
    name_lower TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    category TEXT NOT NULL DEFAULT 'general',
    rules TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'pending',   -- pending | active | rejected
    owner_id BIGINT NOT NULL REFERENCES users(id),
    members_count BIGINT NOT NULL DEFAULT 0,
    posts_count BIGINT NOT NULL DEFAULT 0,
    approved_at BIGINT,
    approved_by BIGINT REFERENCES users(id),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX communities_name_idx ON communities (name_lower);
CREATE INDEX communities_list_idx ON communities (status, members_count, id);
CREATE INDEX communities_category_idx ON communities (status, category, members_count, id);
CREATE INDEX communities_owner_idx ON communities (owner_id, status);

CREATE TABLE community_members (
    community_id BIGINT NOT NULL REFERENCES communities(id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role TEXT NOT NULL DEFAULT 'member',      -- owner | member
    joined_at BIGINT NOT NULL,
    PRIMARY KEY (community_id, user_id)
);
CREATE INDEX community_members_list_idx ON community_members (community_id, joined_at, user_id);
CREATE INDEX community_members_user_idx ON community_members (user_id, joined_at);

-- kind: text | image | model.  A removed post keeps its row (reports refer
-- to it) with removed_at set; it is in no list and answers 404.
CREATE TABLE community_posts (
    id {{PK}},
    community_id BIGINT NOT NULL REFERENCES communities(id) ON DELETE CASCADE,
    author_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    kind TEXT NOT NULL DEFAULT 'text',
    content TEXT NOT NULL DEFAULT '',
    model_id BIGINT REFERENCES models(id) ON DELETE SET NULL,
    has_media {{BOOL}} NOT NULL DEFAULT FALSE,
    reactions_count BIGINT NOT NULL DEFAULT 0,
    comments_count BIGINT NOT NULL DEFAULT 0,
    shares_count BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    removed_at BIGINT
);
CREATE INDEX community_posts_recent_idx ON community_posts (community_id, removed_at, created_at, id);
CREATE INDEX community_posts_popular_idx ON community_posts (community_id, removed_at, reactions_count, id);
CREATE INDEX community_posts_media_idx ON community_posts (community_id, has_media, removed_at, created_at);
CREATE INDEX community_posts_author_idx ON community_posts (author_id, created_at);

-- The images of a post: uploads of its author (kind image).  The foreign
-- key keeps the upload from the expired-upload sweep.
CREATE TABLE community_post_images (
    post_id BIGINT NOT NULL REFERENCES community_posts(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    upload_id BIGINT NOT NULL REFERENCES uploads(id),
    PRIMARY KEY (post_id, position)
);
CREATE INDEX community_post_images_upload_idx ON community_post_images (upload_id);

-- One reaction per user per kind.
CREATE TABLE community_post_reactions (
    post_id BIGINT NOT NULL REFERENCES community_posts(id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (post_id, user_id, kind)
);

-- One share counted per user and post.
CREATE TABLE community_post_shares (
    post_id BIGINT NOT NULL REFERENCES community_posts(id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (post_id, user_id)
);

CREATE TABLE community_comments (
    id {{PK}},
    post_id BIGINT NOT NULL REFERENCES community_posts(id) ON DELETE CASCADE,
    author_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    content TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX community_comments_post_idx ON community_comments (post_id, created_at, id);

-- Chat lines: community_id NULL is the global hub chat.
CREATE TABLE community_messages (
    id {{PK}},
    community_id BIGINT REFERENCES communities(id) ON DELETE CASCADE,
    author_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    content TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX community_messages_idx ON community_messages (community_id, id);

-- Reports of posts; one per reporter and post.
CREATE TABLE community_reports (
    id {{PK}},
    post_id BIGINT NOT NULL REFERENCES community_posts(id) ON DELETE CASCADE,
    reporter_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    reason TEXT NOT NULL,                     -- spam | harassment | inappropriate | copyright | other
    details TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'open',      -- open | resolved
    action TEXT,                              -- dismiss | remove | ban, once resolved
    note TEXT,
    resolved_by BIGINT REFERENCES users(id),
    resolved_at BIGINT,
    created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX community_reports_once_idx ON community_reports (post_id, reporter_id);
CREATE INDEX community_reports_status_idx ON community_reports (status, created_at, id);
