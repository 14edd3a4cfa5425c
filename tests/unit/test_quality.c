/*
 * The quality report (src/media/quality.c) on scenes built here, vertex by
 * vertex, so every count is known: topology (non-manifold, boundary,
 * degenerate, duplicate), welding of split vertices, UVs, texture headers,
 * units, the checks of the child's output, and the badge rules.
 * Run alone with `build/test/unit quality`.
 */
#include <assimp/scene.h>
#include <stdlib.h>
#include "t.h"
#include "media/quality.h"
#include "core/util.h"

struct built {
	struct aiScene sc;
	struct aiMesh mesh, *meshes[1];
	struct aiFace faces[64];
	unsigned idx[64][4];
	struct aiVector3D verts[64], uvs[64];
	struct aiTexture tex, *texs[1];
};

/* A one-mesh scene of n vertices and the faces listed (each -1 ended). */
static void build(struct built *b, const float (*v)[3], unsigned nv, const int (*f)[5], unsigned nf)
{
	memset(b, 0, sizeof(*b));
	for (unsigned i = 0; i < nv; i++)
		b->verts[i] = (struct aiVector3D){ v[i][0], v[i][1], v[i][2] };
	for (unsigned i = 0; i < nf; i++) {
		unsigned k = 0;
		while (k < 4 && f[i][k] >= 0) {
			b->idx[i][k] = (unsigned)f[i][k];
			k++;
		}
		b->faces[i].mNumIndices = k;
		b->faces[i].mIndices = b->idx[i];
	}
	b->mesh.mNumVertices = nv;
	b->mesh.mVertices = b->verts;
	b->mesh.mNumFaces = nf;
	b->mesh.mFaces = b->faces;
	b->meshes[0] = &b->mesh;
	b->sc.mNumMeshes = 1;
	b->sc.mMeshes = b->meshes;
}

static json_int_t get(json_t *q, const char *k)
{
	return json_integer_value(json_object_get(q, k));
}

/* defects.obj of tests/media/make_models.py, as assimp imports it: every
 * face corner its own vertex. */
TEST(quality_counts_defects_on_split_vertices)
{
	static const float pos[6][3] = { { 0, 0, 0 }, { 1, 0, 0 }, { 0, 1, 0 }, { 0, -1, 0 }, { 0, 0, 1 }, { 2, 0, 0 } };
	static const int tri[5][3] = { { 0, 1, 2 }, { 1, 0, 3 }, { 0, 1, 4 }, { 0, 1, 2 }, { 0, 1, 5 } };
	float v[15][3];
	int f[5][5];
	for (int i = 0; i < 5; i++) {
		for (int k = 0; k < 3; k++) {
			memcpy(v[i * 3 + k], pos[tri[i][k]], sizeof(v[0]));
			f[i][k] = i * 3 + k;
		}
		f[i][3] = -1;
	}
	struct built *b = xcalloc(1, sizeof(*b));
	build(b, (const float (*)[3])v, 15, (const int (*)[5])f, 5);
	json_t *q = quality_scan(&b->sc, "OBJ");
	CHECK(json_is_true(json_object_get(q, "topology_checked")));
	CHECK(get(q, "non_manifold_edges") == 1);
	CHECK(get(q, "boundary_edges") == 4);
	CHECK(get(q, "degenerate_faces") == 1);
	CHECK(get(q, "duplicate_faces") == 1);
	CHECK(get(q, "edges") == 7);
	CHECK(get(q, "meshes_with_uvs") == 0 && get(q, "meshes_with_faces") == 1);
	CHECK(json_real_value(json_object_get(q, "unit_scale")) == 1.0);
	CHECK(strstr(json_string_value(json_object_get(q, "unit_note")), "assumed") != NULL);
	json_decref(q);
	free(b);
}

/* A closed tetrahedron, a repeated corner, a quad duplicate in another
 * order, and an out-of-range index (skipped, never read). */
TEST(quality_closed_mesh_and_odd_faces)
{
	static const float v[4][3] = { { 0, 0, 0 }, { 1, 0, 0 }, { 0, 1, 0 }, { 0, 0, 1 } };
	static const int tet[4][5] = { { 0, 2, 1, -1 }, { 0, 1, 3, -1 }, { 0, 3, 2, -1 }, { 1, 2, 3, -1 } };
	struct built *b = xcalloc(1, sizeof(*b));
	build(b, v, 4, tet, 4);
	json_t *q = quality_scan(&b->sc, "GLB");
	CHECK(get(q, "boundary_edges") == 0 && get(q, "non_manifold_edges") == 0);
	CHECK(get(q, "degenerate_faces") == 0 && get(q, "duplicate_faces") == 0 && get(q, "edges") == 6);
	CHECK(!strcmp(json_string_value(json_object_get(q, "unit_note")), "glTF is in metres"));
	json_decref(q);

	static const float sq[4][3] = { { 0, 0, 0 }, { 1, 0, 0 }, { 1, 1, 0 }, { 0, 1, 0 } };
	static const int odd[4][5] = { { 0, 1, 2, 3, -1 }, { 2, 3, 0, 1, -1 }, { 0, 0, 1, -1 }, { 0, 1, 9, -1 } };
	build(b, sq, 4, odd, 4);
	q = quality_scan(&b->sc, "FBX");
	CHECK(get(q, "duplicate_faces") == 1);
	CHECK(get(q, "degenerate_faces") == 1);
	CHECK(get(q, "boundary_edges") == 0 && get(q, "edges") == 4); /* the two quads close each other */
	/* FBX without UnitScaleFactor: centimetres */
	CHECK(json_real_value(json_object_get(q, "unit_scale")) == 0.01);
	json_decref(q);
	free(b);
}

