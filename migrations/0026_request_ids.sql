-- Request ids joined across threads and instances (issue 15, operations).
-- A job or a mail keeps the X-Request-Id of the request that made it; the
-- worker that runs it (on any instance) logs its lines with that id, so
-- one grep over every instance's log follows a request to its end.  NULL
-- for work no request made (ticks, backfills, the CLI).
ALTER TABLE jobs ADD COLUMN request_id TEXT;
ALTER TABLE mail_outbox ADD COLUMN request_id TEXT;
