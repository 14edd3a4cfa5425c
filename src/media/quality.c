/*
 * quality.c: the quality report (quality.h).  The scan half runs in the
 * sandboxed analysis child on assimp's scene; the rest in the server on
 * the child's (untrusted) output.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>
#include <assimp/material.h>
#include <assimp/scene.h>
#include "media/quality.h"
#include "core/util.h"

/* ------------------------------------------------------ texture headers */

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint32_t le24(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16;
}

/* Width and height from an image file's header: PNG, JPEG, WebP.  False
 * when the bytes are none of these or too short. */
static bool image_dims(const unsigned char *d, size_t n, uint32_t *w, uint32_t *h, const char **fmt)
{
	if (n >= 24 && !memcmp(d, "\x89PNG\r\n\x1a\n", 8) && !memcmp(d + 12, "IHDR", 4)) {
		*w = be32(d + 16);
		*h = be32(d + 20);
		*fmt = "png";
		return true;
	}
	if (n >= 4 && d[0] == 0xFF && d[1] == 0xD8) {
		size_t i = 2;
		while (i + 9 < n) {
			if (d[i] != 0xFF) {
				i++;
				continue;
			}
			unsigned char m = d[i + 1];
			if (m == 0xFF) {
				i++;
				continue;
			}
			if (m == 0xD8 || m == 0x01 || (m >= 0xD0 && m <= 0xD7)) {
				i += 2;
				continue;
			}
			size_t len = (size_t)d[i + 2] << 8 | d[i + 3];
			if (m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC) {
				*h = (uint32_t)d[i + 5] << 8 | d[i + 6];
				*w = (uint32_t)d[i + 7] << 8 | d[i + 8];
				*fmt = "jpeg";
				return true;
			}
			if (len < 2)
				return false;
			i += 2 + len;
		}
		return false;
	}
	if (n >= 30 && !memcmp(d, "RIFF", 4) && !memcmp(d + 8, "WEBP", 4)) {
		*fmt = "webp";
		if (!memcmp(d + 12, "VP8X", 4)) {
			*w = le24(d + 24) + 1;
			*h = le24(d + 27) + 1;
			return true;
		}
		if (!memcmp(d + 12, "VP8L", 4) && d[20] == 0x2f) {
			uint32_t b = (uint32_t)d[21] | (uint32_t)d[22] << 8 | (uint32_t)d[23] << 16 | (uint32_t)d[24] << 24;
			*w = (b & 0x3FFF) + 1;
			*h = ((b >> 14) & 0x3FFF) + 1;
			return true;
		}
		if (!memcmp(d + 12, "VP8 ", 4) && d[23] == 0x9d && d[24] == 0x01 && d[25] == 0x2a) {
			*w = ((uint32_t)d[26] | (uint32_t)d[27] << 8) & 0x3FFF;
			*h = ((uint32_t)d[28] | (uint32_t)d[29] << 8) & 0x3FFF;
			return true;
		}
	}
	return false;
}

static json_t *texture_entry(const char *source, const char *name, size_t name_len, json_t *w, json_t *h,
			     const char *fmt)
{
	char clean[129];
	size_t k = 0;
	for (size_t i = 0; i < name_len && k < sizeof(clean) - 1; i++)
		clean[k++] = (unsigned char)name[i] < 0x20 || (unsigned char)name[i] >= 0x7f ? '?' : name[i];
	clean[k] = '\0';
	return json_pack("{s:s, s:s, s:o, s:o, s:s?}", "source", source, "name", clean, "width", w, "height", h,
			 "format", fmt);
}