TEST(quality_uvs_and_texture_headers)
{
	static const float v[3][3] = { { 0, 0, 0 }, { 1, 0, 0 }, { 0, 1, 0 } };
	static const int f[1][5] = { { 0, 1, 2, -1 } };
	struct built *b = xcalloc(1, sizeof(*b));
	build(b, v, 3, f, 1);
	b->mesh.mTextureCoords[0] = b->uvs;
	b->mesh.mNumUVComponents[0] = 2;
	/* a PNG header: 640 x 480 */
	static const unsigned char png[] = "\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR\0\0\x02\x80\0\0\x01\xe0\x08\x02\0\0\0";
	b->tex.mWidth = sizeof(png) - 1;
	b->tex.mHeight = 0;
	b->tex.pcData = (struct aiTexel *)png;
	b->texs[0] = &b->tex;
	b->sc.mNumTextures = 1;
	b->sc.mTextures = b->texs;
	json_t *q = quality_scan(&b->sc, "GLB");
	CHECK(get(q, "meshes_with_uvs") == 1);
	json_t *t = json_array_get(json_object_get(q, "textures"), 0);
	CHECK(get(t, "width") == 640 && get(t, "height") == 480);
	CHECK_STR(json_string_value(json_object_get(t, "format")), "png");
	json_decref(q);

	/* a JPEG: SOI, an APP0 segment, SOF0 with 300 x 200 */
	static const unsigned char jpg[] = "\xff\xd8\xff\xe0\0\x04\0\0\xff\xc0\0\x11\x08\0\xc8\x01\x2c\x03\0\0\0\0\0\0";
	b->tex.mWidth = sizeof(jpg) - 1;
	b->tex.pcData = (struct aiTexel *)jpg;
	q = quality_scan(&b->sc, "GLB");
	t = json_array_get(json_object_get(q, "textures"), 0);
	CHECK(get(t, "width") == 300 && get(t, "height") == 200);
	json_decref(q);

	/* garbage: resolution unknown, never a crash; a truncated JPEG too */
	static const unsigned char junk[] = "\xff\xd8\xff\xc0\0";
	b->tex.mWidth = sizeof(junk) - 1;
	b->tex.pcData = (struct aiTexel *)junk;
	q = quality_scan(&b->sc, "GLB");
	t = json_array_get(json_object_get(q, "textures"), 0);
	CHECK(json_is_null(json_object_get(t, "width")));
	json_decref(q);
	free(b);
}

/* What the server keeps of the child's output, and the badge. */
static json_t *analysis(json_int_t tris, json_t *quality, double dim)
{
	return json_pack("{s:I, s:I, s:i, s:[s], s:[], s:{s:f, s:f, s:f}, s:i, s:i, s:o}", "poly_count", tris,
			 "vertex_count", tris, "mesh_count", 1, "materials", "m", "textures", "dimensions", "x", dim,
			 "y", dim, "z", dim, "animation_count", 0, "bone_count", 0, "quality", quality);
}

static json_t *scan(int uv, json_int_t defects, int textures)
{
	json_t *tex = json_array();
	for (int i = 0; i < textures; i++)
		json_array_append_new(tex, json_pack("{s:s, s:s, s:i, s:i, s:s}", "source", "embedded", "name", "*0",
						     "width", 4, "height", 4, "format", "png"));
	return json_pack("{s:o, s:i, s:i, s:b, s:i, s:I, s:i, s:i, s:i, s:f, s:s}", "textures", tex,
			 "meshes_with_faces", 2, "meshes_with_uvs", uv, "topology_checked", 1, "edges", 100,
			 "non_manifold_edges", defects, "boundary_edges", 3, "degenerate_faces", 0,
			 "duplicate_faces", 0, "unit_scale", 1.0, "unit_note", "glTF is in metres");
}

static const char *badge_of(json_int_t tris, int uv, json_int_t defects, int textures, double dim)
{
	static char out[16];
	json_t *raw = scan(uv, defects, textures), *checked = quality_checked(raw);
	json_decref(raw);
	json_t *a = analysis(tris, checked, dim);
	CHECK(quality_finish(a));
	CHECK(quality_finish(a)); /* idempotent */
	snprintf(out, sizeof(out), "%s", quality_badge(json_object_get(a, "quality")));
	json_decref(a);
	return out;
}

