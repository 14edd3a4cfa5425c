"""Shapes for the duplicate-fingerprint and safety tests: triangle lists
written as GLB (shared vertices) or OBJ (another exporter's way), with a
translation and a uniform scale, so a copy can be told from its original
only by what a re-export changes.  Standard library only."""
import math
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_models import GltfBuilder, cube_arrays, make_glb  # noqa: E402


def uv_sphere(rings=16, segments=24, r=1.0):
    """(positions, triangle index triples)."""
    pos = [(0.0, 0.0, r)]
    for i in range(1, rings):
        th = math.pi * i / rings
        for j in range(segments):
            ph = 2 * math.pi * j / segments
            pos.append((r * math.sin(th) * math.cos(ph), r * math.sin(th) * math.sin(ph), r * math.cos(th)))
    pos.append((0.0, 0.0, -r))
    tris = []
    for j in range(segments):
        tris.append((0, 1 + j, 1 + (j + 1) % segments))
    for i in range(rings - 2):
        a, b = 1 + i * segments, 1 + (i + 1) * segments
        for j in range(segments):
            k = (j + 1) % segments
            tris.append((a + j, b + j, b + k))
            tris.append((a + j, b + k, a + k))
    last = len(pos) - 1
    base = 1 + (rings - 2) * segments
    for j in range(segments):
        tris.append((base + j, last, base + (j + 1) % segments))
    return pos, tris


def torus(major=24, minor=12, R=1.0, r=0.3):
    pos, tris = [], []
    for i in range(major):
        u = 2 * math.pi * i / major
        for j in range(minor):
            v = 2 * math.pi * j / minor
            pos.append(((R + r * math.cos(v)) * math.cos(u), (R + r * math.cos(v)) * math.sin(u), r * math.sin(v)))
    for i in range(major):
        for j in range(minor):
            a, b = i * minor + j, ((i + 1) % major) * minor + j
            c, d = ((i + 1) % major) * minor + (j + 1) % minor, i * minor + (j + 1) % minor
            tris.append((a, b, c))
            tris.append((a, c, d))
    return pos, tris


def transformed(pos, scale=1.0, offset=(0.0, 0.0, 0.0)):
    return [tuple(p[k] * scale + offset[k] for k in range(3)) for p in pos]


def to_glb(pos, tris, names=("Shape", "ShapeMesh", "ShapeMat")):
    b = GltfBuilder()
    flat = [i for t in tris for i in t]
    prim = {"attributes": {"POSITION": b.vec(pos, "VEC3", True)}, "indices": b.scalars(flat), "material": 0}
    b.doc.update({"materials": [{"name": names[2]}], "meshes": [{"name": names[1], "primitives": [prim]}],
                  "nodes": [{"name": names[0], "mesh": 0}], "scenes": [{"nodes": [0]}], "scene": 0})
    return b.glb()


def to_obj(pos, tris, name="copy"):
    lines = [f"# re-exported\no {name}"]
    lines += [f"v {x:.6f} {y:.6f} {z:.6f}" for x, y, z in pos]
    lines += [f"f {a + 1} {b + 1} {c + 1}" for a, b, c in tris]
    return ("\n".join(lines) + "\n").encode()


def nan_glb():
    """A triangle of which one corner is NaN (no min/max: JSON has no NaN)."""
    b = GltfBuilder()
    nan = float("nan")
    pa = b.vec([(0.0, 0.0, 0.0), (1.0, 0.0, 0.0), (nan, nan, nan), (0.0, 1.0, 0.0)], "VEC3")
    idx = b.scalars([0, 1, 3, 1, 2, 3])
    b.doc.update({"meshes": [{"primitives": [{"attributes": {"POSITION": pa}, "indices": idx}]}],
                  "nodes": [{"mesh": 0}], "scenes": [{"nodes": [0]}], "scene": 0})
    return b.glb()


def triangle_soup_bytes(pos, tris):
    """Little-endian float32 x 9 per triangle (for the C unit tests)."""
    return b"".join(struct.pack("<9f", *pos[a], *pos[b], *pos[c]) for a, b, c in tris)


def glb_with_tail(tail):
    """The cube as GLB whose binary chunk carries tail after the bytes its
    buffer declares (a polyglot that is still a valid GLB)."""
    b = GltfBuilder()
    pos, _, idx = cube_arrays()
    prim = {"attributes": {"POSITION": b.vec(pos, "VEC3", True)}, "indices": b.scalars(idx)}
    b.doc.update({"meshes": [{"primitives": [prim]}], "nodes": [{"mesh": 0}], "scenes": [{"nodes": [0]}], "scene": 0,
                  "buffers": [{"byteLength": len(b.bin)}]})
    return make_glb(b.doc, bytes(b.bin) + tail)
