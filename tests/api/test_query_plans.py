"""Issue 15: no hot query reads a whole big table (docs/deployment.md,
"Queries at 10 million models").

The hot statements of the list pages, search, model detail, likes, the
leaderboard, top creators, platform stats, notifications, messages and the
dashboard are planned on both engines against a schema that `hwc3d migrate`
made and that holds enough rows (ANALYZEd) for the planner to choose its
real plans:

- SQLite: EXPLAIN QUERY PLAN may not SCAN models, model_likes, purchases,
  users (...) without an index, nor walk a whole index of one of them
  unless the statement reads it in order under a LIMIT;
- PostgreSQL: EXPLAIN (FORMAT JSON), with the planner's default settings,
  both the custom plan (the parameters' values) and the generic plan (what
  a prepared statement runs after five executions): no Seq Scan of those
  tables, and no index scan of one without an Index Cond unless the
  statement is an ordered walk under a LIMIT.

The statements are copies of the C code's SQL (the macros expanded); each
names fragments that must still be in its source file, so that a changed
statement fails here until its copy is updated too.
"""
import json
import os
import re
import sqlite3
import subprocess
import tempfile

import pytest

from conftest import PgDatabase, base_env, psql, run_binary

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SRC = os.path.join(ROOT, "src")

# Tables that grow with the catalogue and its traffic.
# (creator_totals is not one: a row per creator, whatever their models.)
BIG = {"models", "model_likes", "purchases", "users", "model_tags", "notifications", "model_daily",
       "dm_messages", "dm_conversations", "model_comments"}

PUBLIC = "m.status = 'approved' AND m.is_published = TRUE AND m.deleted_at IS NULL"
MODEL_FROM = " FROM models m JOIN users u ON u.id = m.creator_id LEFT JOIN categories c ON c.id = m.category_id"
MODEL_COLS = "m.id, m.title, m.price_cents, m.likes_count, c.id, c.name, u.id, u.username"
USER_COLS = "u.id, u.username, u.full_name, u.avatar_url"
RATING = "CASE WHEN m.rating_count > 0 THEN m.rating_sum * 1.0 / m.rating_count ELSE 0 END"
CREATOR_OK = " u.user_type = 'creator' AND u.deleted_at IS NULL AND u.is_banned = FALSE"
TOTALS_WHERE = " WHERE t.listed = TRUE AND {} AND $1 >= 0"
SORTS = {
    "newest": "m.created_at DESC, m.id DESC",
    "oldest": "m.created_at ASC, m.id ASC",
    "popular": "m.likes_count DESC, m.views_count DESC, m.id DESC",
    "price_low": "m.price_cents ASC, m.id DESC",
    "price_high": "m.price_cents DESC, m.id DESC",
    "downloads": "m.downloads_count DESC, m.id DESC",
    "rating": RATING + " DESC, m.id DESC",
}
MARKET = "api/marketplace.c"


def S(name, sql, params=(), src=None, walk=False, engines=("sqlite", "postgres"), uses=None, allow=()):
    """One statement: its SQL ($n parameters), their values, the fragments
    that must be in its C source ({file: [fragment, ...]}), whether it may
    walk an index from its start (walk: an ordered walk that a LIMIT stops,
    or an index that holds a small set: the featured models, the ranked
    creators), an index it must use ({engine: index}) and the big tables
    it may scan (a known risk, named in docs/deployment.md)."""
    return dict(name=name, sql=sql, params=list(params), src=src or {}, walk=walk, engines=engines, uses=uses or {},
                allow=set(allow))


