#!/usr/bin/python3
"""Writes small 3D models of known geometry, and hostile files, for the
analysis tests (tests/unit/test_analyze.c) and the benchmark.

    /usr/bin/python3 tests/media/make_models.py OUTDIR [--big MB]

Standard library only.  Every model's expected counts are written next to
the file's construction below; the C tests assert them.  --big MB also
writes big.glb, a dense grid of about MB megabytes (for `make bench`).
"""
import base64
import json
import math
import os
import struct
import sys
import zlib

# A 1x1 red PNG, built here rather than pasted.
def tiny_png():
    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)
    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00\xff\x00\x00")
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


# ---------------------------------------------------------------- geometry

# Cube from -1 to 1: 6 faces x 4 corners = 24 vertices (one normal per
# face), 12 triangles.
CUBE_FACES = [  # normal, 4 corners counter-clockwise seen from outside
    ((1, 0, 0), [(1, -1, -1), (1, 1, -1), (1, 1, 1), (1, -1, 1)]),
    ((-1, 0, 0), [(-1, -1, 1), (-1, 1, 1), (-1, 1, -1), (-1, -1, -1)]),
    ((0, 1, 0), [(-1, 1, -1), (-1, 1, 1), (1, 1, 1), (1, 1, -1)]),
    ((0, -1, 0), [(-1, -1, 1), (-1, -1, -1), (1, -1, -1), (1, -1, 1)]),
    ((0, 0, 1), [(-1, -1, 1), (1, -1, 1), (1, 1, 1), (-1, 1, 1)]),
    ((0, 0, -1), [(1, -1, -1), (-1, -1, -1), (-1, 1, -1), (1, 1, -1)]),
]


def cube_arrays():
    pos, nrm, idx = [], [], []
    for n, corners in CUBE_FACES:
        base = len(pos)
        pos.extend(corners)
        nrm.extend([n] * 4)
        idx.extend([base, base + 1, base + 2, base, base + 2, base + 3])
    return pos, nrm, idx


# Tetrahedron: 4 vertices, 4 triangles, from (0,0,0) to (1,1,1).
TET_POS = [(0, 0, 0), (1, 0, 0), (0, 1, 0), (0, 0, 1)]
TET_IDX = [0, 2, 1, 0, 1, 3, 0, 3, 2, 1, 2, 3]


# ---------------------------------------------------------------- glTF

class GltfBuilder:
    """Collects buffer views and accessors into one binary blob."""

    def __init__(self):
        self.bin = bytearray()
        self.doc = {"asset": {"version": "2.0", "generator": "hwc3d make_models.py"},
                    "bufferViews": [], "accessors": [], "buffers": []}

    def _view(self, data, target=None):
        while len(self.bin) % 4:
            self.bin.append(0)
        view = {"buffer": 0, "byteOffset": len(self.bin), "byteLength": len(data)}
        if target:
            view["target"] = target
        self.bin.extend(data)
        self.doc["bufferViews"].append(view)
        return len(self.doc["bufferViews"]) - 1

    def vec(self, rows, kind, minmax=False, target=34962):
        n = len(rows[0])
        data = b"".join(struct.pack("<%df" % n, *r) for r in rows)
        acc = {"bufferView": self._view(data, target), "componentType": 5126,
               "count": len(rows), "type": kind}
        if minmax:
            acc["min"] = [min(r[i] for r in rows) for i in range(n)]
            acc["max"] = [max(r[i] for r in rows) for i in range(n)]
        self.doc["accessors"].append(acc)
        return len(self.doc["accessors"]) - 1

    def scalars(self, values, ctype=5125, target=34963):
        fmt = {5125: "I", 5123: "H", 5126: "f"}[ctype]
        data = struct.pack("<%d%s" % (len(values), fmt), *values)
        acc = {"bufferView": self._view(data, target), "componentType": ctype,
               "count": len(values), "type": "SCALAR"}
        if ctype == 5126:
            acc["min"], acc["max"] = [min(values)], [max(values)]
        self.doc["accessors"].append(acc)
        return len(self.doc["accessors"]) - 1

    def raw_accessor(self, data, ctype, count, kind, target=None):
        acc = {"bufferView": self._view(data, target), "componentType": ctype,
               "count": count, "type": kind}
        self.doc["accessors"].append(acc)
        return len(self.doc["accessors"]) - 1

    def glb(self):
        self.doc["buffers"] = [{"byteLength": len(self.bin)}]
        return make_glb(self.doc, bytes(self.bin))

    def gltf_embedded(self):
        uri = "data:application/octet-stream;base64," + base64.b64encode(bytes(self.bin)).decode()
        self.doc["buffers"] = [{"byteLength": len(self.bin), "uri": uri}]
        return json.dumps(self.doc, indent=1).encode()