static void scan_textures(const struct aiScene *sc, json_t *out)
{
	json_t *list = json_array();
	for (unsigned i = 0; i < sc->mNumTextures && json_array_size(list) < QUALITY_MAX_TEXTURES; i++) {
		const struct aiTexture *t = sc->mTextures[i];
		uint32_t w = 0, h = 0;
		const char *fmt = NULL;
		bool known;
		if (t->mHeight == 0) /* compressed: mWidth bytes of a file */
			known = t->pcData && image_dims((const unsigned char *)t->pcData, t->mWidth, &w, &h, &fmt);
		else {
			known = true;
			w = t->mWidth;
			h = t->mHeight;
			fmt = "raw";
		}
		char name[32];
		snprintf(name, sizeof(name), "*%u", i);
		const char *nm = t->mFilename.length ? t->mFilename.data : name;
		json_array_append_new(list, texture_entry("embedded", nm, strlen(nm),
							  known ? json_integer(w) : json_null(),
							  known ? json_integer(h) : json_null(), fmt));
	}
	/* External files the materials name: resolution unknown (never read). */
	for (unsigned m = 0; m < sc->mNumMaterials; m++) {
		for (int t = 1; t <= aiTextureType_TRANSMISSION; t++) {
			unsigned n = aiGetMaterialTextureCount(sc->mMaterials[m], (enum aiTextureType)t);
			for (unsigned k = 0; k < n && k < 16; k++) {
				struct aiString p;
				if (aiGetMaterialTexture(sc->mMaterials[m], (enum aiTextureType)t, k, &p, NULL, NULL,
							 NULL, NULL, NULL, NULL) != aiReturn_SUCCESS || !p.length ||
				    p.data[0] == '*' || json_array_size(list) >= QUALITY_MAX_TEXTURES)
					continue;
				bool embedded = false, dup = false;
				for (unsigned e = 0; e < sc->mNumTextures && !embedded; e++)
					embedded = !strcmp(sc->mTextures[e]->mFilename.data, p.data);
				size_t j;
				json_t *x;
				json_array_foreach(list, j, x)
					dup = dup || !strncmp(json_string_value(json_object_get(x, "name")), p.data, 128);
				if (!embedded && !dup)
					json_array_append_new(list, texture_entry("external", p.data, p.length,
										  json_null(), json_null(), NULL));
			}
		}
	}
	json_object_set_new(out, "textures", list);
}

/* ------------------------------------------------------------- topology */

/* Open-addressing tables with capacity a power of two at least twice the
 * entries: sized by the mesh, so a hostile file costs memory in proportion
 * to what it already made assimp allocate, and QUALITY_MAX_CORNERS caps it. */
static size_t table_cap(size_t entries)
{
	size_t c = 16;
	while (c < entries * 2)
		c <<= 1;
	return c;
}

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

static uint32_t fbits(float f)
{
	if (f == 0.0f)
		f = 0.0f; /* -0 and 0 are one position */
	uint32_t u;
	memcpy(&u, &f, sizeof(u));
	return u;
}

struct edge {
	uint32_t a, b; /* position ids, a < b; a == UINT32_MAX: empty */
	uint32_t faces;
};

struct topo {
	uint64_t non_manifold, boundary, degenerate, duplicate, edges;
};

/* Position ids for a mesh's vertices: equal positions, equal ids. */
static uint32_t *weld(const struct aiMesh *m)
{
	unsigned n = m->mNumVertices;
	uint32_t *id = xmalloc((n ? n : 1) * sizeof(*id));
	size_t cap = table_cap(n);
	uint32_t *slot = xmalloc(cap * sizeof(*slot)); /* vertex index + 1; 0 empty */
	memset(slot, 0, cap * sizeof(*slot));
	for (unsigned v = 0; v < n; v++) {
		const struct aiVector3D *p = &m->mVertices[v];
		uint32_t bx = fbits(p->x), by = fbits(p->y), bz = fbits(p->z);
		size_t i = mix64((uint64_t)bx << 32 ^ (uint64_t)by << 16 ^ bz) & (cap - 1);
		for (;;) {
			if (!slot[i]) {
				slot[i] = v + 1;
				id[v] = v;
				break;
			}
			const struct aiVector3D *q = &m->mVertices[slot[i] - 1];
			if (fbits(q->x) == bx && fbits(q->y) == by && fbits(q->z) == bz) {
				id[v] = slot[i] - 1;
				break;
			}
			i = (i + 1) & (cap - 1);
		}
	}
	free(slot);
	return id;
}