def statements(ids):
    model, user, creator, cat = ids["model"], ids["user"], ids["creator"], ids["category"]
    out = []
    # ---- the marketplace list (marketplace.c): the window of each sort,
    # with and without a category, and a page past the window
    for sort, order in SORTS.items():
        out.append(S(f"list window {sort}", f"SELECT m.id FROM models m WHERE {PUBLIC} ORDER BY {order} LIMIT 5000",
                     src={MARKET: [order,
                                   '"%sSELECT m.id%s WHERE " MODEL_PUBLIC "%s ORDER BY %s LIMIT %d"']},
                     walk=True))
        out.append(S(f"list window {sort} in a category",
                     f"SELECT m.id FROM models m WHERE {PUBLIC} AND m.category_id = $1 ORDER BY {order} LIMIT 5000",
                     [cat], src={MARKET: [" AND m.category_id = $%d"]}, walk=True))
    out.append(S("list page past the window (PAGE_MAX_OFFSET deep)",
                 f"SELECT m.id FROM models m WHERE {PUBLIC} ORDER BY {SORTS['popular']} LIMIT $1 OFFSET $2",
                 [20, 10000], src={MARKET: ["ORDER BY %s LIMIT $%d OFFSET $%d", "p->offset > PAGE_MAX_OFFSET"],
                                   "api/paged.h": ["#define PAGE_MAX_OFFSET 10000"]}, walk=True))
    out.append(S("list total, no filter",
                 "SELECT (SELECT COALESCE(SUM(models_count), 0) FROM categories)"
                 f" + (SELECT COUNT(*) FROM models m WHERE m.category_id IS NULL AND {PUBLIC})",
                 src={MARKET: ['"SELECT (SELECT COALESCE(SUM(models_count), 0) FROM categories)"',
                               '" + (SELECT COUNT(*) FROM models m WHERE m.category_id IS NULL AND " MODEL_PUBLIC ")"']}))
    out.append(S("list total, a category", "SELECT models_count FROM categories WHERE id = $1", [cat],
                 src={MARKET: ['"SELECT models_count FROM categories WHERE id = $1"']}))
    out.append(S("list total, a category by slug", "SELECT models_count FROM categories WHERE slug = $1", ["cat-1"],
                 src={MARKET: ['"SELECT models_count FROM categories WHERE slug = $1"']}))
    out.append(S("list total, price filter (window full: counted)",
                 f"SELECT COUNT(*) FROM models m WHERE {PUBLIC} AND m.price_cents >= $1 AND m.price_cents <= $2",
                 [100, 120], src={MARKET: [" AND m.price_cents >= $%d", '"%sSELECT COUNT(*)%s WHERE " MODEL_PUBLIC "%s"']}))
    out.append(S("list of a creator", f"SELECT m.id FROM models m WHERE {PUBLIC} AND m.creator_id = $1"
                 f" ORDER BY {SORTS['newest']} LIMIT 5000", [creator], src={MARKET: [" AND m.creator_id = $%d"]}))
    out.append(S("list with a tag", f"SELECT m.id FROM models m WHERE {PUBLIC} AND m.id IN (SELECT model_id FROM model_tags"
                 f" WHERE tag IN ($1)) ORDER BY {SORTS['newest']} LIMIT 5000", ["tag7"],
                 src={MARKET: ['" AND m.id IN (SELECT model_id FROM model_tags WHERE tag IN ("']}, walk=True))
    # the page's rows, the caller's likes and purchases (models_common.c)
    out.append(S("page rows by id", f"SELECT {MODEL_COLS}{MODEL_FROM} WHERE {PUBLIC} AND m.id IN ($1, $2, $3)",
                 [model, model + 1, model + 2], src={"api/models_common.c": ['"SELECT " MODEL_COLS MODEL_FROM " WHERE " MODEL_PUBLIC " AND m.id"']},
                 engines=("sqlite",)))
    out.append(S("page rows by id", f"SELECT {MODEL_COLS}{MODEL_FROM} WHERE {PUBLIC} AND m.id = ANY(CAST($1 AS BIGINT[]))",
                 ["{%d,%d,%d}" % (model, model + 1, model + 2)], src={"api/models_common.c": ['" = ANY(CAST($%zu AS BIGINT[]))"']},
                 engines=("postgres",)))
    out.append(S("page likes of the caller", "SELECT model_id FROM model_likes WHERE user_id = $1 AND model_id IN ($2, $3)",
                 [user, model, model + 1], src={"api/models_common.c": ['"SELECT model_id FROM model_likes WHERE user_id = $1 AND model_id"']}))
    out.append(S("page purchases of the caller",
                 "SELECT model_id FROM purchases WHERE buyer_id = $1 AND refunded_at IS NULL AND model_id IN ($2, $3)",
                 [user, model, model + 1], src={"api/models_common.c": ['"SELECT model_id FROM purchases WHERE buyer_id = $1 AND refunded_at IS NULL AND model_id"']}))
    # ---- search (PostgreSQL: the GIN index; SQLite: the public FTS table)
    out.append(S("search window", f"SELECT m.id, COUNT(*) OVER () FROM models m WHERE {PUBLIC}"
                 " AND m.search @@ (CAST(CAST($1 AS TEXT) AS tsquery) || to_tsquery('simple', CAST($1 AS TEXT)))"
                 " ORDER BY m.created_at DESC, m.id DESC LIMIT 5000",
                 ["'knight123':*"], src={MARKET: ['" AND m.search @@ " PG_TSQUERY(1)',
                                                 "AS TEXT) AS tsquery) || to_tsquery('simple', CAST($",
                                                 "COUNT(*) OVER ()"]},
                 engines=("postgres",)))
    out.append(S("search window", "WITH f AS MATERIALIZED (SELECT rowid AS fts_id FROM models_pub_fts WHERE models_pub_fts MATCH $1)"
                 f" SELECT m.id, COUNT(*) OVER () FROM f JOIN models m INDEXED BY models_pub_id_idx ON m.id = f.fts_id WHERE {PUBLIC}"
                 " ORDER BY m.created_at DESC, m.id DESC LIMIT 5000", ['"knight123"*'],
                 src={MARKET: ['" FROM f JOIN models m INDEXED BY models_pub_id_idx ON m.id = f.fts_id"']}, engines=("sqlite",)))
    # ---- featured and related (marketplace.c simple_list)
    featured = f"{PUBLIC} AND m.is_featured = TRUE AND m.id <> $1"
    out.append(S("featured count", f"SELECT COUNT(*){MODEL_FROM} WHERE {featured}", [0], walk=True,
                 uses={"sqlite": "models_pub_featured_idx", "postgres": "models_pub_featured_idx"},
                 src={MARKET: ['"m.is_featured = TRUE AND m.id <> $1", "m.updated_at DESC, m.id DESC"']}))
    out.append(S("featured page", f"SELECT {MODEL_COLS}{MODEL_FROM} WHERE {featured} ORDER BY m.updated_at DESC, m.id DESC"
                 " LIMIT 20 OFFSET 0", [0], walk=True,
                 uses={"sqlite": "models_pub_featured_idx", "postgres": "models_pub_featured_idx"}))
    related = (f"{PUBLIC} AND m.id <> $1 AND m.id IN (SELECT id FROM (SELECT m.id FROM models m WHERE {PUBLIC}"
               " AND m.category_id = (SELECT category_id FROM models WHERE id = $1)"
               " ORDER BY m.likes_count DESC, m.views_count DESC, m.id DESC LIMIT 100) rc"
               " UNION SELECT model_id FROM (SELECT t2.model_id FROM model_tags t1 JOIN model_tags t2 ON t2.tag = t1.tag"
               " WHERE t1.model_id = $1 LIMIT 1000) rt)")
    related_src = {MARKET: ['" AND m.category_id = (SELECT category_id FROM models WHERE id = $1)"',
                            '" ORDER BY m.likes_count DESC, m.views_count DESC, m.id DESC LIMIT " RELATED_CATEGORY ") rc"',
                            '" UNION SELECT model_id FROM (SELECT t2.model_id FROM model_tags t1 JOIN model_tags t2 ON t2.tag = t1.tag"',
                            '#define RELATED_CATEGORY "100"', '#define RELATED_TAGGED "1000"']}
    out.append(S("related count", f"SELECT COUNT(*){MODEL_FROM} WHERE {related}", [model], src=related_src))
    out.append(S("related page", f"SELECT {MODEL_COLS}{MODEL_FROM} WHERE {related} ORDER BY m.likes_count DESC, m.id DESC"
                 " LIMIT 20 OFFSET 0", [model], src=related_src))
    # ---- model detail, like (models.c)
    # the anonymous lookup: ids padded to a power of two, the last repeated
    lookup_src = {"api/models.c": ['"SELECT " MODEL_COLS MODEL_FROM " WHERE " MODEL_PUBLIC " AND m.id IN ("',
                                   'sb_addf(&sql, "%s$%zu", i ? ", " : "", i + 1);']}
    out.append(S("model detail", f"SELECT {MODEL_COLS}{MODEL_FROM} WHERE {PUBLIC} AND m.id IN ($1)", [model],
                 src=lookup_src))
    out.append(S("model detail, a batch of 4", f"SELECT {MODEL_COLS}{MODEL_FROM} WHERE {PUBLIC} AND m.id IN ($1, $2, $3, $4)",
                 [model, model + 1, model + 2, model + 2], src=lookup_src))
    out.append(S("model detail, signed in", f"SELECT {MODEL_COLS}{MODEL_FROM} WHERE m.id = $1", [model],
                 src={"api/models.c": ['"SELECT " MODEL_COLS MODEL_FROM " WHERE m.id = $1"']}))
    out.append(S("like", "SELECT 1 FROM model_likes WHERE model_id = $1 AND user_id = $2", [model, user],
                 src={"api/models.c": ['"DELETE FROM model_likes WHERE model_id = $1 AND user_id = $2"']}))
    out.append(S("like count", "SELECT likes_count FROM models WHERE id = $1", [model],
                 src={"api/models.c": ['"SELECT likes_count FROM models WHERE id = $1"']}))
    # ---- leaderboard (leaderboard.c) and top creators, platform stats (stats.c)
    for metric, cond, value, order in (("sales", "t.sales > 0", "t.sales", "t.sales DESC, t.creator_id"),
                                       ("downloads", "t.downloads > 0", "t.downloads", "t.downloads DESC, t.creator_id"),
                                       ("rating", "t.rating_count > 0", "CAST(t.rating_sum AS DOUBLE PRECISION) / t.rating_count",
                                        "CAST(t.rating_sum AS DOUBLE PRECISION) / t.rating_count DESC, t.creator_id")):
        where = TOTALS_WHERE.format(cond)
        src = {"api/leaderboard.c": [f'TOTALS("{cond}")', f'"{order}"', '" WHERE t.listed = TRUE AND " cond " AND $1 >= 0"',
                                     '" FROM creator_totals t JOIN users u ON u.id = t.creator_id" TOTALS_WHERE(cond)',
                                     '"SELECT COUNT(*) FROM creator_totals t" TOTALS_WHERE(cond)']}
        out.append(S(f"leaderboard all_time {metric}", f"SELECT {USER_COLS}, {value}, u.models_count FROM creator_totals t"
                     f" JOIN users u ON u.id = t.creator_id{where} ORDER BY {order} LIMIT 100 OFFSET 0", [0], src=src,
                     walk=True, uses={"sqlite": f"creator_totals_{metric}_idx", "postgres": f"creator_totals_{metric}_idx"}))
        out.append(S(f"leaderboard all_time {metric} count", f"SELECT COUNT(*) FROM creator_totals t{where}", [0], src=src,
                     walk=True))
    out.append(S("leaderboard week sales", f"SELECT {USER_COLS}, s.value FROM users u JOIN (SELECT m.creator_id,"
                 " SUM(d.sales) AS value FROM model_daily d JOIN models m ON m.id = d.model_id"
                 f" WHERE {PUBLIC} AND d.day >= $1 AND d.day <= $1 + 30 GROUP BY m.creator_id HAVING SUM(d.sales) > 0)"
                 f" s ON s.creator_id = u.id WHERE{CREATOR_OK} ORDER BY s.value DESC, u.id LIMIT 100 OFFSET 0",
                 [ids["today"] - 6], allow={"models", "users"},  # the period's activity: see the doc
                 src={"api/leaderboard.c": ['" JOIN models m ON m.id = d.model_id WHERE " MODEL_PUBLIC " AND d.day >= $1 AND d.day <= $1 + 30"']}))
    score = "t.likes + 3 * t.downloads + 5 * t.sales"
    top_where = " WHERE t.listed = TRUE AND t.models > 0"
    stats_src = {"api/stats.c": ['"t.likes + 3 * t.downloads + 5 * t.sales"', '" WHERE t.listed = TRUE AND t.models > 0"',
                                 '" FROM creator_totals t JOIN users u ON u.id = t.creator_id" CREATOR_STATS_WHERE',
                                 '"SELECT COUNT(*) FROM creator_totals t" CREATOR_STATS_WHERE']}
    out.append(S("top creators", f"SELECT {USER_COLS}, t.models, {score} FROM creator_totals t JOIN users u ON u.id = t.creator_id"
                 f"{top_where} ORDER BY {score} DESC, u.followers_count DESC, u.id LIMIT 20 OFFSET 0", src=stats_src, walk=True,
                 uses={"postgres": "creator_totals_score_idx"}))  # SQLite sorts the listed creators
    out.append(S("top creators count", f"SELECT COUNT(*) FROM creator_totals t{top_where}", src=stats_src, walk=True))
    out.append(S("platform stats: public models",
                 "SELECT (SELECT COALESCE(SUM(models_count), 0) FROM categories)"
                 f" + (SELECT COUNT(*) FROM models m WHERE m.category_id IS NULL AND {PUBLIC})",
                 src={"api/stats.c": ['"SELECT (SELECT COALESCE(SUM(models_count), 0) FROM categories)"']}))
    out.append(S("platform stats: downloads and sales",
                 "SELECT (SELECT COALESCE(SUM(downloads), 0) FROM creator_totals), (SELECT COALESCE(SUM(sales), 0) FROM creator_totals)",
                 src={"api/stats.c": ['" (SELECT COALESCE(SUM(downloads), 0) FROM creator_totals),"']}, walk=True))
    # ---- the AI tagger's vocabulary (ai.c)
    out.append(S("tag vocabulary", "SELECT tag FROM tag_counts WHERE n > 0 ORDER BY n DESC, tag LIMIT $1", [500],
                 src={"api/ai.c": ['"SELECT tag FROM tag_counts WHERE n > 0 ORDER BY n DESC, tag LIMIT $1"']}, walk=True))
    # ---- notifications (notifications.c), messages (messages.c), dashboard (dashboard.c)
    out.append(S("notifications page", "SELECT n.id, n.title FROM notifications n WHERE n.user_id = $1"
                 " ORDER BY n.created_at DESC, n.id DESC LIMIT $2 OFFSET $3", [creator, 20, 0],
                 src={"api/notifications.c": ['" ORDER BY n.created_at DESC, n.id DESC LIMIT $2 OFFSET $3"']}))
    out.append(S("notifications unread", "SELECT COUNT(*) FROM notifications WHERE user_id = $1 AND is_read = FALSE", [creator],
                 src={"api/notifications.c": ['"SELECT COUNT(*) FROM notifications WHERE user_id = $1 AND is_read = FALSE"']}))
    out.append(S("conversations count", "SELECT COUNT(*) FROM dm_conversations WHERE user_low = $1 OR user_high = $1", [user],
                 src={"api/messages.c": ['"SELECT COUNT(*) FROM dm_conversations WHERE user_low = $1 OR user_high = $1"']}))
    out.append(S("messages unread", "SELECT COUNT(*) FROM dm_messages WHERE recipient_id = $1 AND read_at IS NULL", [user],
                 src={"api/messages.c": ['"SELECT COUNT(*) FROM dm_messages WHERE recipient_id = $1 AND read_at IS NULL"']}))
    out.append(S("dashboard", "SELECT COUNT(*), COALESCE(SUM(views), 0) FROM creator_daily WHERE creator_id = $1", [creator],
                 src={"api/dashboard.c": ['" FROM creator_daily WHERE creator_id = $1"']}))
    out.append(S("dashboard models count", "SELECT COUNT(*) FROM models WHERE creator_id = $1 AND deleted_at IS NULL", [creator],
                 src={"api/dashboard.c": ['" (SELECT COUNT(*) FROM models WHERE creator_id = $1 AND deleted_at IS NULL),"']}))
    return out