def make_glb(doc, bin_data, json_len_override=None, bin_len_override=None):
    js = json.dumps(doc, separators=(",", ":")).encode()
    js += b" " * (-len(js) % 4)
    bin_data = bytes(bin_data) + b"\0" * (-len(bin_data) % 4)
    out = struct.pack("<II", json_len_override if json_len_override is not None else len(js),
                      0x4E4F534A) + js
    if bin_data:
        out += struct.pack("<II", bin_len_override if bin_len_override is not None else len(bin_data),
                           0x004E4942) + bin_data
    return struct.pack("<4sII", b"glTF", 2, 12 + len(out)) + out


def cube_glb():
    """cube.glb: 1 mesh, 12 triangles, 24 vertices, 2x2x2, 1 material
    "CubeMat" without textures, no animation, no skin."""
    b = GltfBuilder()
    pos, nrm, idx = cube_arrays()
    prim = {"attributes": {"POSITION": b.vec(pos, "VEC3", True), "NORMAL": b.vec(nrm, "VEC3")},
            "indices": b.scalars(idx), "material": 0}
    b.doc.update({
        "materials": [{"name": "CubeMat", "pbrMetallicRoughness": {"baseColorFactor": [1, 0, 0, 1]}}],
        "meshes": [{"name": "Cube", "primitives": [prim]}],
        "nodes": [{"name": "Cube", "mesh": 0}],
        "scenes": [{"nodes": [0]}], "scene": 0,
    })
    return b.glb()


def two_meshes_gltf():
    """two_meshes.gltf, buffers and the texture as data: URIs.

    Group (translation 10,0,0; scale 2) has two children:
      CubeNode -> mesh Cube (24 vertices, 12 triangles, -1..1)
      TetNode  -> mesh Tet (4 vertices, 4 triangles, 0..1), translation
                  (3,0,0), rotated 90 degrees about z.
    World space: cube x 8..12, y -2..2, z -2..2; tet x 14..16, y 0..2,
    z 0..2; so the bounding box is 8 x 4 x 4.  16 triangles, 28 vertices,
    materials "Painted" (base colour texture, embedded PNG) and "Plain".
    """
    b = GltfBuilder()
    pos, nrm, idx = cube_arrays()
    uv = [(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0)] * 6
    cube = {"attributes": {"POSITION": b.vec(pos, "VEC3", True), "NORMAL": b.vec(nrm, "VEC3"),
                           "TEXCOORD_0": b.vec(uv, "VEC2")},
            "indices": b.scalars(idx), "material": 0}
    tet = {"attributes": {"POSITION": b.vec(TET_POS, "VEC3", True)},
           "indices": b.scalars(TET_IDX, 5123), "material": 1}
    s = math.sqrt(0.5)
    png = "data:image/png;base64," + base64.b64encode(tiny_png()).decode()
    b.doc.update({
        "images": [{"uri": png}],
        "textures": [{"source": 0}],
        "materials": [
            {"name": "Painted", "pbrMetallicRoughness": {"baseColorTexture": {"index": 0}}},
            {"name": "Plain"},
        ],
        "meshes": [{"name": "Cube", "primitives": [cube]}, {"name": "Tet", "primitives": [tet]}],
        "nodes": [
            {"name": "Group", "translation": [10, 0, 0], "scale": [2, 2, 2], "children": [1, 2]},
            {"name": "CubeNode", "mesh": 0},
            {"name": "TetNode", "mesh": 1, "translation": [3, 0, 0], "rotation": [0, 0, s, s]},
        ],
        "scenes": [{"nodes": [0]}], "scene": 0,
    })
    return b.gltf_embedded()


