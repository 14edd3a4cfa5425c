#!/usr/bin/python3
"""Benchmarks of the server-side renderer (issue 13, point 8):

  - thumbnail: one 800x600 PNG of a 100k-triangle model (a UV sphere with
    smooth normals, GLB), the render child as the server runs it;
  - video: a 5 s turntable at 1280x720, 24 fps, rendered in 4 segments (one
    child each, as render.c does) whose raw frames go straight to ffmpeg
    with the server's VP9 (and H.264) settings.

    /usr/bin/python3 scripts/bench-render.py [--binary build/hwc3d] [--runs 3]

Prints one line per figure (median of the runs).  Standard library only.
"""
import argparse
import math
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "media"))
from make_models import GltfBuilder  # noqa: E402


def sphere_glb(rings=224, segments=224):
    """A UV sphere of radius 1: 2 * segments * (rings - 1) triangles."""
    pos, nrm, idx = [], [], []
    for r in range(rings + 1):
        phi = math.pi * r / rings
        for s in range(segments + 1):
            th = 2 * math.pi * s / segments
            p = (math.sin(phi) * math.cos(th), math.cos(phi), math.sin(phi) * math.sin(th))
            pos.append(p)
            nrm.append(p)
    w = segments + 1
    for r in range(rings):
        for s in range(segments):
            a, b = r * w + s, (r + 1) * w + s
            if r:
                idx += [a, a + 1, b]
            if r != rings - 1:
                idx += [a + 1, b + 1, b]
    g = GltfBuilder()
    prim = {"attributes": {"POSITION": g.vec(pos, "VEC3", True), "NORMAL": g.vec(nrm, "VEC3")},
            "indices": g.scalars(idx), "material": 0}
    g.doc.update({"materials": [{"name": "Clay", "pbrMetallicRoughness": {"baseColorFactor": [0.8, 0.5, 0.3, 1]}}],
                  "meshes": [{"name": "Sphere", "primitives": [prim]}], "nodes": [{"name": "Sphere", "mesh": 0}],
                  "scenes": [{"nodes": [0]}], "scene": 0})
    return g.glb(), len(idx) // 3


def child(binary, model, args, stdout=subprocess.PIPE, pass_fds=()):
    with open(model, "rb") as f:
        return subprocess.run([binary, "render-model", "GLB", *args], stdin=f, stdout=stdout,
                              stderr=subprocess.PIPE, pass_fds=pass_fds, check=True, env={"LC_ALL": "C"})


def cpu_children():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def thumbnail(binary, model):
    t, c = time.perf_counter(), cpu_children()
    p = child(binary, model, ["--width", "800", "--height", "600"])
    assert p.stdout.startswith(b"\x89PNG")
    return time.perf_counter() - t, cpu_children() - c


def video(binary, model, out, codec, seconds=5, fps=24, w=1280, h=720, segments=4, samples=4):
    enc = (["-c:v", "libvpx-vp9", "-b:v", "0", "-crf", "33", "-deadline", "realtime", "-cpu-used", "8",
            "-row-mt", "1", "-f", "webm"] if codec == "vp9" else
           ["-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-movflags", "+faststart", "-f", "mp4"])
    t, c = time.perf_counter(), cpu_children()
    rfd, wfd = os.pipe()
    ff = subprocess.Popen(["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-f", "rawvideo",
                           "-pix_fmt", "rgba", "-s", f"{w}x{h}", "-r", str(fps), "-i", "pipe:0", "-an",
                           "-pix_fmt", "yuv420p", "-threads", "2", *enc, "-y", out], stdin=rfd)
    os.close(rfd)
    total = seconds * fps
    for s in range(segments):
        a, b = total * s // segments, total * (s + 1) // segments
        os.dup2(wfd, 3, inheritable=True)
        child(binary, model, ["--width", str(w), "--height", str(h), "--raw", "--samples", str(samples), "--frames", str(b - a),
                              "--first", str(a), "--total", str(total)], stdout=subprocess.DEVNULL, pass_fds=(3,))
        os.close(3)
    os.close(wfd)
    assert ff.wait() == 0
    return time.perf_counter() - t, cpu_children() - c


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default=os.path.join(HERE, "..", "build", "hwc3d"))
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--video-samples", type=int, default=4, help="multisampling of video frames (RENDER_VIDEO_SAMPLES)")
    a = ap.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory() as d:
        data, tris = sphere_glb()
        model = os.path.join(d, "sphere.glb")
        with open(model, "wb") as f:
            f.write(data)
        runs = [thumbnail(a.binary, model) for _ in range(a.runs)]
        wall, cpu = statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)
        print(f"thumbnail 800x600, {tris} triangles ({len(data) / 1e6:.1f} MB GLB): {wall * 1000:.0f} ms wall,"
              f" {cpu * 1000:.0f} ms CPU")
        for codec in ("vp9", "h264"):
            out = os.path.join(d, "v." + ("webm" if codec == "vp9" else "mp4"))
            runs = [video(a.binary, model, out, codec, samples=a.video_samples) for _ in range(max(1, a.runs // 2))]
            wall, cpu = statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)
            print(f"video 5 s 1280x720 24 fps {codec} ({a.video_samples}x MSAA), {tris} triangles: {wall:.1f} s wall, {cpu:.1f} s CPU"
                  f" (render children and ffmpeg; {os.path.getsize(out) / 1e3:.0f} kB)")
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