# ------------------------------------------------------------------ data

N_MODELS, N_USERS, N_CATS = 20000, 4000, 20
N_LIKES = 3 * N_MODELS

SEED = [
    # users: every 10th a creator
    "INSERT INTO users (email, email_normalized, username, username_lower, user_type, created_at, updated_at)"
    " SELECT 'p' || g || '@x.test', 'p' || g || '@x.test', 'p' || g, 'p' || g,"
    " CASE WHEN g % 10 = 0 THEN 'creator' ELSE 'buyer' END, 1600000000000 + g, 1600000000000 + g FROM {series(1, N_USERS)}",
    "INSERT INTO categories (name, slug, created_at, updated_at) SELECT 'Cat ' || g, 'cat-' || g, 0, 0 FROM {series(1, N_CATS)}",
    # models: 95% public; creators are the users whose id is a multiple of 10
    "INSERT INTO models (creator_id, title, description, price_cents, category_id, status, is_published, is_featured,"
    " likes_count, views_count, downloads_count, sales_count, rating_sum, rating_count, created_at, updated_at)"
    " SELECT {uid0} + 10 * (1 + g % ({N_USERS} / 10 - 1)), 'knight' || (g % 1000) || ' thing', 'words', (g * 37) % 5000,"
    " {cid0} + g % {N_CATS}, CASE WHEN g % 20 = 0 THEN 'pending' ELSE 'approved' END, TRUE, g % 500 = 0,"
    " (g * 7919) % 1000, (g * 104729) % 100000, (g * 31) % 3000, (g * 13) % 200, (g * 17) % 500, (g * 3) % 100,"
    " 1600000000000 + g * 60000, 1600000000000 + g * 60000 FROM {series(1, N_MODELS)}",
    "INSERT INTO model_tags (model_id, tag) SELECT id, 'tag' || (id % 300) FROM models",
    "INSERT INTO model_likes (model_id, user_id, created_at) SELECT {mid0} + (g * 7919) % {N_MODELS},"
    " {uid0} + 1 + g % {N_USERS}, g FROM {series(1, N_LIKES)} WHERE TRUE ON CONFLICT DO NOTHING",
    "INSERT INTO model_daily (model_id, day, sales, downloads) SELECT {mid0} + (g * 31) % {N_MODELS}, {today} - g % 365, 1, 2"
    " FROM {series(1, N_MODELS)} WHERE TRUE ON CONFLICT DO NOTHING",
    "INSERT INTO notifications (user_id, type, title, message, is_read, created_at)"
    " SELECT {uid0} + 1 + g % {N_USERS}, 'x', 't', 'm', g % 3 = 0, g FROM {series(1, N_MODELS)}",
    # an order per user (its id the user's), 40,000 purchases
    "INSERT INTO orders (id, buyer_id, request_hash, status, provider, payment_method, amount_cents, fee_cents,"
    " created_at, updated_at) SELECT id, id, 'h', 'fulfilled', 'test', 'card', 0, 0, 0, 0 FROM users",
    "INSERT INTO purchases (buyer_id, model_id, order_id, creator_id, price_cents, fee_cents, created_at)"
    " SELECT {uid0} + 1 + g % {N_USERS}, m.id, {uid0} + 1 + g % {N_USERS}, m.creator_id, 100, 10, g"
    " FROM {series(1, N_MODELS)} JOIN models m ON m.id = {mid0} + (g * 7) % {N_MODELS} WHERE TRUE ON CONFLICT DO NOTHING",
    # a conversation between neighbours, 10 messages in each
    "INSERT INTO dm_conversations (user_low, user_high, last_message_at, created_at)"
    " SELECT id, id + 1, 0, 0 FROM users WHERE id < {uid0} + {N_USERS}",
    "INSERT INTO dm_messages (conversation_id, sender_id, recipient_id, content, created_at)"
    " SELECT c.id, c.user_low, c.user_high, 'hi', 0 FROM dm_conversations c JOIN {series(1, 10)} ON TRUE",
]