def textured_cube_glb():
    """textured_cube.glb: the 2x2x2 cube (12 triangles, closed once its
    per-face vertices are welded) with UVs and an embedded 1x1 PNG base
    colour texture: what the quality badge calls gold."""
    b = GltfBuilder()
    pos, nrm, idx = cube_arrays()
    uv = [(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0)] * 6
    prim = {"attributes": {"POSITION": b.vec(pos, "VEC3", True), "NORMAL": b.vec(nrm, "VEC3"),
                           "TEXCOORD_0": b.vec(uv, "VEC2")},
            "indices": b.scalars(idx), "material": 0}
    png = tiny_png()
    view = b._view(png)
    b.doc.update({
        "images": [{"bufferView": view, "mimeType": "image/png"}],
        "textures": [{"source": 0}],
        "materials": [{"name": "Painted", "pbrMetallicRoughness": {"baseColorTexture": {"index": 0}}}],
        "meshes": [{"name": "Cube", "primitives": [prim]}],
        "nodes": [{"name": "Cube", "mesh": 0}],
        "scenes": [{"nodes": [0]}], "scene": 0,
    })
    return b.glb()


def defects_obj():
    """defects.obj: 5 triangles without UVs, with known defects.
    Faces 1 2 3, 2 1 4, 1 2 5 and a repeat of 1 2 3 share edge 1-2 (one
    non-manifold edge); the repeat is one duplicate face; 1 2 6 has its
    corners on a line (one degenerate face).  Open boundary edges: 1-4,
    4-2, 2-5, 5-1 (four).  2 x 2 x 1 metres (OBJ: metres assumed)."""
    lines = ["o Defects", "v 0 0 0", "v 1 0 0", "v 0 1 0", "v 0 -1 0", "v 0 0 1", "v 2 0 0",
             "f 1 2 3", "f 2 1 4", "f 1 2 5", "f 1 2 3", "f 1 2 6"]
    return ("\n".join(lines) + "\n").encode()


def rigged_glb():
    """rigged.glb: the cube skinned to two joints (Bone0, Bone1), one
    animation "Wave" rotating Bone1.  12 triangles, 24 vertices, 2 bones,
    1 animation; bounding box of the bind pose 2 x 2 x 2."""
    b = GltfBuilder()
    pos, nrm, idx = cube_arrays()
    joints = b"".join(struct.pack("<4B", 0 if p[1] < 0 else 1, 0, 0, 0) for p in pos)
    weights = [(1.0, 0.0, 0.0, 0.0)] * len(pos)
    prim = {"attributes": {"POSITION": b.vec(pos, "VEC3", True), "NORMAL": b.vec(nrm, "VEC3"),
                           "JOINTS_0": b.raw_accessor(joints, 5121, len(pos), "VEC4", 34962),
                           "WEIGHTS_0": b.vec(weights, "VEC4")},
            "indices": b.scalars(idx)}
    ident = [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]
    inv1 = [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, -1, 0, 1]  # inverse of translation (0,1,0)
    ibm = b.raw_accessor(struct.pack("<32f", *(ident + inv1)), 5126, 2, "MAT4")
    times = b.scalars([0.0, 1.0], 5126, None)
    s = math.sqrt(0.5)
    rots = b.vec([(0.0, 0.0, 0.0, 1.0), (0.0, 0.0, s, s)], "VEC4", target=None)
    b.doc.update({
        "meshes": [{"name": "Body", "primitives": [prim]}],
        "skins": [{"joints": [1, 2], "inverseBindMatrices": ibm, "skeleton": 1}],
        "nodes": [
            {"name": "Body", "mesh": 0, "skin": 0},
            {"name": "Bone0", "children": [2]},
            {"name": "Bone1", "translation": [0, 1, 0]},
        ],
        "animations": [{"name": "Wave",
                        "samplers": [{"input": times, "output": rots, "interpolation": "LINEAR"}],
                        "channels": [{"sampler": 0, "target": {"node": 2, "path": "rotation"}}]}],
        "scenes": [{"nodes": [0, 1]}], "scene": 0,
    })
    return b.glb()


