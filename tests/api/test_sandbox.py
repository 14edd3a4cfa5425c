"""The sandboxes around untrusted parsers (issue 8, requirement 4).

Blender: BLENDER_PATH points at a fake Blender, a Python script that runs in
exactly the jail the real one gets and looks around it: it must not see
DATA_DIR (the generated jwt_secret), the repository or the host's network,
must have no usable socket(), ptrace or keyring calls, must run as uid
65534 with limits, and it dies with the server.  When the jail cannot be
built, conversion is refused with 503 and the program never runs.

Images: libvips decodes in a child with the analysis limits, so a
decompression bomb within the pixel limits fails there, not in the server.

Engine-independent (no database behaviour): SQLite servers only."""
import base64
import importlib.util
import json
import os
import select
import shutil
import signal
import socket
import struct
import tempfile
import threading
import time
import zlib

import pytest
import requests

from conftest import REPO, Server, assert_error, bearer, finish_server, mint_token

BWRAP = shutil.which("bwrap") or "/usr/bin/bwrap"
IS_ROOT = os.geteuid() == 0


def _make_models():
    spec = importlib.util.spec_from_file_location("make_models", os.path.join(REPO, "tests", "media", "make_models.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


FAKE_BLEND = b"BLENDER-v304REND" + b"\0" * 64  # assimp cannot read it: Blender is asked

INSPECT = r'''#!/usr/bin/python3
# A fake Blender for tests/api/test_sandbox.py: reports every way out of
# the jail it finds on stderr and fails; otherwise writes a cube as out.glb.
import base64, ctypes, json, os, platform, resource, socket, sys
CFG = json.loads(base64.b64decode(CFG_B64))
bad = []
for p in (CFG["secret"], CFG["data_dir"], CFG["repo"], CFG["tmp_parent"], "/root", "/home", "/var", "/sys",
          "/etc/passwd", "/etc/shadow", "/etc/hostname", "/run"):
    if os.path.exists(p):
        bad.append("visible: " + p)
try:
    with open(CFG["secret"]) as f:
        bad.append("read jwt_secret: " + f.read()[:8])
except OSError:
    pass
# no network: a fresh namespace (only lo), and socket() itself refused
try:
    with open("/proc/net/dev") as f:
        ifaces = sorted(l.split(":")[0].strip() for l in f.read().splitlines()[2:])
    if ifaces != ["lo"]:
        bad.append("interfaces: %r" % ifaces)
except OSError as e:
    bad.append("/proc/net/dev: %s" % e)
for fam in (socket.AF_INET, socket.AF_INET6, socket.AF_UNIX):
    try:
        s = socket.socket(fam, socket.SOCK_STREAM)
    except PermissionError:
        continue
    except OSError as e:
        bad.append("socket(%d): %s instead of EPERM" % (fam, e))
        continue
    try:
        s.settimeout(2)
        if fam != socket.AF_UNIX:
            s.connect(("127.0.0.1" if fam == socket.AF_INET else "::1", CFG["port"]))
            bad.append("connected to the test's listener")
        else:
            bad.append("AF_UNIX socket allowed")
    except OSError as e:
        bad.append("socket(%d) allowed (connect: %s)" % (fam, e))
    finally:
        s.close()
# seccomp: ptrace and the keyring answer EPERM
libc = ctypes.CDLL(None, use_errno=True)
nr = {"x86_64": {"ptrace": 101, "add_key": 248, "request_key": 249, "keyctl": 250},
      "aarch64": {"ptrace": 117, "add_key": 217, "request_key": 218, "keyctl": 219}}[platform.machine()]
libc.syscall.restype = ctypes.c_long
for name, args in (("ptrace", (0, 0, 0, 0)),                                   # PTRACE_TRACEME
                   ("keyctl", (0, ctypes.c_long(-3), 1)),                        # GET_KEYRING_ID session
                   ("add_key", (b"user", b"k", b"v", 1, ctypes.c_long(-3))),
                   ("request_key", (b"user", b"k", None, ctypes.c_long(-3)))):
    ctypes.set_errno(0)
    r = libc.syscall(ctypes.c_long(nr[name]), *args)
    if r != -1 or ctypes.get_errno() != 1:
        bad.append("%s: returned %d errno %d, not EPERM" % (name, r, ctypes.get_errno()))
with open("/proc/self/status") as f:
    st = dict(l.split(":", 1) for l in f.read().splitlines() if ":" in l)
for k, want in (("Seccomp", "2"), ("NoNewPrivs", "1"), ("CapEff", "0000000000000000"),
                ("CapBnd", "0000000000000000")):
    if st.get(k, "").strip() != want:
        bad.append("%s is %r" % (k, st.get(k, "").strip()))
# identity, PID namespace, environment, limits
if os.getuid() != 65534 or os.getgid() != 65534:
    bad.append("uid %d gid %d" % (os.getuid(), os.getgid()))
pids = [p for p in os.listdir("/proc") if p.isdigit()]
if len(pids) > 5 or os.getpid() > 5:
    bad.append("PID namespace: pid %d, %d processes visible" % (os.getpid(), len(pids)))
extra = set(os.environ) - {"HOME", "TMPDIR", "PATH", "LC_ALL", "PWD", "LC_CTYPE"}
if extra:
    bad.append("environment: %s" % sorted(extra))
for name in ("RLIMIT_AS", "RLIMIT_CPU", "RLIMIT_FSIZE", "RLIMIT_NPROC", "RLIMIT_NOFILE"):
    soft, hard = resource.getrlimit(getattr(resource, name))
    if soft == resource.RLIM_INFINITY or hard == resource.RLIM_INFINITY:
        bad.append(name + " unlimited")
# the file system: only the work directory is writable, and holds the input
if os.getcwd() != "/work" or sorted(os.listdir(".")) != ["in.blend"]:
    bad.append("work directory %s: %r" % (os.getcwd(), sorted(os.listdir("."))))
for d in ("/usr", "/etc", os.path.dirname(os.path.abspath(sys.argv[0])), "/"):
    try:
        with open(os.path.join(d, "hwc3d-sandbox-test"), "w") as f:
            f.write("x")
        bad.append("writable: " + d)
    except OSError:
        pass
if bad:
    sys.stderr.write("SANDBOX-LEAK: " + "; ".join(bad) + "\n")
    sys.exit(1)
with open("out.glb", "wb") as f:
    f.write(base64.b64decode(CFG["glb"]))
'''

SLEEPER = r'''#!/usr/bin/python3
# A fake Blender that tries to outlive the server: a daemonised grandchild
# and itself, sleeping.
import os, sys, time
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        time.sleep(120)
    os._exit(0)
time.sleep(120)
'''

RUNS = r'''#!/usr/bin/python3
# A fake Blender that leaves a mark where it could only write unsandboxed.
import sys
open(MARK, "w").write("ran")
'''

FAILING_BWRAP = '''#!/bin/sh
echo "bwrap: No permissions to creating new namespace, likely because the kernel does not allow non-privileged user namespaces" >&2
exit 1
'''


def fake_dir():
    """A directory for a fake program: world-readable (when the server is
    root, the jail runs as nobody), apart from DATA_DIR."""
    d = tempfile.mkdtemp(prefix="hwc3d-fakeblender-", dir="/tmp")
    os.chmod(d, 0o755)
    return d


def write_exe(path, text):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, 0o755)


def blend_server(label, env, setup=None):
    """A private SQLite server whose jwt_secret is generated into DATA_DIR;
    setup(server) runs before it starts."""
    s = Server("sqlite", env=dict({"JWT_SECRET_KEY": None}, **env), label=label)
    try:
        if setup:
            setup(s)
        s.prepare().start()
        with open(os.path.join(s.data_dir, "jwt_secret")) as f:
            s.secret = f.read()
    except BaseException:
        s.kill()
        s.cleanup(keep=True)
        raise
    return s


def upload_blend(s, timeout=120):
    headers = bearer(mint_token(s.secret, s.user_id("demo1@example.com")))
    return requests.post(s.url + "/api/upload/model", headers=headers,
                         files={"file": ("scene.blend", FAKE_BLEND)}, timeout=timeout)


def need_bwrap():
    if not os.access(BWRAP, os.X_OK):
        if os.environ.get("CI"):
            pytest.fail("bubblewrap is not installed (scripts/install-deps.sh runtime)")
        pytest.skip("bubblewrap is not installed")


def test_blender_jail_hides_data_dir_network_and_host():
    need_bwrap()
    d = fake_dir()
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    s = None
    try:
        def setup(srv):
            cfg = {"secret": os.path.join(srv.data_dir, "jwt_secret"), "data_dir": srv.data_dir, "repo": REPO,
                   "tmp_parent": srv.tmp, "port": listener.getsockname()[1],
                   "glb": base64.b64encode(_make_models().cube_glb()).decode()}
            cfg_b64 = base64.b64encode(json.dumps(cfg).encode()).decode()
            write_exe(os.path.join(d, "blender"), INSPECT.replace("CFG_B64", repr(cfg_b64)))

        s = blend_server("jail", {"BLENDER_PATH": os.path.join(d, "blender")}, setup)
        assert os.path.exists(os.path.join(s.data_dir, "jwt_secret"))  # the control: there to be stolen
        assert "blender sandbox: ready" in s.log(), s.log_tail()
        r = upload_blend(s)
        assert r.status_code == 201, f"{r.status_code} {r.text[:300]}\n{s.log_tail(20)}"
        body = r.json()
        assert body["file_format"] == "BLEND" and body["poly_count"] == 12
        # nothing ever reached the listener
        readable, _, _ = select.select([listener], [], [], 0.2)
        assert not readable, "the sandboxed program connected to the test's listener"
        assert "SANDBOX-LEAK" not in s.log()
        assert os.listdir(os.path.join(s.data_dir, "tmp")) == []
        finish_server(s)
        s = None
    finally:
        listener.close()
        if s:
            s.kill()
            s.cleanup(keep=True)
        shutil.rmtree(d, ignore_errors=True)


def marked_processes(marker):
    """pid -> (uid, cmdline) of the processes whose command line names marker."""
    found = {}
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            with open(f"/proc/{p}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
            with open(f"/proc/{p}/status") as f:
                uid = int(next(l for l in f if l.startswith("Uid:")).split()[1])
        except (OSError, StopIteration, ValueError):
            continue
        if marker in cmd:
            found[int(p)] = (uid, cmd)
    return found


def kill_marked(d):
    """SIGKILL whatever a test's fake Blender left running."""
    for pid in marked_processes(d):
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


def test_blender_dies_with_the_server():
    need_bwrap()
    d = fake_dir()
    write_exe(os.path.join(d, "blender"), SLEEPER)
    s = blend_server("jail-kill", {"BLENDER_PATH": os.path.join(d, "blender"), "BLEND_TIMEOUT_S": "100"})
    def doomed_upload():
        try:
            upload_blend(s, 60)
        except requests.RequestException:
            pass  # the server is killed under it

    t = threading.Thread(target=doomed_upload, daemon=True)
    left = {}
    try:
        t.start()
        # bwrap, its init in the PID namespace, the script, the daemonised grandchild
        deadline = time.time() + 30
        procs = {}
        while time.time() < deadline:
            procs = marked_processes(d)
            sleepers = [p for p, (_, cmd) in procs.items() if "bwrap" not in cmd]
            if len(sleepers) >= 2:
                break
            time.sleep(0.1)
        sleepers = {p: v for p, v in procs.items() if "bwrap" not in v[1]}
        assert len(sleepers) >= 2, f"the fake Blender did not start: {procs}\n{s.log_tail(20)}"
        if IS_ROOT:
            # root's jail runs as nobody outside the namespace too
            assert all(uid == 65534 for uid, _ in procs.values()), procs
        s.proc.kill()
        s.proc.wait()
        deadline = time.time() + 10
        while time.time() < deadline:
            left = marked_processes(d)
            if not left:
                break
            time.sleep(0.1)
        assert not left, f"still running after the server was killed: {left}"
    finally:
        kill_marked(d)
        s.kill()
        s.cleanup()
        shutil.rmtree(d, ignore_errors=True)


@pytest.mark.parametrize("broken", ["missing", "failing"])
def test_no_jail_no_blender(broken):
    """bwrap missing, or unable to build namespaces: 503 with Retry-After,
    and the program never runs unsandboxed."""
    d = fake_dir()
    mark = os.path.join(d, "ran")
    os.chmod(d, 0o777)  # writable by anyone: only the jail could stop it
    write_exe(os.path.join(d, "blender"), RUNS.replace("MARK", repr(mark)))
    bwrap = os.path.join(d, "no-such-bwrap")
    if broken == "failing":
        bwrap = os.path.join(d, "bwrap")
        write_exe(bwrap, FAILING_BWRAP)
    s = blend_server(f"nojail-{broken}", {"BLENDER_PATH": os.path.join(d, "blender"), "BWRAP_PATH": bwrap})
    try:
        assert "blender sandbox: unavailable" in s.log(), s.log_tail()
        r = upload_blend(s)
        body = assert_error(r, 503, "SERVICE_UNAVAILABLE")
        assert r.headers.get("Retry-After", "").isdigit()
        assert "Blender" in body["detail"]
        assert not os.path.exists(mark), "the program ran without its sandbox"
        assert requests.get(s.url + "/healthz", timeout=5).status_code == 200
        assert os.listdir(os.path.join(s.data_dir, "tmp")) == []
        finish_server(s)
    finally:
        s.kill()
        s.cleanup()
        shutil.rmtree(d, ignore_errors=True)


# ---------------------------------------------------------------- images

def _chunk(kind, data):
    c = struct.pack(">I", len(data)) + kind + data
    return c + struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff)


def png_bomb(w=6000, h=6000):
    """An interlaced 16-bit RGBA PNG of zeros: ~280 KB on the wire, 36
    megapixels (under the 40 MP limit), 288 MB once decoded."""
    passes = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]
    co = zlib.compressobj(9)
    parts = []
    for x0, y0, dx, dy in passes:
        pw, ph = (w - x0 + dx - 1) // dx, (h - y0 + dy - 1) // dy
        row = b"\0" * (1 + pw * 8)
        for _ in range(ph if pw else 0):
            parts.append(co.compress(row))
    parts.append(co.flush())
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 16, 6, 0, 0, 1))
            + _chunk(b"IDAT", b"".join(parts)) + _chunk(b"IEND", b""))