# PostgreSQL: the models go in with their row triggers off, the counters
# they keep (migrations 0009 and 0027) filled after in one statement each:
# 40,000 updates of the same 20 category rows in one transaction each walk
# the row's growing chain of versions (minutes instead of a second).
PG_TRIGGERS_OFF = ["ALTER TABLE models DISABLE TRIGGER USER", "ALTER TABLE model_tags DISABLE TRIGGER USER"]
PG_TRIGGERS_ON = [
    "ALTER TABLE models ENABLE TRIGGER USER", "ALTER TABLE model_tags ENABLE TRIGGER USER",
    f"UPDATE users SET models_count = (SELECT COUNT(*) FROM models m WHERE m.creator_id = users.id AND {PUBLIC})",
    f"UPDATE categories SET models_count = (SELECT COUNT(*) FROM models m WHERE m.category_id = categories.id AND {PUBLIC})",
    "INSERT INTO creator_totals (creator_id, models, likes, downloads, sales, rating_sum, rating_count)"
    " SELECT creator_id, COUNT(*), SUM(likes_count), SUM(downloads_count), SUM(sales_count), SUM(rating_sum),"
    f" SUM(rating_count) FROM models m WHERE {PUBLIC} GROUP BY creator_id",
    "INSERT INTO tag_counts (tag, n) SELECT tag, COUNT(*) FROM model_tags GROUP BY tag",
]


