"""The safety scan (issue 13, point 4): POST /api/models/safety-scan on an
upload, a hostile file for each check, duplicates by geometry fingerprint
(a re-exported, translated and scaled copy names its original and its
creator; an unrelated model does not), ownership, the gate of POST
/api/models (unsafe uploads cannot be published, with or without an
earlier scan) and the scan beside approve/reject in moderation."""
import io
import os
import shutil
import subprocess
import sys
import zipfile

import pytest
import requests

from conftest import REPO, assert_error, finish_server, start_server, uniq
from test_models import CUBE_OBJ, approve_model, default_category, make_creator, upload_model

sys.path.insert(0, os.path.join(REPO, "tests", "media"))
import shapes  # noqa: E402
from make_models import cube_glb, external_image_gltf, huge_buffer_glb  # noqa: E402

EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"


def scan(server, h, upload_id):
    return server.post("/api/models/safety-scan", json={"upload_id": upload_id}, headers=h, timeout=60)


def scanned(server, h, upload_id):
    r = scan(server, h, upload_id)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["upload_id"] == upload_id and body["verdict"] in ("safe", "warning", "unsafe")
    for f in body["findings"]:
        assert set(f) == {"check", "severity", "message"}
        assert f["severity"] in ("info", "low", "medium", "high", "critical")
    return body


def checks(body, severity=None):
    return {f["check"] for f in body["findings"] if severity is None or f["severity"] == severity}


def up(server, who, data, name):
    r = requests.post(server.url + "/api/upload/model", headers=who.h,
                      files={"file": (name, data, "application/octet-stream")}, timeout=120)
    return r


def publish(server, who, upload_id):
    return server.post("/api/models", json={"title": uniq("Scanned"), "price": 5, "upload_id": upload_id,
                                           "category_id": default_category(server)}, headers=who.h, timeout=60)


# ---------------------------------------------------------------- a clean model

def test_clean_model_is_safe_and_malware_check_skipped_without_database(server):
    c = make_creator(server)
    u = upload_model(server, c.h, shapes.to_glb(*shapes.torus(20, 10)), "ring.glb")
    body = scanned(server, c.h, u["upload_id"])
    assert body["verdict"] == "safe", body
    mal = [f for f in body["findings"] if f["check"] == "malware"]
    assert mal and mal[0]["severity"] == "info" and "skipped" in mal[0]["message"]
    assert body["duplicate_of"] is None
    assert "polyglot" not in checks(body) and "format" not in checks(body)


def test_validation_and_ownership(server):
    a, b = make_creator(server), make_creator(server)
    u = upload_model(server, a.h)
    assert_error(scan(server, b.h, u["upload_id"]), 404, "NOT_FOUND")  # someone else's
    assert_error(scan(server, a.h, 99999999), 404, "NOT_FOUND")
    assert_error(server.post("/api/models/safety-scan", json={}, headers=a.h), 422, "VALIDATION_ERROR", "upload_id")
    assert_error(server.post("/api/models/safety-scan", json={"upload_id": "x"}, headers=a.h), 422,
                 "VALIDATION_ERROR", "upload_id")
    assert_error(server.post("/api/models/safety-scan", data="{", headers={**a.h, "Content-Type": "application/json"}),
                 400, "VALIDATION_ERROR")
    assert_error(server.post("/api/models/safety-scan", json={"upload_id": u["upload_id"]}), 401, "UNAUTHORIZED")
    # an admin may scan anyone's upload; a 12-triangle cube is not compared
    # with every other cube on the platform
    r = scan(server, server.admin_headers(), u["upload_id"])
    assert r.status_code == 200
    dup = [f for f in r.json()["findings"] if f["check"] == "duplicate"]
    assert dup[0]["severity"] == "info" and "too simple" in dup[0]["message"], r.json()
    assert r.json()["duplicate_of"] is None
    # an image upload is not a model: not found
    from test_models import png_bytes
    r = requests.post(server.url + "/api/upload/image", headers=a.h,
                      files={"file": ("p.png", png_bytes(), "application/octet-stream")}, timeout=30)
    assert r.status_code == 201
    assert_error(scan(server, a.h, r.json()["upload_id"]), 404, "NOT_FOUND")


# ---------------------------------------------------------------- hostile files