def small_png(w=3, h=2):
    raw = b"".join(b"\x00" + b"\xff\x00\x00" * w for _ in range(h))
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + _chunk(b"IDAT", zlib.compress(raw)) + _chunk(b"IEND", b""))


def test_image_bomb_fails_in_the_child_and_the_server_stays_up():
    """With 64 MB for the decoder, a 288 MB decompression bomb is refused
    (an in-process decoder has no such limit and would accept it)."""
    s = Server("sqlite", env={"IMAGE_MEMORY_MB": "64"}, label="imagebomb")
    try:
        s.prepare().start()
        hdr = s.user_headers(1)
        uid = s.user_id("demo1@example.com")
        before = s.scalar(f"SELECT COUNT(*) FROM uploads WHERE user_id = {uid}")
        bomb = png_bomb()
        assert len(bomb) < 400_000
        r = requests.post(s.url + "/api/upload/image", headers=hdr, files={"file": ("bomb.png", bomb)}, timeout=60)
        body = assert_error(r, 422, "VALIDATION_ERROR", "file")
        assert "memory" in " ".join(body["field_errors"]["file"]), body
        assert s.proc.poll() is None
        assert requests.get(s.url + "/healthz", timeout=5).status_code == 200
        assert s.scalar(f"SELECT COUNT(*) FROM uploads WHERE user_id = {uid}") == before
        assert os.listdir(os.path.join(s.data_dir, "tmp")) == []
        # and a normal image still goes through the same child
        r = requests.post(s.url + "/api/upload/image", headers=hdr, files={"file": ("ok.png", small_png())},
                          timeout=60)
        assert r.status_code == 201, r.text
        assert r.json()["width"] == 3 and r.json()["height"] == 2
        finish_server(s)
    finally:
        s.kill()
        s.cleanup()