def seed_sql(engine, ids):
    def series(a, b):
        if engine == "postgres":
            return f"generate_series(CAST({a} AS BIGINT), {b}) g"
        return f"(WITH RECURSIVE s(g) AS (SELECT {a} UNION ALL SELECT g + 1 FROM s WHERE g < {b}) SELECT g FROM s)"
    out = []
    for stmt in SEED:
        s = stmt
        for m in set(re.findall(r"\{series\((\w+), (\w+)\)\}", s)):
            a, b = (str(globals().get(x, x)) for x in m)
            s = s.replace("{series(%s, %s)}" % m, series(a, b))
        out.append(s.format(N_USERS=N_USERS, N_CATS=N_CATS, N_MODELS=N_MODELS, **ids))
    return out


# ------------------------------------------------------------------ engines

def pg_literal(v):
    if isinstance(v, int):
        return str(v)
    return "'" + str(v).replace("'", "''") + "'"


def with_literals(sql, params):
    return re.sub(r"\$(\d+)", lambda m: pg_literal(params[int(m.group(1)) - 1]), sql)


class Sqlite:
    name = "sqlite"

    def __init__(self, tmp):
        path = os.path.join(tmp, "plans.db")
        env = base_env({"DATABASE_URL": "sqlite:" + path, "DATA_DIR": tmp})
        p = run_binary(["migrate"], env, tmp)
        assert p.returncode == 0, p.stdout + p.stderr
        self.con = sqlite3.connect(path, isolation_level=None)
        # the FTS rank function the server registers (src/db/fts_tier.c)
        self.con.create_function("hwc_tier", 1, lambda _: 0)

    def run(self, sql):
        return self.con.execute(sql).fetchall()

    def seed(self, stmts):
        self.run("BEGIN")
        for s in stmts:
            self.run(s)
        self.run("COMMIT")
        self.run("ANALYZE")

    def plan(self, st):
        sql = re.sub(r"\$(\d+)", r"?\1", st["sql"])
        rows = self.con.execute("EXPLAIN QUERY PLAN " + sql, st["params"]).fetchall()
        return [r[3] for r in rows]

    def problems(self, st, plan):
        aliases = alias_map(st["sql"])
        out = []
        for d in plan:
            m = re.match(r"SCAN (\w+)( USING (COVERING )?INDEX (\w+))?", d)
            if not m:
                continue
            table = aliases.get(m.group(1), m.group(1))
            if table not in BIG or table in st["allow"]:
                continue
            if not m.group(2):
                out.append(f"full scan of {table}: {d}")
            elif not st["walk"]:
                out.append(f"whole index of {table} walked: {d}")
        if self.name in st["uses"] and not any(st["uses"][self.name] in d for d in plan):
            out.append(f"{st['uses'][self.name]} not used")
        return out

    def close(self):
        self.con.close()


