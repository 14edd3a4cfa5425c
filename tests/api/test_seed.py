"""`hwc3d seed-demo` fills an empty database with a living marketplace whose
model files the program makes itself; run again, it adds nothing."""
import json
import os
import sqlite3
import subprocess

from conftest import BINARY, base_env, run_binary


def test_seed_demo_models_have_real_files_with_the_stated_geometry(tmp_path):
    env = base_env({"DATA_DIR": str(tmp_path / "data")})
    p = run_binary(["seed-demo"], env, str(tmp_path))
    assert p.returncode == 0, p.stderr
    db = sqlite3.connect(str(tmp_path / "data" / "hwc3d.db"))
    rows = db.execute("SELECT m.id, m.status, m.is_published, m.poly_count, m.vertex_count, u.storage_key, u.sha256"
                      " FROM models m JOIN uploads u ON u.id = m.upload_id").fetchall()
    assert len(rows) >= 20
    assert all(r[1] == "approved" and r[2] == 1 for r in rows)
    assert db.execute("SELECT COUNT(*) FROM models WHERE is_featured = 1").fetchone()[0] >= 3
    assert db.execute("SELECT COUNT(DISTINCT category_id) FROM models").fetchone()[0] >= 5
    assert db.execute("SELECT COUNT(*) FROM model_tags").fetchone()[0] >= len(rows)
    assert db.execute("SELECT COUNT(*) FROM users WHERE user_type = 'creator'").fetchone()[0] >= 4
    likes = db.execute("SELECT SUM(likes_count) FROM models").fetchone()[0]
    assert likes == db.execute("SELECT COUNT(*) FROM model_likes").fetchone()[0] and likes > 0
    # models_count: public models only (issue 9), kept by triggers while seeding
    assert db.execute("SELECT COUNT(*) FROM users u WHERE models_count != (SELECT COUNT(*) FROM models m"
                      " WHERE m.creator_id = u.id AND m.status = 'approved' AND m.is_published = 1"
                      " AND m.deleted_at IS NULL)").fetchone()[0] == 0
    # every shape kind: the analysis of the GLB finds the stated vertices and triangles
    for _id, _s, _p, polys, verts, key, sha in rows:
        path = tmp_path / "data" / "files" / key
        data = path.read_bytes()
        import hashlib
        assert hashlib.sha256(data).hexdigest() == sha
        with open(path, "rb") as f:
            out = subprocess.run([BINARY, "analyze-model", "GLB"], stdin=f, capture_output=True, timeout=60,
                                 env={"ASAN_OPTIONS": "detect_leaks=0"})
        rep = json.loads(out.stdout)
        assert (rep["poly_count"], rep["vertex_count"]) == (polys, verts), key
    # the homepage has content: approved testimonials, slides with real images
    assert db.execute("SELECT COUNT(*) FROM testimonials WHERE is_approved = 1").fetchone()[0] >= 3
    slides = db.execute("SELECT image_url FROM slider_slides WHERE is_active = 1").fetchall()
    assert len(slides) >= 3
    for (url,) in slides:
        key = url.split("/files/", 1)[1]
        assert (tmp_path / "data" / "files" / key).read_bytes().startswith(b"\x89PNG")
    # every demo model has a thumbnail: a PNG picture of its shape
    thumbs = db.execute("SELECT thumbnail_url FROM models").fetchall()
    assert all(t for (t,) in thumbs)
    for (url,) in thumbs:
        data = (tmp_path / "data" / "files" / url.split("/files/", 1)[1]).read_bytes()
        assert data.startswith(b"\x89PNG") and len(data) > 2000
    # a history for the dashboards, booked through the rollups: every view and like
    # on a day, a few real sales settled like a checkout's
    assert db.execute("SELECT SUM(views) FROM model_daily").fetchone()[0] == \
        db.execute("SELECT SUM(views_count) FROM models").fetchone()[0] > 0
    assert db.execute("SELECT COUNT(DISTINCT day) FROM model_daily WHERE views > 0").fetchone()[0] >= 30
    assert db.execute("SELECT SUM(likes) FROM model_daily").fetchone()[0] == likes
    sales = db.execute("SELECT COUNT(*) FROM purchases").fetchone()[0]
    assert sales >= 3
    assert db.execute("SELECT COUNT(*) FROM orders WHERE status = 'fulfilled'").fetchone()[0] == sales
    assert db.execute("SELECT SUM(sales) FROM creator_daily").fetchone()[0] == sales
    # a second run adds nothing
    before = db.execute("SELECT COUNT(*) FROM models").fetchone()[0]
    assert run_binary(["seed-demo"], env, str(tmp_path)).returncode == 0
    assert db.execute("SELECT COUNT(*) FROM models").fetchone()[0] == before
    assert len(os.listdir(tmp_path / "data" / "files" / "models")) == before


def test_seed_demo_likes_brings_the_likes_up_and_the_counts_agree(tmp_path):
    """--scale and --likes (the benchmark data): the likes reach the asked
    number, once a (model, user) pair, and every count read from them is
    recounted from the rows; a second run with the same number adds none."""
    env = base_env({"DATA_DIR": str(tmp_path / "data")})
    args = ["seed-demo", "--scale", "200", "--likes", "3000"]
    for _ in range(2):
        p = run_binary(args, env, str(tmp_path))
        assert p.returncode == 0, p.stderr
        db = sqlite3.connect(str(tmp_path / "data" / "hwc3d.db"))
        assert db.execute("SELECT COUNT(*) FROM model_likes").fetchone()[0] == 3000
        assert db.execute("SELECT COUNT(*) FROM (SELECT DISTINCT model_id, user_id FROM model_likes)").fetchone()[0] == 3000
        assert db.execute("SELECT COUNT(*) FROM models m WHERE likes_count !="
                          " (SELECT COUNT(*) FROM model_likes l WHERE l.model_id = m.id)").fetchone()[0] == 0
        assert db.execute("SELECT SUM(likes) FROM model_daily").fetchone()[0] == 3000
        db.close()
    p = run_binary(["seed-demo", "--likes", "-5"], env, str(tmp_path))
    assert p.returncode != 0