static void edge_add(struct edge *t, size_t cap, uint32_t a, uint32_t b, uint64_t *edges)
{
	if (a > b) {
		uint32_t x = a;
		a = b;
		b = x;
	}
	size_t i = mix64((uint64_t)a << 32 | b) & (cap - 1);
	while (t[i].a != UINT32_MAX && !(t[i].a == a && t[i].b == b))
		i = (i + 1) & (cap - 1);
	if (t[i].a == UINT32_MAX) {
		t[i] = (struct edge){ a, b, 0 };
		(*edges)++;
	}
	t[i].faces++;
}

static int cmp_u32(const void *x, const void *y)
{
	uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
	return a < b ? -1 : a > b;
}

/* True when the face was already seen (the same set of corners). */
static bool face_seen(uint64_t *t, size_t cap, const uint32_t *ids, unsigned n)
{
	uint32_t s[QUALITY_MAX_NGON];
	memcpy(s, ids, n * sizeof(*s));
	qsort(s, n, sizeof(*s), cmp_u32);
	uint64_t h = 0x9e3779b97f4a7c15ULL ^ n;
	for (unsigned k = 0; k < n; k++)
		h = mix64(h ^ s[k]) + k;
	if (!h)
		h = 1;
	size_t i = h & (cap - 1);
	while (t[i] && t[i] != h)
		i = (i + 1) & (cap - 1);
	if (t[i])
		return true;
	t[i] = h;
	return false;
}

/* Zero area: the Newell normal of the polygon is (close to) nothing
 * beside its longest edge, or two corners are one position. */
static bool degenerate(const struct aiMesh *m, const struct aiFace *f, const uint32_t *pid)
{
	unsigned n = f->mNumIndices;
	double nx = 0, ny = 0, nz = 0, longest = 0;
	for (unsigned k = 0; k < n; k++) {
		unsigned i = f->mIndices[k], j = f->mIndices[(k + 1) % n];
		if (pid[i] == pid[j])
			return true;
		const struct aiVector3D *a = &m->mVertices[i], *b = &m->mVertices[j];
		nx += ((double)a->y - b->y) * ((double)a->z + b->z);
		ny += ((double)a->z - b->z) * ((double)a->x + b->x);
		nz += ((double)a->x - b->x) * ((double)a->y + b->y);
		double dx = (double)a->x - b->x, dy = (double)a->y - b->y, dz = (double)a->z - b->z;
		double l = dx * dx + dy * dy + dz * dz;
		if (l > longest)
			longest = l;
	}
	if (n == 3) {
		uint32_t a = pid[f->mIndices[0]], b = pid[f->mIndices[1]], c = pid[f->mIndices[2]];
		if (a == b || b == c || a == c)
			return true;
	}
	double area2 = nx * nx + ny * ny + nz * nz; /* (2 * area)^2 */
	return !(area2 > 1e-14 * longest * longest);
}

