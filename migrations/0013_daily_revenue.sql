-- The creator dashboard (issue 10, point 8): money in the daily rollups, a
-- rollup per creator and day, and each model's sums over the dashboard's
-- trailing windows, so that no dashboard request reads events, or a year
-- of days of every model.  Every row here is written in the transaction of
-- the event it counts (src/svc/rollup.c); days are UTC days since the
-- epoch (epoch_day); money is integer cents.
--
-- What a day's numbers mean (the same in model_daily and creator_daily):
--   views, likes, downloads  events of that day, as counted on models
--                   (a like is counted the day it is given; an unlike does
--                   not take it back, so likes is "likes received")
--   sales           purchases made that day (never decremented)
--   refunds         purchases refunded that day: a refund is booked on the
--                   day of the refund, not on the day of its sale, so past
--                   days never change; net sales = sales - refunds
--   gross_cents     what buyers paid that day, minus the prices refunded
--                   that day (may be negative)
--   revenue_cents   the creator's share: gross minus the platform fee, as
--                   the earnings ledger books it (price - fee for a sale,
--                   fee - price for its refund); may be negative
--
-- SQLite: model_daily becomes a WITHOUT ROWID table, its rows stored in
-- (model_id, day) order, so a model's days are read as one range of the
-- table; with a rowid, every day of a year's series was a lookup of its
-- own (2 us a row: 7 ms for the 10 models an analytics answer may show).
-- @sqlite
CREATE TABLE model_daily_new (
    model_id BIGINT NOT NULL REFERENCES models(id) ON DELETE CASCADE,
    day BIGINT NOT NULL,
    views BIGINT NOT NULL DEFAULT 0,
    likes BIGINT NOT NULL DEFAULT 0,
    sales BIGINT NOT NULL DEFAULT 0,
    downloads BIGINT NOT NULL DEFAULT 0,
    refunds BIGINT NOT NULL DEFAULT 0,
    gross_cents BIGINT NOT NULL DEFAULT 0,
    revenue_cents BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (model_id, day)
) WITHOUT ROWID;
INSERT INTO model_daily_new (model_id, day, views, likes, sales, downloads)
SELECT model_id, day, views, likes, sales, downloads FROM model_daily;
DROP TABLE model_daily;
ALTER TABLE model_daily_new RENAME TO model_daily;
-- @end
-- @pg
ALTER TABLE model_daily ADD COLUMN refunds BIGINT NOT NULL DEFAULT 0;
ALTER TABLE model_daily ADD COLUMN gross_cents BIGINT NOT NULL DEFAULT 0;
ALTER TABLE model_daily ADD COLUMN revenue_cents BIGINT NOT NULL DEFAULT 0;
-- @end

-- The money of the sales and refunds made before this migration (the
-- sales themselves are in model_daily already).
INSERT INTO model_daily (model_id, day, gross_cents, revenue_cents)
SELECT model_id, created_at / 86400000, SUM(price_cents), SUM(price_cents - fee_cents)
    FROM purchases WHERE TRUE GROUP BY model_id, created_at / 86400000
ON CONFLICT (model_id, day) DO UPDATE SET gross_cents = model_daily.gross_cents + excluded.gross_cents,
    revenue_cents = model_daily.revenue_cents + excluded.revenue_cents;
INSERT INTO model_daily (model_id, day, refunds, gross_cents, revenue_cents)
SELECT model_id, refunded_at / 86400000, COUNT(*), -SUM(price_cents), SUM(fee_cents - price_cents)
    FROM purchases WHERE refunded_at IS NOT NULL GROUP BY model_id, refunded_at / 86400000
ON CONFLICT (model_id, day) DO UPDATE SET refunds = model_daily.refunds + excluded.refunds,
    gross_cents = model_daily.gross_cents + excluded.gross_cents,
    revenue_cents = model_daily.revenue_cents + excluded.revenue_cents;

