"""GLB conversion (the model_convert job), the quality report and badge,
and the spec sheet (POST /api/models/{id}/download-specs) - issue 13,
points 2 and 5.  Real files of each format from tests/media/make_models.py."""
import os
import shutil
import struct
import subprocess
import time

import pytest
import requests

from conftest import REPO, assert_error, run_binary, uniq
from test_models import approve_model, create_model, default_category, make_creator

MODELS = os.path.join(REPO, "tests", "media", "make_models.py")


@pytest.fixture(scope="session")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("convert-models")
    subprocess.run(["/usr/bin/python3", MODELS, str(d)], check=True, capture_output=True, timeout=120)
    return d


def upload(server, h, path, name=None):
    with open(path, "rb") as f:
        r = requests.post(server.url + "/api/upload/model", headers=h,
                          files={"file": (name or os.path.basename(path), f)}, timeout=180)
    assert r.status_code == 201, r.text
    return r.json()


def model_of(server, who, path, approve=False, name=None):
    return create_model(server, who, approve=approve, upload=upload(server, who.h, path, name))


def wait_converted(server, mid, h, timeout=120):
    deadline = time.time() + timeout
    while time.time() < deadline:
        r = server.get(f"/api/models/{mid}", headers=h)
        assert r.status_code == 200, r.text
        if r.json()["conversion_status"] != "pending":
            return r.json()
        time.sleep(0.2)
    raise AssertionError(f"model {mid} still pending after {timeout} s")


def check_glb(data):
    magic, version, length = struct.unpack("<4sII", data[:12])
    assert magic == b"glTF" and version == 2 and length == len(data)


def reanalyse(server, who, data):
    """The GLB uploaded as a model of its own: its analysis."""
    r = requests.post(server.url + "/api/upload/model", headers=who.h,
                      files={"file": ("converted.glb", data)}, timeout=60)
    assert r.status_code == 201, r.text
    a = server.post("/api/models/analyze", json={"upload_id": r.json()["upload_id"]}, headers=who.h)
    assert a.status_code == 200, a.text
    return a.json()


# ------------------------------------------------------------- conversion

@pytest.mark.parametrize("name,polys", [
    ("cube.obj", 12), ("cube_ascii.fbx", 12), ("cube_binary.fbx", 12), ("cube_7500.fbx", 12),
    ("two_meshes.gltf", 16), ("rigged.glb", 12), ("image_rel.gltf", None),
])
def test_every_format_converts_to_a_valid_glb(server, files, name, polys):
    c = make_creator(server)
    m = model_of(server, c, files / name)
    assert m["conversion_status"] == ("done" if name.endswith(".glb") else "pending")
    assert "conversion_error" in m  # the owner's document
    doc = wait_converted(server, m["id"], c.h)
    assert doc["conversion_status"] == "done", doc
    assert doc["conversion_error"] is None
    r = server.get(f"/api/models/{m['id']}/viewer-file", headers=c.h)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("model/gltf-binary")
    check_glb(r.content)
    again = reanalyse(server, c, r.content)
    assert again["file_format"] == "GLB"
    assert again["poly_count"] == (polys if polys is not None else m["poly_count"])
    # relative texture files are never referenced by the converted GLB
    assert again["external_references"] == []


def test_blend_converts_through_blender(server, tmp_path):
    blender = shutil.which("blender")
    if not blender:
        pytest.skip("blender is not installed")
    out = tmp_path / "cube.blend"
    subprocess.run([blender, "-b", "--factory-startup", "--python-expr",
                    f"import bpy; bpy.ops.wm.save_as_mainfile(filepath={str(out)!r})"],
                   check=True, capture_output=True, timeout=180)
    c = make_creator(server)
    m = model_of(server, c, out)
    assert m["file_format"] == "BLEND"
    doc = wait_converted(server, m["id"], c.h, timeout=300)
    assert doc["conversion_status"] == "done", doc
    r = server.get(f"/api/models/{m['id']}/viewer-file", headers=c.h)
    assert r.status_code == 200
    check_glb(r.content)
    assert reanalyse(server, c, r.content)["poly_count"] == 12  # the default cube


def test_public_converted_model_is_served_to_everyone(server, files):
    c = make_creator(server)
    m = model_of(server, c, files / "cube.obj", approve=True)
    wait_converted(server, m["id"], c.h)
    r = server.get(f"/api/models/{m['id']}/viewer-file")
    assert r.status_code == 200
    check_glb(r.content)
    assert server.get(f"/api/models/{m['id']}").json()["conversion_status"] == "done"
    assert "conversion_error" not in server.get(f"/api/models/{m['id']}").json()