static void scan_mesh(const struct aiMesh *m, struct topo *t)
{
	size_t corners = 0, faces = 0;
	for (unsigned f = 0; f < m->mNumFaces; f++)
		if (m->mFaces[f].mNumIndices >= 3) {
			corners += m->mFaces[f].mNumIndices;
			faces++;
		}
	if (!faces)
		return;
	uint32_t *pid = weld(m);
	size_t ecap = table_cap(corners), fcap = table_cap(faces);
	struct edge *edges = xmalloc(ecap * sizeof(*edges));
	for (size_t i = 0; i < ecap; i++)
		edges[i].a = UINT32_MAX;
	uint64_t *seen = xcalloc(fcap, sizeof(*seen));
	uint32_t ids[QUALITY_MAX_NGON];
	for (unsigned f = 0; f < m->mNumFaces; f++) {
		const struct aiFace *face = &m->mFaces[f];
		unsigned n = face->mNumIndices;
		if (n < 3)
			continue;
		bool ok = true;
		for (unsigned k = 0; k < n; k++)
			ok = ok && face->mIndices[k] < m->mNumVertices;
		if (!ok)
			continue; /* ValidateDataStructure refuses these; never trust it */
		if (degenerate(m, face, pid)) {
			t->degenerate++;
			continue; /* its edges would count as non-manifold noise */
		}
		for (unsigned k = 0; k < n; k++)
			edge_add(edges, ecap, pid[face->mIndices[k]], pid[face->mIndices[(k + 1) % n]], &t->edges);
		if (n <= QUALITY_MAX_NGON) {
			for (unsigned k = 0; k < n; k++)
				ids[k] = pid[face->mIndices[k]];
			if (face_seen(seen, fcap, ids, n))
				t->duplicate++;
		}
	}
	for (size_t i = 0; i < ecap; i++) {
		if (edges[i].a == UINT32_MAX)
			continue;
		if (edges[i].faces == 1)
			t->boundary++;
		else if (edges[i].faces > 2)
			t->non_manifold++;
	}
	free(seen);
	free(edges);
	free(pid);
}

/* ----------------------------------------------------------------- units */

/* Metres per file unit, with the reason. */
static double unit_scale(const struct aiScene *sc, const char *format, const char **note)
{
	if (!strcmp(format, "OBJ")) {
		*note = "OBJ files carry no unit: metres assumed";
		return 1.0;
	}
	if (!strcmp(format, "FBX")) {
		const struct aiMetadata *md = sc->mMetaData;
		for (unsigned i = 0; md && i < md->mNumProperties; i++) {
			if (strcmp(md->mKeys[i].data, "UnitScaleFactor"))
				continue;
			double f = -1;
			if (md->mValues[i].mType == AI_DOUBLE)
				f = *(const double *)md->mValues[i].mData;
			else if (md->mValues[i].mType == AI_FLOAT)
				f = *(const float *)md->mValues[i].mData;
			if (isfinite(f) && f > 0 && f < 1e9) {
				*note = "FBX UnitScaleFactor (centimetres per unit)";
				return f / 100.0;
			}
		}
		*note = "FBX without a UnitScaleFactor: centimetres assumed (FBX's default)";
		return 0.01;
	}
	if (!strcmp(format, "BLEND")) {
		*note = "converted by Blender to glTF, which is in metres";
		return 1.0;
	}
	*note = "glTF is in metres";
	return 1.0;
}

json_t *quality_scan(const struct aiScene *sc, const char *format)
{
	json_t *out = json_object();
	scan_textures(sc, out);
	unsigned with_uv = 0, with_faces = 0;
	size_t corners = 0;
	for (unsigned i = 0; i < sc->mNumMeshes; i++) {
		const struct aiMesh *m = sc->mMeshes[i];
		bool faces = false;
		for (unsigned f = 0; f < m->mNumFaces; f++) {
			if (m->mFaces[f].mNumIndices >= 3) {
				faces = true;
				corners += m->mFaces[f].mNumIndices;
			}
		}
		if (faces) {
			with_faces++;
			with_uv += m->mTextureCoords[0] != NULL && m->mNumUVComponents[0] >= 2;
		}
	}
	json_object_set_new(out, "meshes_with_faces", json_integer(with_faces));
	json_object_set_new(out, "meshes_with_uvs", json_integer(with_uv));
	bool checked = corners <= QUALITY_MAX_CORNERS;
	struct topo t = { 0 };
	if (checked)
		for (unsigned i = 0; i < sc->mNumMeshes; i++)
			scan_mesh(sc->mMeshes[i], &t);
	json_object_set_new(out, "topology_checked", json_boolean(checked));
	json_object_set_new(out, "edges", checked ? json_integer((json_int_t)t.edges) : json_null());
	json_object_set_new(out, "non_manifold_edges", checked ? json_integer((json_int_t)t.non_manifold) : json_null());
	json_object_set_new(out, "boundary_edges", checked ? json_integer((json_int_t)t.boundary) : json_null());
	json_object_set_new(out, "degenerate_faces", checked ? json_integer((json_int_t)t.degenerate) : json_null());
	json_object_set_new(out, "duplicate_faces", checked ? json_integer((json_int_t)t.duplicate) : json_null());
	const char *note;
	double scale = unit_scale(sc, format, &note);
	json_object_set_new(out, "unit_scale", json_real(scale));
	json_object_set_new(out, "unit_note", json_string(note));
	return out;
}