def test_appended_zip_is_a_polyglot_and_cannot_be_published(server):
    c = make_creator(server)
    z = io.BytesIO()
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("payload.exe", b"MZ" + b"\0" * 100)
    # Appended after the GLB, the upload's sniffing already refuses it ...
    assert_error(up(server, c, cube_glb() + z.getvalue(), "cube.glb"), 415, "INVALID_FILE_TYPE")
    # ... so it hides at the end of the binary chunk, past what the buffer declares.
    r = up(server, c, shapes.glb_with_tail(z.getvalue()), "cube.glb")
    assert r.status_code == 201, r.text
    uid = r.json()["upload_id"]
    body = scanned(server, c.h, uid)
    assert body["verdict"] == "unsafe" and "polyglot" in checks(body, "critical"), body
    assert any("ZIP" in f["message"] for f in body["findings"])
    p = publish(server, c, uid)
    assert_error(p, 422, "VALIDATION_ERROR", "upload_id")
    assert "safety scan" in p.json()["detail"]
    assert "ZIP" in p.json()["field_errors"]["upload_id"][0]


def test_unscanned_unsafe_upload_is_scanned_at_publish(server):
    c = make_creator(server)
    r = up(server, c, CUBE_OBJ + b"\n# <html><script>alert(1)</script></html>\n", "cube.obj")
    assert r.status_code == 201, r.text
    uid = r.json()["upload_id"]
    p = publish(server, c, uid)  # no scan before: the publish runs it
    assert_error(p, 422, "VALIDATION_ERROR", "upload_id")
    assert "HTML" in str(p.json()["field_errors"])
    assert server.scalar(f"SELECT verdict FROM upload_scans WHERE upload_id = {uid}") == "unsafe"
    assert server.scalar(f"SELECT COUNT(*) FROM models WHERE upload_id = {uid}") == "0"


def test_safe_upload_publishes_after_its_scan(server):
    c = make_creator(server)
    u = upload_model(server, c.h, shapes.to_glb(*shapes.uv_sphere(6, 9)), "ball.glb")
    assert scanned(server, c.h, u["upload_id"])["verdict"] in ("safe", "warning")
    p = publish(server, c, u["upload_id"])
    assert p.status_code == 201, p.text
    assert server.scalar(f"SELECT COUNT(*) FROM model_fingerprints WHERE model_id = {p.json()['id']}") == "1"


def test_nan_coordinates(server):
    c = make_creator(server)
    r = up(server, c, shapes.nan_glb(), "nan.glb")
    assert r.status_code == 201, r.text
    body = scanned(server, c.h, r.json()["upload_id"])
    geo = [f for f in body["findings"] if f["check"] == "geometry"]
    assert geo and geo[0]["severity"] == "high" and "NaN" in geo[0]["message"], body
    assert body["verdict"] == "warning"


def test_wrong_magic_is_refused_and_a_tampered_file_is_caught(server):
    c = make_creator(server)
    # The upload itself refuses bytes that are not what the name says.
    assert_error(up(server, c, CUBE_OBJ, "cube.glb"), 415, "INVALID_FILE_TYPE")
    # A stored file changed behind the server's back (local storage).
    u = upload_model(server, c.h, cube_glb(), "cube.glb")
    key = server.scalar(f"SELECT storage_key FROM uploads WHERE id = {u['upload_id']}")
    path = os.path.join(server.data_dir, "files", key)
    if not os.path.exists(path):
        pytest.skip("not local storage")
    with open(path, "wb") as f:
        f.write(b"\x7fELF\x02\x01\x01" + b"\0" * 200)
    body = scanned(server, c.h, u["upload_id"])
    assert body["verdict"] == "unsafe"
    fmt = [f for f in body["findings"] if f["check"] == "format"]
    assert fmt and fmt[0]["severity"] == "critical", body
    assert "polyglot" in checks(body, "critical")  # the ELF header


@pytest.mark.parametrize("uris", [("http://example.invalid/wood.png",), ("file:///etc/passwd",),
                                  ("../../etc/passwd",)])
def test_gltf_external_uris_never_become_an_upload(server, uris):
    """The analysis refuses them at upload (422, no row): nothing to scan or
    publish.  The scan's own gltf_uri check is unit-tested
    (tests/unit/test_safety.c) on the same documents."""
    c = make_creator(server)
    r = up(server, c, external_image_gltf(uris), "ext.gltf")
    assert_error(r, 422, "VALIDATION_ERROR", "file")