def grid_glb(target_mb):
    """big.glb: an N x N grid of vertices (positions and normals, 32-bit
    indices), sized to about target_mb megabytes: (N-1)^2 * 2 triangles,
    N^2 vertices, N-1 x 0 x N-1."""
    n = max(2, int(math.sqrt(target_mb * 1e6 / 48)))
    pos = bytearray()
    row = b"".join(struct.pack("<3f", float(x), 0.0, 0.0) for x in range(n))
    for z in range(n):
        zb = struct.pack("<f", float(z))
        pos += b"".join(row[i * 12:i * 12 + 8] + zb for i in range(n))
    nrm = struct.pack("<3f", 0.0, 1.0, 0.0) * (n * n)
    idx = bytearray()
    for z in range(n - 1):
        r0, r1 = z * n, (z + 1) * n
        idx += b"".join(struct.pack("<6I", r0 + x, r1 + x, r0 + x + 1, r0 + x + 1, r1 + x, r1 + x + 1)
                        for x in range(n - 1))
    b = GltfBuilder()
    pa = b.raw_accessor(bytes(pos), 5126, n * n, "VEC3", 34962)
    b.doc["accessors"][pa]["min"] = [0, 0, 0]
    b.doc["accessors"][pa]["max"] = [n - 1, 0, n - 1]
    na = b.raw_accessor(nrm, 5126, n * n, "VEC3", 34962)
    ia = b.raw_accessor(bytes(idx), 5125, (n - 1) * (n - 1) * 6, "SCALAR", 34963)
    b.doc.update({"meshes": [{"name": "Grid", "primitives": [
        {"attributes": {"POSITION": pa, "NORMAL": na}, "indices": ia}]}],
        "nodes": [{"name": "Grid", "mesh": 0}], "scenes": [{"nodes": [0]}], "scene": 0})
    return b.glb(), n


# ---------------------------------------------------------------- OBJ

def cube_obj():
    """cube.obj: 8 positions, 6 quads -> 12 triangles; assimp's OBJ
    importer gives every face corner its own vertex: 24 vertices.  2x2x2.
    References cube.mtl (material "Red"), which must not be opened."""
    lines = ["# hwc3d test cube", "mtllib cube.mtl", "o Cube"]
    corners = [(x, y, z) for x in (-1, 1) for y in (-1, 1) for z in (-1, 1)]
    lines += ["v %d %d %d" % c for c in corners]
    index = {c: i + 1 for i, c in enumerate(corners)}
    lines.append("usemtl Red")
    for _, face in CUBE_FACES:
        lines.append("f " + " ".join(str(index[c]) for c in face))
    return ("\n".join(lines) + "\n").encode()


# ---------------------------------------------------------------- FBX

FBX_CUBE_POS = [(x, y, z) for x in (-1, 1) for y in (-1, 1) for z in (-1, 1)]


def fbx_cube_polys():
    index = {c: i for i, c in enumerate(FBX_CUBE_POS)}
    out = []
    for _, face in CUBE_FACES:
        ids = [index[c] for c in face]
        ids[-1] = -ids[-1] - 1  # FBX marks a polygon's last index as -(i+1)
        out.extend(ids)
    return out