/* ------------------------------------------------- the server's half */

static bool count_or_null(json_t *v)
{
	return json_is_null(v) || (json_is_integer(v) && json_integer_value(v) >= 0);
}

json_t *quality_checked(json_t *in)
{
	static const char *const counts[] = { "meshes_with_faces", "meshes_with_uvs" };
	static const char *const topo[] = { "edges", "non_manifold_edges", "boundary_edges", "degenerate_faces",
					    "duplicate_faces" };
	if (!json_is_object(in) || !json_is_boolean(json_object_get(in, "topology_checked")))
		return NULL;
	for (size_t i = 0; i < ARRAY_LEN(counts); i++) {
		json_t *v = json_object_get(in, counts[i]);
		if (!json_is_integer(v) || json_integer_value(v) < 0)
			return NULL;
	}
	for (size_t i = 0; i < ARRAY_LEN(topo); i++)
		if (!count_or_null(json_object_get(in, topo[i])))
			return NULL;
	json_t *scale = json_object_get(in, "unit_scale");
	const char *note = json_string_value(json_object_get(in, "unit_note"));
	if (!json_is_number(scale) || !(json_number_value(scale) > 0) || json_number_value(scale) > 1e7 || !note ||
	    strlen(note) > 200)
		return NULL;
	json_t *tex = json_object_get(in, "textures");
	if (!json_is_array(tex) || json_array_size(tex) > QUALITY_MAX_TEXTURES)
		return NULL;
	json_t *out = json_object(), *list = json_array();
	size_t i;
	json_t *e;
	json_array_foreach(tex, i, e) {
		const char *src = json_string_value(json_object_get(e, "source"));
		const char *name = json_string_value(json_object_get(e, "name"));
		const char *fmt = json_string_value(json_object_get(e, "format"));
		json_t *w = json_object_get(e, "width"), *h = json_object_get(e, "height");
		if (!src || (strcmp(src, "embedded") && strcmp(src, "external")) || !name || strlen(name) > 128 ||
		    !count_or_null(w) || !count_or_null(h) || (fmt && strlen(fmt) > 8)) {
			json_decref(list);
			json_decref(out);
			return NULL;
		}
		json_array_append_new(list, json_pack("{s:s, s:s, s:O, s:O, s:s?}", "source", src, "name", name,
						      "width", w, "height", h, "format", fmt));
	}
	json_object_set_new(out, "textures", list);
	for (size_t k = 0; k < ARRAY_LEN(counts); k++)
		json_object_set(out, counts[k], json_object_get(in, counts[k]));
	for (size_t k = 0; k < ARRAY_LEN(topo); k++)
		json_object_set(out, topo[k], json_object_get(in, topo[k]));
	json_object_set(out, "topology_checked", json_object_get(in, "topology_checked"));
	json_object_set_new(out, "unit_scale", json_real(json_number_value(scale)));
	json_object_set_new(out, "unit_note", json_string(note));
	return out;
}

static json_int_t int_of(json_t *o, const char *key)
{
	return json_integer_value(json_object_get(o, key));
}

static double round6(double v)
{
	return round(v * 1e6) / 1e6 + 0.0;
}