TEST(quality_badge_rules)
{
	CHECK_STR(badge_of(1000, 2, 0, 1, 2.0), "gold");
	CHECK_STR(badge_of(1000, 1, 0, 1, 2.0), "silver");     /* UVs on one mesh of two */
	CHECK_STR(badge_of(1000, 2, 0, 0, 2.0), "silver");     /* no texture */
	CHECK_STR(badge_of(1000, 2, 10, 1, 2.0), "silver");    /* 1% of triangles */
	CHECK_STR(badge_of(1000, 2, 11, 1, 2.0), "bronze");    /* over 1% */
	CHECK_STR(badge_of(1000, 0, 0, 1, 2.0), "bronze");     /* no UVs */
	CHECK_STR(badge_of(1000, 2, 0, 1, 5000.0), "bronze");  /* 5 km */
	CHECK_STR(badge_of(1000, 2, 0, 1, 0.001), "bronze");   /* 1 mm */
}

TEST(quality_checked_refuses_malformed_output)
{
	json_t *good = scan(1, 0, 1), *c = quality_checked(good);
	CHECK(c != NULL);
	json_decref(c);
	static const char *const bad[] = {
		"{}", "[]",
		"{\"textures\":[],\"meshes_with_faces\":-1,\"meshes_with_uvs\":0,\"topology_checked\":true,\"edges\":null,"
		"\"non_manifold_edges\":null,\"boundary_edges\":null,\"degenerate_faces\":null,\"duplicate_faces\":null,"
		"\"unit_scale\":1.0,\"unit_note\":\"x\"}",
		"{\"textures\":[],\"meshes_with_faces\":1,\"meshes_with_uvs\":0,\"topology_checked\":true,\"edges\":null,"
		"\"non_manifold_edges\":\"1\",\"boundary_edges\":null,\"degenerate_faces\":null,\"duplicate_faces\":null,"
		"\"unit_scale\":1.0,\"unit_note\":\"x\"}",
		"{\"textures\":[],\"meshes_with_faces\":1,\"meshes_with_uvs\":0,\"topology_checked\":true,\"edges\":null,"
		"\"non_manifold_edges\":null,\"boundary_edges\":null,\"degenerate_faces\":null,\"duplicate_faces\":null,"
		"\"unit_scale\":0,\"unit_note\":\"x\"}",
		"{\"textures\":[{\"source\":\"http\",\"name\":\"a\",\"width\":1,\"height\":1}],\"meshes_with_faces\":1,"
		"\"meshes_with_uvs\":0,\"topology_checked\":true,\"edges\":null,\"non_manifold_edges\":null,"
		"\"boundary_edges\":null,\"degenerate_faces\":null,\"duplicate_faces\":null,\"unit_scale\":1.0,\"unit_note\":\"x\"}",
	};
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		json_t *in = json_loads(bad[i], JSON_DECODE_ANY, NULL);
		json_t *out = quality_checked(in);
		if (out)
			fprintf(stderr, "    accepted: %s\n", bad[i]);
		CHECK(out == NULL);
		json_decref(in);
	}
	/* extra keys from the child are dropped */
	json_object_set_new(good, "evil", json_string("<script>"));
	c = quality_checked(good);
	CHECK(c && !json_object_get(c, "evil"));
	json_decref(c);
	json_decref(good);
}

/* Past QUALITY_MAX_CORNERS the topology pass is skipped, not attempted. */
TEST(quality_topology_is_bounded)
{
	static const float v[3][3] = { { 0, 0, 0 }, { 1, 0, 0 }, { 0, 1, 0 } };
	static const int f[1][5] = { { 0, 1, 2, -1 } };
	struct built *b = xcalloc(1, sizeof(*b));
	build(b, v, 3, f, 1);
	unsigned n = QUALITY_MAX_CORNERS / 3 + 1;
	struct aiFace *faces = xcalloc(n, sizeof(*faces));
	for (unsigned i = 0; i < n; i++) {
		faces[i].mNumIndices = 3;
		faces[i].mIndices = b->idx[0];
	}
	b->mesh.mFaces = faces;
	b->mesh.mNumFaces = n;
	json_t *q = quality_scan(&b->sc, "GLB");
	CHECK(json_is_false(json_object_get(q, "topology_checked")));
	CHECK(json_is_null(json_object_get(q, "non_manifold_edges")) && json_is_null(json_object_get(q, "duplicate_faces")));
	json_decref(q);
	/* one corner fewer than the bound: checked (every face a duplicate) */
	b->mesh.mNumFaces = QUALITY_MAX_CORNERS / 3;
	q = quality_scan(&b->sc, "GLB");
	CHECK(json_is_true(json_object_get(q, "topology_checked")));
	CHECK(get(q, "duplicate_faces") == QUALITY_MAX_CORNERS / 3 - 1);
	json_decref(q);
	free(faces);
	free(b);
}