def cube_fbx_ascii():
    """cube_ascii.fbx: FBX 7.4 ASCII, 8 control points, 6 quads -> 12
    triangles, 24 vertices (assimp splits per polygon corner); the model
    node scales by (1, 2, 3): bounding box 2 x 4 x 6.  Material "Red"."""
    verts = ",".join("%d,%d,%d" % p for p in FBX_CUBE_POS)
    polys = ",".join(str(i) for i in fbx_cube_polys())
    return ("""; FBX 7.4.0 project file
; written by hwc3d tests/media/make_models.py
FBXHeaderExtension:  {
	FBXHeaderVersion: 1003
	FBXVersion: 7400
	Creator: "hwc3d make_models.py"
}
Definitions:  {
	Version: 100
	Count: 3
	ObjectType: "Geometry" {
		Count: 1
	}
	ObjectType: "Model" {
		Count: 1
	}
	ObjectType: "Material" {
		Count: 1
	}
}
GlobalSettings:  {
	Version: 1000
	Properties70:  {
		P: "UpAxis", "int", "Integer", "",1
		P: "UnitScaleFactor", "double", "Number", "",1
	}
}
Objects:  {
	Geometry: 1000, "Geometry::Cube", "Mesh" {
		Vertices: *24 {
			a: %s
		}
		PolygonVertexIndex: *24 {
			a: %s
		}
		GeometryVersion: 124
		LayerElementMaterial: 0 {
			Version: 101
			Name: ""
			MappingInformationType: "AllSame"
			ReferenceInformationType: "IndexToDirect"
			Materials: *1 {
				a: 0
			}
		}
		Layer: 0 {
			Version: 100
			LayerElement:  {
				Type: "LayerElementMaterial"
				TypedIndex: 0
			}
		}
	}
	Model: 2000, "Model::Cube", "Mesh" {
		Version: 232
		Properties70:  {
			P: "Lcl Scaling", "Lcl Scaling", "", "A",1,2,3
		}
	}
	Material: 3000, "Material::Red", "" {
		Version: 102
		ShadingModel: "lambert"
		Properties70:  {
			P: "DiffuseColor", "Color", "", "A",1,0,0
		}
	}
}
Connections:  {
	C: "OO",1000,2000
	C: "OO",2000,0
	C: "OO",3000,2000
}
""" % (verts, polys)).encode()


class FbxNode:
    def __init__(self, name, props=(), children=()):
        self.name, self.props, self.children = name, list(props), list(children)


def fbx_prop(p):
    kind, value = p
    if kind == "S":
        v = value.encode() if isinstance(value, str) else value
        return b"S" + struct.pack("<I", len(v)) + v
    if kind in "IDLYF":
        return kind.encode() + struct.pack("<" + {"I": "i", "D": "d", "L": "q", "Y": "h", "F": "f"}[kind], value)
    if kind in "di":  # arrays: (count, encoding, raw bytes) or a list
        if isinstance(value, tuple):
            count, encoding, data = value
        else:
            data = struct.pack("<%d%s" % (len(value), "d" if kind == "d" else "i"), *value)
            count, encoding = len(value), 0
        return kind.encode() + struct.pack("<III", count, encoding, len(data)) + data
    raise ValueError(kind)


def fbx_node_bytes(node, offset, wide=False):
    props = b"".join(fbx_prop(p) for p in node.props)
    name = node.name.encode()
    null = 25 if wide else 13
    head_len = null + len(name)
    body = bytearray()
    pos = offset + head_len + len(props)
    for c in node.children:
        cb = fbx_node_bytes(c, pos, wide)
        body += cb
        pos += len(cb)
    if node.children:
        body += b"\0" * null
    end = offset + head_len + len(props) + len(body)
    head = struct.pack("<QQQB" if wide else "<IIIB", end, len(node.props), len(props), len(name))
    return head + name + props + bytes(body)


def fbx_binary(nodes, version=7400):
    wide = version >= 7500
    out = bytearray(b"Kaydara FBX Binary  \x00\x1a\x00" + struct.pack("<I", version))
    for n in nodes:
        out += fbx_node_bytes(n, len(out), wide)
    out += b"\0" * (25 if wide else 13)
    return bytes(out)


def fbx_p(name, type1, type2, flags, *values):
    props = [("S", name), ("S", type1), ("S", type2), ("S", flags)]
    props += [("D", float(v)) for v in values]
    return FbxNode("P", props)