bool quality_finish(json_t *a)
{
	json_t *q = json_object_get(a, "quality");
	if (!json_is_object(q) || !json_object_get(q, "unit_scale"))
		return false;
	/* the analysis's counts, as the authoring tool shows them */
	json_object_set(q, "triangles", json_object_get(a, "poly_count"));
	json_object_set(q, "vertices", json_object_get(a, "vertex_count"));
	json_object_set(q, "meshes", json_object_get(a, "mesh_count"));
	json_object_set_new(q, "materials", json_integer((json_int_t)json_array_size(json_object_get(a, "materials"))));
	json_object_set(q, "animations", json_object_get(a, "animation_count"));
	json_object_set(q, "bones", json_object_get(a, "bone_count"));
	size_t ntex = json_array_size(json_object_get(a, "textures"));
	if (json_array_size(json_object_get(q, "textures")) > ntex)
		ntex = json_array_size(json_object_get(q, "textures"));
	json_object_set_new(q, "texture_count", json_integer((json_int_t)ntex));
	json_int_t meshes = int_of(q, "meshes_with_faces"), uv = int_of(q, "meshes_with_uvs");
	double share = meshes ? (double)uv / (double)meshes : 0.0;
	json_object_set_new(q, "uv_coverage", json_real(round6(share)));
	double scale = json_number_value(json_object_get(q, "unit_scale"));
	json_t *d = json_object_get(a, "dimensions");
	double dx = json_number_value(json_object_get(d, "x")) * scale, dy = json_number_value(json_object_get(d, "y")) * scale,
	       dz = json_number_value(json_object_get(d, "z")) * scale;
	json_object_set_new(q, "dimensions", json_pack("{s:f, s:f, s:f, s:s}", "x", round6(dx), "y", round6(dy),
							 "z", round6(dz), "unit", "m"));

	/* the badge (docs/quality.md) */
	json_t *why = json_array();
	bool topo = json_is_true(json_object_get(q, "topology_checked"));
	json_int_t nm = int_of(q, "non_manifold_edges"), dg = int_of(q, "degenerate_faces"),
		   dup = int_of(q, "duplicate_faces"), tris = int_of(a, "poly_count");
	double largest = MAX(dx, MAX(dy, dz));
	bool sensible = largest >= 0.01 && largest <= 1000;
	bool gold = true, silver = true;
	if (!topo) {
		gold = silver = false;
		json_array_append_new(why, json_string("topology not checked (too many faces)"));
	} else {
		json_int_t defects = nm + dg + dup;
		if (defects) {
			gold = false;
			json_array_append_new(why, json_sprintf("%lld non-manifold edges, %lld degenerate and %lld "
								"duplicate faces", (long long)nm, (long long)dg, (long long)dup));
		}
		if ((double)defects > 0.01 * (double)(tris > 0 ? tris : 1)) {
			silver = false;
			json_array_append_new(why, json_string("defects on more than 1% of the triangles"));
		}
	}
	if (uv < meshes || !meshes) {
		gold = false;
		json_array_append_new(why, json_sprintf("UVs on %lld of %lld meshes", (long long)uv, (long long)meshes));
		if (!uv)
			silver = false;
	}
	if (!ntex) {
		gold = false;
		json_array_append_new(why, json_string("no textures"));
	}
	if (!sensible) {
		gold = silver = false;
		json_array_append_new(why, json_sprintf("largest side %.6g m (a sensible size is 0.01-1000 m)", largest));
	}
	json_object_set_new(q, "badge", json_string(gold ? "gold" : silver ? "silver" : "bronze"));
	json_object_set_new(q, "badge_reasons", why);
	return true;
}

const char *quality_badge(json_t *report)
{
	const char *b = json_string_value(json_object_get(report, "badge"));
	if (b && (!strcmp(b, "gold") || !strcmp(b, "silver") || !strcmp(b, "bronze")))
		return b;
	return NULL;
}