-- Per creator and day: the sum of model_daily over the creator's models
-- (the creator when the event happened), plus followers: follows minus
-- unfollows of that day (rollup_follow; written by the follow handler).
-- The dashboard's totals and series read only these rows: at most one per
-- day of the creator's life, whatever the number of models.
CREATE TABLE creator_daily (
    creator_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    day BIGINT NOT NULL,
    views BIGINT NOT NULL DEFAULT 0,
    likes BIGINT NOT NULL DEFAULT 0,
    downloads BIGINT NOT NULL DEFAULT 0,
    sales BIGINT NOT NULL DEFAULT 0,
    refunds BIGINT NOT NULL DEFAULT 0,
    gross_cents BIGINT NOT NULL DEFAULT 0,
    revenue_cents BIGINT NOT NULL DEFAULT 0,
    followers BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (creator_id, day)
-- @sqlite
) WITHOUT ROWID;
-- @end
-- @pg
);
-- @end
INSERT INTO creator_daily (creator_id, day, views, likes, downloads, sales, refunds, gross_cents, revenue_cents)
SELECT m.creator_id, d.day, SUM(d.views), SUM(d.likes), SUM(d.downloads), SUM(d.sales), SUM(d.refunds),
       SUM(d.gross_cents), SUM(d.revenue_cents)
    FROM model_daily d JOIN models m ON m.id = d.model_id WHERE TRUE GROUP BY m.creator_id, d.day;

-- Each model's views and revenue over the trailing windows of the
-- dashboard (7, 30, 90 and 365 days, today included), for ranking a
-- creator's models without summing their days.
--
-- A row is exact as of as_of_day: each column holds the sum of the
-- model's daily values over the days from as_of_day - N + 1 on (N the
-- window's days), every event since included, since an event adds to
-- every window.  The window's value on a later day T is the column minus
-- the days that have left it, model_daily's days as_of_day - N + 1 ..
-- T - N: the readers subtract them when as_of_day < T, and the advancer
-- (rollup_advance) subtracts them once, after midnight, and sets
-- as_of_day = T, so that reads need no correction for the rest of the day.
CREATE TABLE model_window (
    model_id BIGINT PRIMARY KEY REFERENCES models(id) ON DELETE CASCADE,
    creator_id BIGINT NOT NULL,
    as_of_day BIGINT NOT NULL,
    views_7d BIGINT NOT NULL DEFAULT 0,
    views_30d BIGINT NOT NULL DEFAULT 0,
    views_90d BIGINT NOT NULL DEFAULT 0,
    views_1y BIGINT NOT NULL DEFAULT 0,
    revenue_7d BIGINT NOT NULL DEFAULT 0,
    revenue_30d BIGINT NOT NULL DEFAULT 0,
    revenue_90d BIGINT NOT NULL DEFAULT 0,
    revenue_1y BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX model_window_creator_idx ON model_window (creator_id);
CREATE INDEX model_window_stale_idx ON model_window (as_of_day, model_id);

CREATE TEMPORARY TABLE rollup_today (day BIGINT NOT NULL);
-- @sqlite
INSERT INTO rollup_today (day) VALUES (CAST(strftime('%s', 'now') AS INTEGER) / 86400);
-- @end
-- @pg
INSERT INTO rollup_today (day) VALUES (CAST(EXTRACT(EPOCH FROM now()) AS BIGINT) / 86400);
-- @end
INSERT INTO model_window (model_id, creator_id, as_of_day, views_7d, views_30d, views_90d, views_1y,
                          revenue_7d, revenue_30d, revenue_90d, revenue_1y)
SELECT d.model_id, m.creator_id, t.day,
       SUM(CASE WHEN d.day > t.day - 7 THEN d.views ELSE 0 END),
       SUM(CASE WHEN d.day > t.day - 30 THEN d.views ELSE 0 END),
       SUM(CASE WHEN d.day > t.day - 90 THEN d.views ELSE 0 END),
       SUM(d.views),
       SUM(CASE WHEN d.day > t.day - 7 THEN d.revenue_cents ELSE 0 END),
       SUM(CASE WHEN d.day > t.day - 30 THEN d.revenue_cents ELSE 0 END),
       SUM(CASE WHEN d.day > t.day - 90 THEN d.revenue_cents ELSE 0 END),
       SUM(d.revenue_cents)
    FROM model_daily d JOIN models m ON m.id = d.model_id CROSS JOIN rollup_today t
    WHERE d.day > t.day - 365 GROUP BY d.model_id, m.creator_id, t.day;
DROP TABLE rollup_today;

-- The dashboard's model counts: a creator's live models, and those made
-- in a period, from the index alone (the WHERE matches the dashboard's
-- query word for word, or the planners would not use a partial index).
CREATE INDEX models_creator_live_idx ON models (creator_id, created_at) WHERE deleted_at IS NULL;