def fbx_cube_nodes(vertices_prop):
    return [
        FbxNode("FBXHeaderExtension", children=[FbxNode("FBXHeaderVersion", [("I", 1003)]),
                                                FbxNode("FBXVersion", [("I", 7400)])]),
        FbxNode("Definitions", children=[
            FbxNode("Version", [("I", 100)]),
            FbxNode("Count", [("I", 3)])] + [
            FbxNode("ObjectType", [("S", t)], children=[FbxNode("Count", [("I", 1)])])
            for t in ("Geometry", "Model", "Material")]),
        FbxNode("GlobalSettings", children=[
            FbxNode("Version", [("I", 1000)]),
            FbxNode("Properties70", children=[
                FbxNode("P", [("S", "UpAxis"), ("S", "int"), ("S", "Integer"), ("S", ""), ("I", 1)]),
                fbx_p("UnitScaleFactor", "double", "Number", "", 1)])]),
        FbxNode("Objects", children=[
            FbxNode("Geometry", [("L", 1000), ("S", b"Cube\x00\x01Geometry"), ("S", "Mesh")], children=[
                FbxNode("Vertices", [vertices_prop]),
                FbxNode("PolygonVertexIndex", [("i", fbx_cube_polys())]),
                FbxNode("GeometryVersion", [("I", 124)]),
                FbxNode("LayerElementMaterial", [("I", 0)], children=[
                    FbxNode("Version", [("I", 101)]),
                    FbxNode("Name", [("S", "")]),
                    FbxNode("MappingInformationType", [("S", "AllSame")]),
                    FbxNode("ReferenceInformationType", [("S", "IndexToDirect")]),
                    FbxNode("Materials", [("i", [0])])]),
                FbxNode("Layer", [("I", 0)], children=[
                    FbxNode("Version", [("I", 100)]),
                    FbxNode("LayerElement", children=[
                        FbxNode("Type", [("S", "LayerElementMaterial")]),
                        FbxNode("TypedIndex", [("I", 0)])])])]),
            FbxNode("Model", [("L", 2000), ("S", b"Cube\x00\x01Model"), ("S", "Mesh")], children=[
                FbxNode("Version", [("I", 232)]),
                FbxNode("Properties70", children=[
                    fbx_p("Lcl Translation", "Lcl Translation", "", "A", 5, 0, 0),
                    fbx_p("Lcl Scaling", "Lcl Scaling", "", "A", 3, 2, 1)])]),
            FbxNode("Material", [("L", 3000), ("S", b"Blue\x00\x01Material"), ("S", "")], children=[
                FbxNode("Version", [("I", 102)]),
                FbxNode("ShadingModel", [("S", "lambert")]),
                FbxNode("Properties70", children=[
                    fbx_p("DiffuseColor", "Color", "", "A", 0, 0, 1)])]),
        ]),
        FbxNode("Connections", children=[
            FbxNode("C", [("S", "OO"), ("L", 1000), ("L", 2000)]),
            FbxNode("C", [("S", "OO"), ("L", 2000), ("L", 0)]),
            FbxNode("C", [("S", "OO"), ("L", 3000), ("L", 2000)]),
        ]),
    ]


def cube_fbx_binary():
    """cube_binary.fbx: FBX 7.4 binary, the same cube with a zlib
    compressed vertex array; translated (5,0,0), scaled (3, 2, 1): bounding
    box 6 x 4 x 2.  12 triangles, 24 vertices, material "Blue"."""
    raw = struct.pack("<24d", *[float(c) for p in FBX_CUBE_POS for c in p])
    return fbx_binary(fbx_cube_nodes(("d", (24, 1, zlib.compress(raw)))))


def cube_fbx_binary_7500():
    """cube_7500.fbx: the binary cube as FBX 7.5 writes it (64-bit node
    offsets), vertices uncompressed: 8 control points, 6 quads."""
    return fbx_binary(fbx_cube_nodes(("d", [float(c) for p in FBX_CUBE_POS for c in p])), 7500)


def fbx_bomb():
    """bomb.fbx: 1.3 KB; the vertex array declares 536,870,910 doubles
    (4 GiB once inflated).  Must fail on the memory limit, fast."""
    data = zlib.compress(b"\0" * 4096)
    return fbx_binary(fbx_cube_nodes(("d", ((1 << 29) - 2, 1, data))))


# ---------------------------------------------------------------- hostile

def external_gltf(uri):
    """A triangle whose only buffer lives at uri (never to be followed)."""
    doc = {"asset": {"version": "2.0"},
           "buffers": [{"uri": uri, "byteLength": 36}],
           "bufferViews": [{"buffer": 0, "byteLength": 36}],
           "accessors": [{"bufferView": 0, "componentType": 5126, "count": 3, "type": "VEC3",
                          "min": [0, 0, 0], "max": [1, 1, 0]}],
           "meshes": [{"primitives": [{"attributes": {"POSITION": 0}}]}],
           "nodes": [{"mesh": 0}], "scenes": [{"nodes": [0]}], "scene": 0}
    return json.dumps(doc).encode()