class Postgres:
    name = "postgres"

    def __init__(self, tmp):
        self.db = PgDatabase()
        env = base_env({"DATABASE_URL": self.db.url, "DATA_DIR": tmp})
        p = run_binary(["migrate"], env, tmp)
        assert p.returncode == 0, p.stdout + p.stderr

    def run(self, sql):
        return psql(self.db.url, sql, timeout=120)

    def seed(self, stmts):
        self.run("BEGIN; " + "; ".join(stmts) + "; COMMIT")
        self.run("VACUUM ANALYZE")

    def plans(self, sts):
        """The custom and the generic plan of each statement, in one psql."""
        script = []
        for i, st in enumerate(sts):
            script.append(f"\\echo @@{i} custom")
            script.append("EXPLAIN (FORMAT JSON) " + with_literals(st["sql"], st["params"]) + ";")
            if st["params"]:
                script.append(f"PREPARE s{i} AS {st['sql']};")
                script.append("SET plan_cache_mode = force_generic_plan;")
                script.append(f"\\echo @@{i} generic")
                script.append(f"EXPLAIN (FORMAT JSON) EXECUTE s{i}({', '.join(pg_literal(v) for v in st['params'])});")
                script.append("RESET plan_cache_mode;")
        p = subprocess.run(["psql", self.db.url, "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1"], input="\n".join(script),
                           capture_output=True, text=True, timeout=120)
        assert p.returncode == 0, p.stderr
        out, cur, buf = {}, None, []
        for line in p.stdout.splitlines() + ["@@end"]:
            if line.startswith("@@"):
                if cur:
                    out[cur] = json.loads("\n".join(buf))[0]["Plan"]
                cur, buf = line[2:], []
                cur = None if cur == "end" else cur
            else:
                buf.append(line)
        return out

    def sizes(self):
        if not hasattr(self, "_sizes"):
            self._sizes = {r[0]: float(r[1]) for r in self.run(
                "SELECT relname, reltuples FROM pg_class WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace")}
        return self._sizes

    def problems(self, st, plan):
        out, used = [], set()
        sizes = self.sizes()

        def walk(node):
            rel, kind = node.get("Relation Name"), node["Node Type"]
            if node.get("Index Name"):
                used.add(node["Index Name"])
            if rel in BIG and rel not in st["allow"]:
                if kind == "Seq Scan":
                    out.append(f"Seq Scan on {rel}")
                elif st["walk"]:
                    pass  # under a LIMIT: its estimate is of the whole walk, the LIMIT stops it
                elif kind in ("Index Scan", "Index Only Scan") and "Index Cond" not in node:
                    out.append(f"{kind} of all {rel} ({node.get('Index Name')})")
                elif "Scan" in kind and node.get("Plan Rows", 0) * node.get("Actual Loops", 1) > 0.05 * sizes.get(rel, 1e18):
                    out.append(f"{kind} of {node['Plan Rows']} of the {sizes[rel]:.0f} rows of {rel}")
            for child in node.get("Plans", []):
                walk(child)
        walk(plan)
        if self.name in st["uses"] and st["uses"][self.name] not in used:
            out.append(f"{st['uses'][self.name]} not used")
        return out

    def close(self):
        self.db.drop()