def test_blender_slot_wait_is_bounded():
    """Two conversions hold both Blender slots; a third waits for one at
    most BLEND_SLOT_WAIT_S and then answers 503 with Retry-After (never an
    unbounded wait behind a slow conversion)."""
    need_bwrap()
    d = fake_dir()
    write_exe(os.path.join(d, "blender"), SLEEPER)
    s = blend_server("blend-slots", {"BLENDER_PATH": os.path.join(d, "blender"), "BLEND_TIMEOUT_S": "8",
                                     "BLEND_SLOT_WAIT_S": "1"})
    results = {}

    def one(i):
        t0 = time.time()
        r = upload_blend(s, 60)
        results[i] = (r, time.time() - t0)

    try:
        holders = [threading.Thread(target=one, args=(i,)) for i in range(2)]
        for t in holders:
            t.start()
        deadline = time.time() + 20  # both fake Blenders running: both slots held
        while time.time() < deadline:
            if len([p for p, (_, cmd) in marked_processes(d).items() if "bwrap" not in cmd]) >= 4:
                break
            time.sleep(0.1)
        one(2)
        r, took = results[2]
        body = assert_error(r, 503, "SERVICE_UNAVAILABLE")
        assert r.headers.get("Retry-After", "").isdigit()
        assert "slot" in body["detail"], body
        assert took < 6, f"waited {took:.1f} s for a slot (BLEND_SLOT_WAIT_S=1)"
        for t in holders:
            t.join(timeout=60)
        # the holders ran out of time (the sleeper never converts)
        assert all(results[i][0].status_code != 503 for i in range(2)), [results[i][0].text for i in range(2)]
        assert requests.get(s.url + "/healthz", timeout=5).status_code == 200
        finish_server(s)
        s = None
    finally:
        kill_marked(d)
        if s:
            s.kill()
            s.cleanup(keep=True)
        shutil.rmtree(d, ignore_errors=True)