def test_buffer_beyond_the_file_never_becomes_an_upload(server):
    c = make_creator(server)
    assert_error(up(server, c, huge_buffer_glb(), "huge.glb"), 422, "VALIDATION_ERROR", "file")


@pytest.fixture(scope="session")
def python_blend(tmp_path_factory):
    blender = shutil.which("blender")
    if not blender:
        pytest.skip("blender is not installed")
    out = tmp_path_factory.mktemp("blend-py") / "scripted.blend"
    script = ("import bpy\n"
              "t = bpy.data.texts.new('autorun.py')\n"
              "t.write('import os\\nos.system(\"touch /tmp/pwned\")\\n')\n"
              "t.use_module = True\n"
              f"bpy.ops.wm.save_as_mainfile(filepath={str(out)!r})\n")
    subprocess.run([blender, "-b", "--factory-startup", "--python-expr", script], check=True,
                   capture_output=True, timeout=180)
    return out.read_bytes()


def test_blend_with_a_python_text_block_is_unsafe(server, python_blend):
    c = make_creator(server)
    r = up(server, c, python_blend, "scripted.blend")
    if r.status_code == 503:
        pytest.skip("the Blender jail is not available here: " + r.text)
    assert r.status_code == 201, r.text
    body = scanned(server, c.h, r.json()["upload_id"])
    bs = [f for f in body["findings"] if f["check"] == "blend_script"]
    assert bs and bs[0]["severity"] == "critical" and "autorun.py" in bs[0]["message"], body
    assert body["verdict"] == "unsafe"


# ---------------------------------------------------------------- duplicates

def test_reexported_translated_scaled_copy_names_the_original(server):
    a, b = make_creator(server), make_creator(server)
    pos, tris = shapes.uv_sphere(17, 23)
    orig = upload_model(server, a.h, shapes.to_glb(pos, tris), "planet.glb")
    p = publish(server, a, orig["upload_id"])
    assert p.status_code == 201, p.text
    original = p.json()
    # b re-exports it as OBJ, moved and 3.7 times bigger
    copy = upload_model(server, b.h, shapes.to_obj(shapes.transformed(pos, 3.7, (250.0, -40.0, 12.5)), tris), "mine.obj")
    body = scanned(server, b.h, copy["upload_id"])
    d = body["duplicate_of"]
    assert d and d["model_id"] == original["id"] and d["title"] == original["title"], body
    assert d["creator"] == {"id": a.id, "username": a.username}
    assert d["similarity"] >= 0.95
    dup = [f for f in body["findings"] if f["check"] == "duplicate"]
    assert dup[0]["severity"] == "high" and a.username in dup[0]["message"]
    assert body["verdict"] == "warning"
    # an unrelated model (a torus of a near triangle count) is not a duplicate
    other = upload_model(server, b.h, shapes.to_glb(*shapes.torus(26, 15)), "ring.glb")
    body = scanned(server, b.h, other["upload_id"])
    assert body["duplicate_of"] is None, body
    # moderation shows the scan and the likely original beside approve/reject
    m = publish(server, b, copy["upload_id"])
    assert m.status_code == 201, m.text
    r = server.get(f"/api/admin/models/{m.json()['id']}", headers=server.admin_headers())
    assert r.status_code == 200
    s = r.json()["safety_scan"]
    assert s["verdict"] == "warning" and s["duplicate_of"]["model_id"] == original["id"]
    r = server.get("/api/admin/models", params={"status": "pending", "search": m.json()["title"]},
                   headers=server.admin_headers())
    assert r.status_code == 200
    assert r.json()["items"][0]["safety_scan"]["duplicate_of"]["creator"]["username"] == a.username
    approve_model(server, m.json()["id"])  # a warning does not block moderation


# ---------------------------------------------------------------- ClamAV

@pytest.fixture(scope="module")
def clam_server(server, tmp_path_factory):
    d = tmp_path_factory.mktemp("clamdb")
    (d / "eicar-test.ndb").write_text("HWC3D.Test.EICAR:0:*:" + EICAR.hex() + "\n")
    s = start_server(server.engine, env={"CLAMAV_DB_DIR": str(d)}, label="clam")
    yield s
    finish_server(s)