def alias_map(sql):
    return {alias: table for table, alias in re.findall(r"(?:FROM|JOIN) (\w+) (?:INDEXED BY \w+ )?(?!ON\b|WHERE\b|JOIN\b|LEFT\b)(\w+)", sql)}


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def engine(request):
    tmp = tempfile.mkdtemp(prefix="hwc-plans-")
    e = Sqlite(tmp) if request.param == "sqlite" else Postgres(tmp)
    try:
        ids = {"uid0": 0, "cid0": 0, "mid0": 0}
        e.seed(seed_sql(e.name, {**ids, "today": 20400})[:2])
        ids["uid0"] = int(e.run("SELECT MIN(id) - 1 FROM users")[0][0])
        ids["cid0"] = int(e.run("SELECT MIN(id) FROM categories")[0][0])
        pg = e.name == "postgres"
        e.seed((PG_TRIGGERS_OFF if pg else []) + seed_sql(e.name, {**ids, "today": 20400})[2:3])
        ids["mid0"] = int(e.run("SELECT MIN(id) FROM models")[0][0])
        more = seed_sql(e.name, {**ids, "today": 20400})[3:]
        e.seed(more[:1] + (PG_TRIGGERS_ON if pg else []) + more[1:])
        e.ids = {"model": ids["mid0"] + 1, "user": ids["uid0"] + 7, "creator": ids["uid0"] + 20,
                 "category": ids["cid0"] + 3, "today": 20400}
        yield e
    finally:
        e.close()
        subprocess.run(["rm", "-rf", tmp])


def test_statements_are_still_in_the_source():
    """Each copied statement's fragments are still in its C file."""
    stale = []
    for st in statements({"model": 1, "user": 1, "creator": 1, "category": 1, "today": 1}):
        for path, frags in st["src"].items():
            text = open(os.path.join(SRC, path)).read()
            stale += [f"{st['name']}: {path}: {f!r}" for f in frags if f not in text]
    assert not stale, "the C code changed; update the copies in this test:\n" + "\n".join(stale)