def external_image_gltf(uris=("http://example.invalid/wood.png", "../../etc/shadow"), glb=False):
    """A triangle (geometry embedded: 1 triangle, 3 vertices, 1 x 1 x 0)
    whose base colour texture's image is uris[0] and normal map's uris[1].

    image_rel.gltf: relative names inside the model's folder, analysable
    and both reported in external_references (never followed).  Every
    other image_*.gltf / .glb points outside (a URL, file:, an absolute
    path, "..", percent-encoded or with backslashes; in a .glb anything
    but data:) and is refused (issue 8)."""
    uris = list(uris) + list(uris[-1:]) * (2 - len(uris))
    b = GltfBuilder()
    pa = b.vec([(0.0, 0.0, 0.0), (1.0, 0.0, 0.0), (0.0, 1.0, 0.0)], "VEC3", True)
    b.doc.update({
        "images": [{"uri": uris[0]}, {"uri": uris[1]}],
        "textures": [{"source": 0}, {"source": 1}],
        "materials": [{"name": "Wood", "pbrMetallicRoughness": {"baseColorTexture": {"index": 0}},
                       "normalTexture": {"index": 1}}],
        "meshes": [{"primitives": [{"attributes": {"POSITION": pa}, "material": 0}]}],
        "nodes": [{"mesh": 0}], "scenes": [{"nodes": [0]}], "scene": 0})
    return b.glb() if glb else b.gltf_embedded()


# name -> the image uris of a glTF that must be refused
HOSTILE_IMAGE_URIS = {
    "image_ext.gltf": ("http://example.invalid/wood.png", "../../etc/shadow"),
    "image_metadata.gltf": ("http://169.254.169.254/latest/meta-data/iam/security-credentials/",),
    "image_https.gltf": ("wood.png", "HTTPS://example.invalid/normal.png"),
    "image_file.gltf": ("file:///etc/passwd",),
    "image_abs.gltf": ("/etc/passwd",),
    "image_dotdot.gltf": ("textures/../../etc/passwd",),
    "image_encoded.gltf": ("%2E%2E%2F%2E%2E%2Fetc%2Fpasswd",),
    "image_backslash.gltf": ("..\\..\\etc\\passwd",),
    "image_netpath.gltf": ("//169.254.169.254/latest",),
}


def deep_gltf(depth=100000):
    return (b'{"asset":{"version":"2.0"},"extras":' + b"[" * depth + b"]" * depth + b"}")


def huge_buffer_glb():
    """Declares a 4 GB buffer and a billion-vertex accessor over 36 bytes."""
    doc = {"asset": {"version": "2.0"},
           "buffers": [{"byteLength": 4000000000}],
           "bufferViews": [{"buffer": 0, "byteLength": 4000000000}],
           "accessors": [{"bufferView": 0, "componentType": 5126, "count": 333333333, "type": "VEC3",
                          "min": [0, 0, 0], "max": [1, 1, 0]}],
           "meshes": [{"primitives": [{"attributes": {"POSITION": 0}}]}],
           "nodes": [{"mesh": 0}], "scenes": [{"nodes": [0]}], "scene": 0}
    return make_glb(doc, b"\0" * 36)


def huge_chunk_glb():
    """The JSON chunk header claims 4 GB; the file is a few hundred bytes."""
    doc = {"asset": {"version": "2.0"}}
    return make_glb(doc, b"\0" * 36, json_len_override=0xFFFFFFF0)


def huge_bin_chunk_glb():
    """The cube, but its BIN chunk header claims 4 GB."""
    b = GltfBuilder()
    pos, nrm, idx = cube_arrays()
    prim = {"attributes": {"POSITION": b.vec(pos, "VEC3", True)}, "indices": b.scalars(idx)}
    b.doc.update({"meshes": [{"primitives": [prim]}], "nodes": [{"mesh": 0}],
                  "scenes": [{"nodes": [0]}], "scene": 0,
                  "buffers": [{"byteLength": len(b.bin)}]})
    return make_glb(b.doc, bytes(b.bin), bin_len_override=0xFFFFFFF0)