def test_failed_conversion_is_reported_to_the_owner(server, files):
    """The stored file is damaged after its upload (as a disk or an
    operator might): the backfill command re-queues the conversion, which
    fails, and the owner sees why on the model, in a notification, and the
    viewer file answers 404 saying so."""
    c = make_creator(server)
    m = model_of(server, c, files / "cube.obj")
    wait_converted(server, m["id"], c.h)
    key = server.scalar(f"SELECT file_key FROM models WHERE id = {m['id']}")
    with open(os.path.join(server.data_dir, "files", key), "wb") as f:
        f.write(b"\0\1\2 not a model any more\n" * 10)
    p = run_binary(["convert-models", "--model", str(m["id"])], server.env, server.tmp)
    assert p.returncode == 0, p.stdout + p.stderr
    assert '"queued": 1' in p.stdout
    doc = wait_converted(server, m["id"], c.h)
    assert doc["conversion_status"] == "failed"
    assert doc["conversion_error"] and "import failed" in doc["conversion_error"]
    body = assert_error(server.get(f"/api/models/{m['id']}/viewer-file", headers=c.h), 404, "NOT_FOUND")
    assert "could not be converted" in body["detail"]
    # the owner is told; a stranger never sees the reason
    n = server.get("/api/notifications", headers=c.h).json()["notifications"]
    assert any(x["type"] == "model_conversion_failed" for x in n)
    approve_model(server, m["id"])
    pub = server.get(f"/api/models/{m['id']}").json()
    assert pub["conversion_status"] == "failed" and "conversion_error" not in pub


def test_convert_models_usage(server):
    p = run_binary(["convert-models", "--model", "x"], server.env, server.tmp)
    assert p.returncode == 2


# ---------------------------------------------------------- quality report

def test_analysis_shows_the_quality_report(server, files):
    c = make_creator(server)
    up = upload(server, c.h, files / "defects.obj")
    a = server.post("/api/models/analyze", json={"upload_id": up["upload_id"]}, headers=c.h)
    assert a.status_code == 200, a.text
    q = a.json()["quality"]
    assert q["triangles"] == 5 and q["vertices"] == 6 and q["meshes"] == 1
    assert q["non_manifold_edges"] == 1
    assert q["boundary_edges"] == 4
    assert q["degenerate_faces"] == 1
    assert q["duplicate_faces"] == 1
    assert q["uv_coverage"] == 0 and q["meshes_with_uvs"] == 0
    assert q["topology_checked"] is True
    assert q["dimensions"] == {"x": 2.0, "y": 2.0, "z": 1.0, "unit": "m"}
    assert "assumed" in q["unit_note"]
    assert q["badge"] == "bronze"
    assert any("non-manifold" in w for w in q["badge_reasons"])


def test_badges_on_models(server, files):
    c = make_creator(server)
    gold = model_of(server, c, files / "textured_cube.glb")
    assert gold["quality_badge"] == "gold", gold["quality"]
    q = gold["quality"]
    assert q["textures"] == [{"source": "embedded", "name": "*0", "width": 1, "height": 1, "format": "png"}]
    assert q["uv_coverage"] == 1 and q["non_manifold_edges"] == 0 and q["boundary_edges"] == 0
    assert q["badge_reasons"] == []
    # one of its two meshes has UVs: silver
    silver = model_of(server, c, files / "two_meshes.gltf")
    assert silver["quality_badge"] == "silver", silver["quality"]
    assert silver["quality"]["uv_coverage"] == 0.5
    bronze = model_of(server, c, files / "defects.obj")
    assert bronze["quality_badge"] == "bronze"
    # no texture, no UVs, but clean and closed: silver needs UVs on a mesh
    assert model_of(server, c, files / "cube.obj")["quality_badge"] == "bronze"


def test_fbx_units(server, files):
    c = make_creator(server)
    m = model_of(server, c, files / "cube_ascii.fbx")
    q = m["quality"]
    assert "UnitScaleFactor" in q["unit_note"] or "centimetres" in q["unit_note"]
    # 2 x 4 x 6 units of 1 cm
    assert q["dimensions"] == {"x": 0.02, "y": 0.04, "z": 0.06, "unit": "m"}


def test_model_lists_carry_the_badge(server, files):
    c = make_creator(server)
    m = model_of(server, c, files / "textured_cube.glb", approve=True)
    r = server.get("/api/models", params={"search": m["title"]})
    assert r.status_code == 200
    items = [x for x in r.json()["items"] if x["id"] == m["id"]]
    assert items and items[0]["quality_badge"] == "gold"


# --------------------------------------------------------------- spec sheet

def test_spec_sheet_json(server, files):
    c = make_creator(server)
    m = model_of(server, c, files / "defects.obj", approve=True)
    for kw in ({}, {"json": {"format": "json"}}, {"params": {"format": "json"}}):
        r = server.post(f"/api/models/{m['id']}/download-specs", **kw)
        assert r.status_code == 200, r.text
        s = r.json()
        assert s["model"]["id"] == m["id"] and s["model"]["title"] == m["title"]
        assert s["quality_badge"] == "bronze"
        assert s["quality"]["degenerate_faces"] == 1
        assert s["generated_at"].endswith("Z")


def pdf_pages(data):
    return data.count(b"/Type /Page\n") + data.count(b"/Type /Page ") + data.count(b"/Type/Page\n")