def test_no_hot_statement_scans_a_big_table(engine):
    sts = [st for st in statements(engine.ids) if engine.name in st["engines"]]
    bad = []
    if engine.name == "sqlite":
        for st in sts:
            plan = engine.plan(st)
            bad += [f"{st['name']}: {p}\n    {plan}" for p in engine.problems(st, plan)]
    else:
        plans = engine.plans(sts)
        for i, st in enumerate(sts):
            for kind in ("custom", "generic"):
                plan = plans.get(f"{i} {kind}")
                if plan:
                    bad += [f"{st['name']} ({kind} plan): {p}" for p in engine.problems(st, plan)]
    assert not bad, "\n".join(bad)


def test_the_old_aggregates_would_be_caught(engine):
    """The checks can fail: the statements this issue replaced are flagged."""
    old = [
        S("leaderboard before", f"SELECT m.creator_id, SUM(m.sales_count) FROM models m WHERE {PUBLIC}"
          " GROUP BY m.creator_id HAVING SUM(m.sales_count) > 0"),
        S("vocabulary before", "SELECT tag FROM model_tags GROUP BY tag ORDER BY COUNT(*) DESC, tag LIMIT 500"),
        S("top creators before", "SELECT m.creator_id, COUNT(*), SUM(m.likes_count) FROM models m"
          f" WHERE {PUBLIC} GROUP BY m.creator_id"),
    ]
    if engine.name == "postgres":
        # SQLite: seeks (of the public index by its equal status, is_published
        # and deleted_at; of a category; of a tag) that read a large share of
        # the table, which only the estimates of PostgreSQL tell from a seek
        old.append(S("total before", f"SELECT COUNT(*) FROM models m WHERE {PUBLIC}"))
        old.append(S("related before", f"SELECT COUNT(*){MODEL_FROM} WHERE {PUBLIC} AND m.id <> $1 AND (m.category_id ="
                     " (SELECT category_id FROM models WHERE id = $1) OR m.id IN (SELECT t2.model_id FROM model_tags t1"
                     " JOIN model_tags t2 ON t2.tag = t1.tag WHERE t1.model_id = $1))", [engine.ids["model"]]))
    if engine.name == "sqlite":
        flagged = [st["name"] for st in old if engine.problems(st, engine.plan(st))]
    else:
        plans = engine.plans(old)
        flagged = [st["name"] for i, st in enumerate(old) if engine.problems(st, plans[f"{i} custom"])]
    assert flagged == [st["name"] for st in old]


# ------------------------------------------------------------------ deep pages

def test_a_page_deeper_than_page_max_offset_is_422(server):
    """A list longer than PAGE_MAX_OFFSET (10,000) rows: its pages start at
    most 10,000 rows deep (OFFSET reads every row before the page); past
    the end is still an empty page."""
    from test_models import make_creator
    u = make_creator(server)
    n = 10050
    # resolved tickets of a user of its own: in no other test's list or count
    server.sql("INSERT INTO support_tickets (user_id, subject, category, priority, status, last_message_at, created_at,"
               f" updated_at, resolved_at) SELECT {u.id}, 'old', 'general', 'normal', 'resolved', g, g, g, g"
               f" FROM {series(server, n)}")
    assert_window(server, u, "/api/support/tickets", n)


def test_a_list_counted_by_hand_is_bounded_too(server):
    """The lists that count and page without paged_reply (notifications,
    messages, purchases, follows) keep the same window; notifications is
    checked here."""
    from test_models import make_buyer
    u = make_buyer(server)
    n = 10050
    server.sql("INSERT INTO notifications (user_id, type, title, message, action_url, is_read, created_at)"
               f" SELECT {u.id}, 'system', 'old', 'old', NULL, {'TRUE' if server.engine == 'postgres' else 1}, g"
               f" FROM {series(server, n)}")
    assert_window(server, u, "/api/notifications", n, items="notifications")


def series(server, n):
    return (f"generate_series(1, {n}) g" if server.engine == "postgres" else
            f"(WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM s WHERE g < {n}) SELECT g FROM s)")


def assert_window(server, u, path, n, items="items"):
    from conftest import assert_error
    r = server.get(path, headers=u.h, params={"page": 101, "limit": 100})  # rows 10,001-10,050
    assert r.status_code == 200, r.text
    assert r.json()["total"] == n and len(r.json()[items]) == 50
    assert_error(server.get(path, headers=u.h, params={"page": 1002, "limit": 10}), 422, "VALIDATION_ERROR", "page")
    past = server.get(path, headers=u.h, params={"page": 102, "limit": 100})
    assert past.status_code == 200 and past.json()[items] == [] and past.json()["total"] == n