def test_eicar_through_a_custom_signature(clam_server):
    s = clam_server
    c = make_creator(s)
    u = upload_model(s, c.h, CUBE_OBJ + b"# " + EICAR + b"\n", "cube.obj")
    body = scanned(s, c.h, u["upload_id"])
    mal = [f for f in body["findings"] if f["check"] == "malware"]
    assert mal and mal[0]["severity"] == "critical" and "HWC3D.Test.EICAR" in mal[0]["message"], body
    assert body["verdict"] == "unsafe"
    assert_error(publish(s, c, u["upload_id"]), 422, "VALIDATION_ERROR", "upload_id")
    clean = upload_model(s, c.h, CUBE_OBJ, "cube.obj")
    body = scanned(s, c.h, clean["upload_id"])
    mal = [f for f in body["findings"] if f["check"] == "malware"]
    assert mal[0]["severity"] == "info" and "no known malware" in mal[0]["message"]


# ---------------------------------------------------------------- backfill

def test_fingerprint_backfill_cli(server):
    from conftest import run_binary
    c = make_creator(server)
    ids = []
    for rings in (7, 8):
        u = upload_model(server, c.h, shapes.to_glb(*shapes.uv_sphere(rings, 11)), "old.glb")
        p = publish(server, c, u["upload_id"])
        assert p.status_code == 201, p.text
        ids.append(p.json()["id"])
    # as if made before fingerprints: one keeps its analysis' fingerprint, the
    # other's analysis predates them (the file is analysed again)
    server.sql(f"DELETE FROM model_fingerprints WHERE model_id IN ({ids[0]}, {ids[1]})")
    server.sql("UPDATE uploads SET analysis = '{\"poly_count\": 1}' WHERE id = "
               f"(SELECT upload_id FROM models WHERE id = {ids[1]})")
    p = run_binary(["fingerprint-backfill"], server.env, server.tmp, timeout=300)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "fingerprinted" in p.stdout
    rows = server.sql(f"SELECT model_id, fp_key FROM model_fingerprints WHERE model_id IN ({ids[0]}, {ids[1]})")
    assert sorted(int(r[0]) for r in rows) == sorted(ids)
    assert run_binary(["fingerprint-backfill", "--limit", "x"], server.env, server.tmp).returncode == 2


def test_a_rescan_that_turns_unsafe_blocks_publishing_again(server):
    c = make_creator(server)
    u = upload_model(server, c.h, shapes.to_glb(*shapes.torus(9, 7)), "ring.glb")
    p = publish(server, c, u["upload_id"])
    assert p.status_code == 201, p.text
    mid = p.json()["id"]
    key = server.scalar(f"SELECT storage_key FROM uploads WHERE id = {u['upload_id']}")
    path = os.path.join(server.data_dir, "files", key)
    if not os.path.exists(path):
        pytest.skip("not local storage")
    with open(path, "ab") as f:  # e.g. a signature update finds something
        f.write(b"<script>alert(1)</script>")
    assert scanned(server, c.h, u["upload_id"])["verdict"] == "unsafe"
    r = server.post(f"/api/models/{mid}/toggle-publish", headers=c.h)
    assert r.status_code == 200 and r.json()["is_published"] is False  # unpublishing is always allowed
    assert_error(server.post(f"/api/models/{mid}/toggle-publish", headers=c.h), 409, "CONFLICT")
    assert server.get(f"/api/models/{mid}", headers=c.h).json()["is_published"] is False


# ---------------------------------------------------------------- S3 storage

from test_storage_s3 import local_files, s3rver, s3server  # noqa: E402,F401  (fixtures)


def test_scan_reads_the_file_from_s3(s3server):
    s = s3server
    c = make_creator(s)
    z = io.BytesIO()
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("payload.exe", b"MZ" + b"\0" * 100)
    bad = upload_model(s, c.h, shapes.glb_with_tail(z.getvalue()), "cube.glb")
    assert not [f for f in local_files(s) if "/models/" in f]  # in the bucket only
    body = scanned(s, c.h, bad["upload_id"])
    assert body["verdict"] == "unsafe" and "polyglot" in checks(body, "critical"), body
    good = upload_model(s, c.h, shapes.to_glb(*shapes.torus(8, 5)), "ring.glb")
    body = scanned(s, c.h, good["upload_id"])
    assert body["verdict"] == "safe", body
    assert not [f for f in os.listdir(os.path.join(s.data_dir, "tmp")) if f.startswith("scan-")]