def billions_ply_obj():
    """A PLY header declaring two billion vertices, saved as .obj."""
    return (b"ply\nformat ascii 1.0\nelement vertex 2000000000\nproperty float x\n"
            b"property float y\nproperty float z\nelement face 2000000000\n"
            b"property list uchar int vertex_indices\nend_header\n0 0 0\n1 0 0\n0 1 0\n3 0 1 2\n")


def counts_obj():
    """counts.obj: 12 `v` records of which faces use 11 (one is unused),
    through positive, negative (relative) and v/vt/vn indices: a quad, a
    triangle and a pentagon: 3 faces, 2 + 1 + 3 = 6 triangles; assimp
    imports one vertex per corner: 12."""
    return b"""# hwc3d counts test
v 0 0 0
v 1 0 0
v 1 1 0
v 0 1 0
v 5 5 5
vt 0 0
vn 0 0 1
f 1/1/1 2/1/1 3/1/1 4/1/1
v 0 0 1
v 1 0 1
f -2 -1 3
v 2 0 0
v 3 0 0
v 3 1 0
v 2.5 2 0
v 2 1 0
f 8//1 9//1 10//1 11//1 12//1
"""


def shared_accessor_glb():
    """shared_accessor.glb: one mesh, two primitives that share one
    POSITION accessor of 24 vertices (the cube's triangles split in two
    halves): 24 vertices as stored, 12 triangles; assimp makes one mesh per
    primitive, 48 vertices."""
    b = GltfBuilder()
    pos, nrm, idx = cube_arrays()
    p = b.vec(pos, "VEC3", True)
    prims = [{"attributes": {"POSITION": p}, "indices": b.scalars(idx[:18])},
             {"attributes": {"POSITION": p}, "indices": b.scalars(idx[18:])}]
    b.doc.update({"meshes": [{"name": "Halves", "primitives": prims}],
                  "nodes": [{"name": "Halves", "mesh": 0}], "scenes": [{"nodes": [0]}], "scene": 0})
    return b.glb()


def billions_obj():
    """An OBJ face that points two billion vertices past three real ones."""
    return b"v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 2000000000\n"


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    files = {
        "cube.glb": cube_glb(),
        "two_meshes.gltf": two_meshes_gltf(),
        "rigged.glb": rigged_glb(),
        "textured_cube.glb": textured_cube_glb(),
        "defects.obj": defects_obj(),
        "cube.obj": cube_obj(),
        "cube_ascii.fbx": cube_fbx_ascii(),
        "cube_binary.fbx": cube_fbx_binary(),
        "cube_7500.fbx": cube_fbx_binary_7500(),
        "counts.obj": counts_obj(),
        "shared_accessor.glb": shared_accessor_glb(),
        "image_rel.gltf": external_image_gltf(("textures/wood.png", "normal%20map.png")),
        # hostile
        "bomb.fbx": fbx_bomb(),
        "passwd.gltf": external_gltf("file:///etc/passwd"),
        "dotdot.gltf": external_gltf("../../../../etc/passwd"),
        "http.gltf": external_gltf("http://127.0.0.1:9/buffer.bin"),
        "image_rel.glb": external_image_gltf(("wood.png",), glb=True),
        "image_http.glb": external_image_gltf(("http://169.254.169.254/latest/meta-data/",), glb=True),
        "deep.gltf": deep_gltf(),
        "huge_buffer.glb": huge_buffer_glb(),
        "huge_chunk.glb": huge_chunk_glb(),
        "huge_bin_chunk.glb": huge_bin_chunk_glb(),
        "text.glb": b"This is a text file pretending to be a GLB model.\n",
        "billions.obj": billions_obj(),
        "billions_ply.obj": billions_ply_obj(),
        "empty.obj": b"",
        # The header of a Blender 3.4 file, which assimp 5.2.5 cannot read.
        "modern.blend": b"BLENDER-v304REND" + b"\0" * 64,
    }
    for name, uris in HOSTILE_IMAGE_URIS.items():
        files[name] = external_image_gltf(uris)
    files["truncated.glb"] = files["cube.glb"][: len(files["cube.glb"]) // 2]
    if "--big" in sys.argv:
        mb = float(sys.argv[sys.argv.index("--big") + 1])
        files["big.glb"], _ = grid_glb(mb)
    for name, data in files.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
