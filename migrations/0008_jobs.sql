-- Durable background jobs (svc/jobs.h).
--
-- A row is claimed by one worker of one instance at a time: status becomes
-- 'running' with a lease (locked_until, ms) and a claim token (locked_by).
-- A worker that crashes leaves the row 'running'; once its lease expires
-- another worker claims it again.  A failure goes back to 'queued' with
-- run_at in the future (exponential backoff) until max_attempts, then
-- 'failed'.  payload and result are JSON text.
CREATE TABLE jobs (
    id {{PK}},
    kind TEXT NOT NULL,
    payload TEXT NOT NULL DEFAULT '{}',
    status TEXT NOT NULL DEFAULT 'queued',
    attempts INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL DEFAULT 5,
    run_at BIGINT NOT NULL,
    locked_until BIGINT,
    locked_by TEXT,
    result TEXT,
    error TEXT,
    owner_id BIGINT REFERENCES users(id) ON DELETE SET NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
-- The claim query: due queued jobs in run_at order, and running jobs whose
-- lease has expired.
CREATE INDEX jobs_due_idx ON jobs (status, run_at, id);
CREATE INDEX jobs_lease_idx ON jobs (status, locked_until);
CREATE INDEX jobs_owner_idx ON jobs (owner_id);