def test_spec_sheet_pdf_with_thumbnail(server, files):
    from test_models import upload_image
    c = make_creator(server)
    img = upload_image(server, c.h)
    m = create_model(server, c, approve=True, upload=upload(server, c.h, files / "textured_cube.glb"),
                     thumbnail_url=img)
    for kw in ({"params": {"format": "pdf"}}, {"json": {"format": "pdf"}}):
        r = server.post(f"/api/models/{m['id']}/download-specs", **kw)
        assert r.status_code == 200, r.text
        assert r.headers["Content-Type"] == "application/pdf"
        assert "attachment" in r.headers["Content-Disposition"]
        assert r.content.startswith(b"%PDF")
        assert b"/Count 1" in r.content  # one page
        assert b"/Subtype /Image" in r.content  # the thumbnail


def test_spec_sheet_pdf_without_thumbnail(server, files):
    c = make_creator(server)
    m = model_of(server, c, files / "cube.obj")
    r = server.post(f"/api/models/{m['id']}/download-specs?format=pdf", headers=c.h)
    assert r.status_code == 200 and r.content.startswith(b"%PDF") and b"/Count 1" in r.content


def test_spec_sheet_permissions(server, files):
    owner, other = make_creator(server), make_creator(server)
    m = model_of(server, owner, files / "cube.obj")  # pending: not public
    url = f"/api/models/{m['id']}/download-specs"
    assert_error(server.post(url), 404, "NOT_FOUND")
    assert_error(server.post(url, headers=other.h), 404, "NOT_FOUND")
    assert_error(server.post(url + "?format=pdf", headers=other.h), 404, "NOT_FOUND")
    assert server.post(url, headers=owner.h).status_code == 200
    assert server.post(url, headers=server.admin_headers()).status_code == 200
    assert_error(server.post("/api/models/999999999/download-specs"), 404, "NOT_FOUND")


@pytest.mark.parametrize("kw", [
    {"params": {"format": "docx"}}, {"json": {"format": "PDF "}}, {"json": {"format": 3}},
    {"json": {"format": None}},
])
def test_spec_sheet_bad_format(server, files, kw):
    c = make_creator(server)
    m = model_of(server, c, files / "cube.obj")
    assert_error(server.post(f"/api/models/{m['id']}/download-specs", headers=c.h, **kw), 400, "VALIDATION_ERROR")


@pytest.mark.parametrize("name,badge", [("textured_cube.glb", "gold"), ("cube.obj", "bronze")])
def test_backfill_measures_models_stored_before_the_reports(server, files, name, badge):
    """A model without a report (stored before issue 13, or by seed-demo):
    `hwc3d convert-models` queues it and the job measures its file."""
    c = make_creator(server)
    m = model_of(server, c, files / name)
    wait_converted(server, m["id"], c.h)
    server.sql(f"UPDATE models SET quality = NULL, quality_badge = NULL WHERE id = {m['id']}")
    assert server.get(f"/api/models/{m['id']}", headers=c.h).json()["quality"] is None
    p = run_binary(["convert-models"], server.env, server.tmp)
    assert p.returncode == 0, p.stdout + p.stderr
    deadline = time.time() + 60
    while time.time() < deadline:
        doc = server.get(f"/api/models/{m['id']}", headers=c.h).json()
        if doc["quality_badge"]:
            break
        time.sleep(0.2)
    assert doc["quality_badge"] == badge and doc["quality"]["triangles"] == 12
    assert doc["conversion_status"] == "done"


def test_owner_cannot_set_the_measured_fields(server, files):
    """quality, quality_badge, conversion_* and viewer_key are the
    platform's measurements: an edit never sets them."""
    c = make_creator(server)
    m = model_of(server, c, files / "defects.obj")
    r = server.put(f"/api/models/{m['id']}", headers=c.h, json={
        "title": "Renamed model", "quality_badge": "gold", "quality": {"badge": "gold"},
        "conversion_status": "done", "conversion_error": None, "viewer_key": "models/x.glb"})
    assert r.status_code in (200, 422), r.text
    doc = server.get(f"/api/models/{m['id']}", headers=c.h).json()
    assert doc["quality_badge"] == "bronze" and doc["quality"]["badge"] == "bronze"
    assert doc["quality"]["degenerate_faces"] == 1
    assert server.scalar(f"SELECT viewer_key FROM models WHERE id = {m['id']}") != "models/x.glb"


def test_spec_sheet_pdf_with_a_long_unicode_title(server, files):
    c = make_creator(server)
    title = ("Ünïcødé 模型 " * 12)[:120]
    m = model_of(server, c, files / "two_meshes.gltf")
    assert server.put(f"/api/models/{m['id']}", headers=c.h, json={"title": title}).status_code == 200
    r = server.post(f"/api/models/{m['id']}/download-specs", headers=c.h, json={"format": "pdf"})
    assert r.status_code == 200 and r.content.startswith(b"%PDF") and b"/Count 1" in r.content
