/*
 * Model analysis in the sandboxed child, and the sandbox itself.
 *
 * The models come from tests/media/make_models.py (known geometry, see its
 * docstrings) written into a temp dir on first use; the child is the real
 * test binary build/test/hwc3d (our own binary is the unit runner).
 * Run alone with `build/test/unit analyze` (or `sandbox`).
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include "t.h"
#include "media/analyze.h"
#include "media/sandbox.h"
#include "core/util.h"

static char dir[64];
static char exe[4096];

static void remove_dir(void)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "    could not remove %s\n", dir);
}

/* The models' directory, made on first use; NULL (and a failed check) if
 * the generator or the child binary is missing. */
static const char *models(void)
{
	static int state; /* 0 not tried, 1 ready, -1 failed */
	if (state)
		return state > 0 ? dir : NULL;
	state = -1;
	if (!realpath("build/test/hwc3d", exe)) {
		fprintf(stderr, "    build/test/hwc3d is missing (make test-build)\n");
		return NULL;
	}
	analyze_set_exe(exe);
	snprintf(dir, sizeof(dir), "/tmp/hwc3d-models.XXXXXX");
	if (!mkdtemp(dir))
		return NULL;
	atexit(remove_dir);
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "/usr/bin/python3 tests/media/make_models.py '%s' --big 2", dir);
	if (system(cmd) != 0) {
		fprintf(stderr, "    tests/media/make_models.py failed\n");
		return NULL;
	}
	state = 1;
	return dir;
}

static const char *model_path(const char *name)
{
	static char path[256];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return path;
}

static json_t *analyze(const char *name, const char *format, char *err, size_t errlen,
		       int64_t *ms)
{
	err[0] = '\0';
	int64_t t0 = mono_us();
	json_t *r = model_analyze(model_path(name), format, err, errlen);
	if (ms)
		*ms = (mono_us() - t0) / 1000;
	return r;
}

static json_int_t geti(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	return json_is_integer(v) ? json_integer_value(v) : -1;
}

static bool near(json_t *dims, const char *axis, double want)
{
	json_t *v = json_object_get(dims, axis);
	return json_is_number(v) && fabs(json_number_value(v) - want) < 1e-4;
}

static bool has_string(json_t *arr, const char *s)
{
	size_t i;
	json_t *e;
	json_array_foreach(arr, i, e)
		if (json_is_string(e) && !strcmp(json_string_value(e), s))
			return true;
	return false;
}

#define NEED_MODELS() do { if (!models()) { CHECK(!"models generated"); return; } } while (0)

/* ------------------------------------------------------------ good models */

TEST(analyze_cube_glb)
{
	NEED_MODELS();
	char err[256];
	json_t *r = analyze("cube.glb", "GLB", err, sizeof(err), NULL);
	CHECK(r);
	if (!r) {
		fprintf(stderr, "    %s\n", err);
		return;
	}
	CHECK(geti(r, "poly_count") == 12);
	CHECK(geti(r, "vertex_count") == 24); /* per-face normals, no joining */
	CHECK(geti(r, "mesh_count") == 1);
	CHECK(geti(r, "bone_count") == 0);
	CHECK(geti(r, "animation_count") == 0);
	CHECK_STR(json_string_value(json_object_get(r, "file_format")), "GLB");
	CHECK(json_is_false(json_object_get(r, "has_animations")));
	CHECK(json_is_false(json_object_get(r, "has_rigging")));
	CHECK(json_is_false(json_object_get(r, "has_textures")));
	json_t *d = json_object_get(r, "dimensions");
	CHECK(near(d, "x", 2) && near(d, "y", 2) && near(d, "z", 2));
	CHECK(json_array_size(json_object_get(r, "materials")) == 1);
	CHECK(has_string(json_object_get(r, "materials"), "CubeMat"));
	CHECK(json_array_size(json_object_get(r, "textures")) == 0);
	CHECK(json_array_size(json_object_get(r, "external_references")) == 0);
	CHECK(json_is_array(json_object_get(r, "warnings")));
	json_decref(r);
}

TEST(analyze_gltf_two_meshes_hierarchy)
{
	NEED_MODELS();
	char err[256];
	json_t *r = analyze("two_meshes.gltf", "GLTF", err, sizeof(err), NULL);
	CHECK(r);
	if (!r)
		return;
	CHECK(geti(r, "poly_count") == 16);
	CHECK(geti(r, "vertex_count") == 28);
	CHECK(geti(r, "mesh_count") == 2);
	/* The group's scale and translation and the tet's rotation applied:
	 * without the rotation x would be 10, without the hierarchy 4. */
	json_t *d = json_object_get(r, "dimensions");
	CHECK(near(d, "x", 8) && near(d, "y", 4) && near(d, "z", 4));
	json_t *m = json_object_get(r, "materials");
	CHECK(json_array_size(m) == 2 && has_string(m, "Painted") && has_string(m, "Plain"));
	CHECK(json_is_true(json_object_get(r, "has_textures")));
	json_t *tex = json_object_get(r, "textures");
	CHECK(json_array_size(tex) == 1);
	CHECK(geti(json_array_get(tex, 0), "embedded") == 0);
	CHECK(json_is_string(json_object_get(json_array_get(tex, 0), "type")));
	CHECK(json_array_size(json_object_get(r, "external_references")) == 0);
	json_decref(r);
}

TEST(analyze_rigged_animated_glb)
{
	NEED_MODELS();
	char err[256];
	json_t *r = analyze("rigged.glb", "GLB", err, sizeof(err), NULL);
	CHECK(r);
	if (!r)
		return;
	CHECK(geti(r, "poly_count") == 12);
	CHECK(geti(r, "vertex_count") == 24);
	CHECK(json_is_true(json_object_get(r, "has_rigging")));
	CHECK(json_is_true(json_object_get(r, "has_animations")));
	CHECK(geti(r, "bone_count") == 2);
	CHECK(geti(r, "animation_count") == 1);
	json_t *d = json_object_get(r, "dimensions");
	CHECK(near(d, "x", 2) && near(d, "y", 2) && near(d, "z", 2));
	json_decref(r);
}

TEST(analyze_obj_cube_mtllib_not_followed)
{
	NEED_MODELS();
	char err[256];
	json_t *r = analyze("cube.obj", "OBJ", err, sizeof(err), NULL);
	CHECK(r);
	if (!r)
		return;
	CHECK(geti(r, "poly_count") == 12);
	CHECK(geti(r, "vertex_count") == 8); /* the `v` records, as stored */
	CHECK(geti(r, "render_vertex_count") == 24); /* assimp splits corners */
	CHECK(geti(r, "face_count") == 6);
	json_t *d = json_object_get(r, "dimensions");
	CHECK(near(d, "x", 2) && near(d, "y", 2) && near(d, "z", 2));
	json_t *refs = json_object_get(r, "external_references");
	CHECK(json_array_size(refs) == 1 && has_string(refs, "cube.mtl"));
	CHECK(has_string(json_object_get(r, "materials"), "Red"));
	json_decref(r);
}

TEST(analyze_fbx_ascii_and_binary)
{
	NEED_MODELS();
	char err[256];
	json_t *r = analyze("cube_ascii.fbx", "FBX", err, sizeof(err), NULL);
	CHECK(r);
	if (r) {
		CHECK(geti(r, "poly_count") == 12);
		CHECK(geti(r, "vertex_count") == 8); /* control points */
		CHECK(geti(r, "render_vertex_count") == 24 && geti(r, "face_count") == 6);
		json_t *d = json_object_get(r, "dimensions");
		CHECK(near(d, "x", 2) && near(d, "y", 4) && near(d, "z", 6));
		CHECK(has_string(json_object_get(r, "materials"), "Red"));
		json_decref(r);
	}
	r = analyze("cube_binary.fbx", "FBX", err, sizeof(err), NULL);
	CHECK(r);
	if (r) {
		CHECK(geti(r, "poly_count") == 12);
		CHECK(geti(r, "vertex_count") == 8); /* control points */
		CHECK(geti(r, "render_vertex_count") == 24 && geti(r, "face_count") == 6);
		json_t *d = json_object_get(r, "dimensions");
		CHECK(near(d, "x", 6) && near(d, "y", 4) && near(d, "z", 2));
		CHECK(has_string(json_object_get(r, "materials"), "Blue"));
		json_decref(r);
	}
}

/* Debian's assimp-testmodels, when installed: real exporters' files. */
TEST(analyze_fbx_debian_samples)
{
	NEED_MODELS();
	const char *base = "/usr/share/assimp/models/FBX";
	char path[256], err[256];
	snprintf(path, sizeof(path), "%s/huesitos.fbx", base);
	if (access(path, R_OK) != 0) {
		fprintf(stderr, "    (skipped: assimp-testmodels not installed)\n");
		return;
	}
	json_t *r = model_analyze(path, "FBX", err, sizeof(err));
	CHECK(r);
	if (r) {
		CHECK(geti(r, "poly_count") == 120);
		CHECK(geti(r, "vertex_count") == 256);
		CHECK(json_is_true(json_object_get(r, "has_rigging")));
		CHECK(geti(r, "bone_count") == 9);
		CHECK(geti(r, "animation_count") == 1);
		json_decref(r);
	}
	snprintf(path, sizeof(path), "%s/embedded_ascii/box.FBX", base);
	r = model_analyze(path, "FBX", err, sizeof(err));
	CHECK(r);
	if (r) {
		CHECK(geti(r, "poly_count") == 12);
		CHECK(json_is_true(json_object_get(r, "has_textures")));
		CHECK(geti(json_array_get(json_object_get(r, "textures"), 0), "embedded") == 0);
		json_decref(r);
	}
}

/* Relative names inside a .gltf's folder: analysed, reported, not followed. */
TEST(analyze_gltf_relative_image_reported)
{
	NEED_MODELS();
	char err[256];
	json_t *r = analyze("image_rel.gltf", "GLTF", err, sizeof(err), NULL);
	CHECK(r);
	if (!r) {
		fprintf(stderr, "    image_rel.gltf: %s\n", err);
		return;
	}
	CHECK(geti(r, "poly_count") == 1);
	CHECK(geti(r, "vertex_count") == 3);
	json_t *refs = json_object_get(r, "external_references");
	CHECK(has_string(refs, "textures/wood.png"));
	CHECK(json_is_true(json_object_get(r, "has_textures")));
	json_t *d = json_object_get(r, "dimensions");
	CHECK(near(d, "x", 1) && near(d, "y", 1) && near(d, "z", 0));
	json_decref(r);
}

/* Issue 8: an image or buffer uri that points anywhere but inside the
 * document (or, for a .gltf, its own folder) is refused, not reported. */
TEST(analyze_gltf_external_uris_refused)
{
	NEED_MODELS();
	static const struct { const char *file, *format, *reason; } cases[] = {
		{ "image_ext.gltf", "GLTF", "external files: http://example.invalid/wood.png (a URL" },
		{ "image_metadata.gltf", "GLTF", "external files: http://169.254.169.254/" },
		{ "image_https.gltf", "GLTF", "external files: HTTPS://example.invalid/normal.png" },
		{ "image_file.gltf", "GLTF", "external files: file:///etc/passwd" },
		{ "image_abs.gltf", "GLTF", "external files: /etc/passwd (an absolute path" },
		{ "image_dotdot.gltf", "GLTF", "leaves the model's folder" },
		{ "image_encoded.gltf", "GLTF", "leaves the model's folder" },
		{ "image_backslash.gltf", "GLTF", "backslash" },
		{ "image_netpath.gltf", "GLTF", "absolute path" },
		{ "image_rel.glb", "GLB", "external files: wood.png (a .glb may only use data: URIs)" },
		{ "image_http.glb", "GLB", "external files: http://169.254.169.254/" },
	};
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		char err[256];
		json_t *r = analyze(cases[i].file, cases[i].format, err, sizeof(err), NULL);
		bool ok = !r && strstr(err, cases[i].reason);
		if (!ok)
			fprintf(stderr, "    %s: %s\n", cases[i].file, r ? "accepted" : err);
		CHECK(ok);
		json_decref(r);
	}
}

TEST(gltf_uri_judgement)
{
	CHECK(!gltf_uri_problem("data:image/png;base64,AAAA", false));
	CHECK(!gltf_uri_problem("DATA:application/octet-stream;base64,", true));
	CHECK(!gltf_uri_problem("wood.png", true));
	CHECK(!gltf_uri_problem("tex/./wood%20oak.png", true));
	CHECK(!gltf_uri_problem("a..b/c..", true));
	CHECK(gltf_uri_problem("wood.png", false));
	static const char *const bad[] = {
		"", "http://169.254.169.254/", "file:///etc/passwd", "C:/x.png", "/etc/passwd",
		"//host/x", "..", "../x", "a/../../x", "a/..", "%2e%2e/x", "..%2Fx", "%2Fetc/passwd",
		"..\\x", "a%5C..%5Cx", "x%00.png", "x%0a", "x%zz", "x%4", "mailto%3Ax",
	};
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		if (!gltf_uri_problem(bad[i], true))
			fprintf(stderr, "    accepted: %s\n", bad[i]);
		CHECK(gltf_uri_problem(bad[i], true));
	}
	char big[1100];
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	CHECK(gltf_uri_problem(big, true));
}

TEST(analyze_grid_glb)
{
	NEED_MODELS();
	char err[256];
	int64_t ms;
	json_t *r = analyze("big.glb", "GLB", err, sizeof(err), &ms);
	CHECK(r);
	if (!r)
		return;
	/* make_models.py --big 2: n = int(sqrt(2e6 / 48)) = 204 */
	CHECK(geti(r, "vertex_count") == 204 * 204);
	CHECK(geti(r, "poly_count") == 2 * 203 * 203);
	json_t *d = json_object_get(r, "dimensions");
	CHECK(near(d, "x", 203) && near(d, "y", 0) && near(d, "z", 203));
	fprintf(stderr, "    (2 MB grid analysed in %lld ms)\n", (long long)ms);
	json_decref(r);
}

/* ------------------------------------------------------------- hostile */

TEST(analyze_hostile_files_refused_fast)
{
	NEED_MODELS();
	static const struct { const char *file, *format, *reason; } cases[] = {
		{ "truncated.glb", "GLB", "truncated" },
		{ "huge_chunk.glb", "GLB", "JSON chunk" },
		{ "huge_bin_chunk.glb", "GLB", "runs past the file" },
		{ "huge_buffer.glb", "GLB", "out of range" },
		{ "text.glb", "GLB", "not a GLB" },
		{ "text.glb", "GLTF", "JSON" },
		{ "deep.gltf", "GLTF", "depth" },
		{ "passwd.gltf", "GLTF", "external files: file:///etc/passwd" },
		{ "dotdot.gltf", "GLTF", "external files: ../../../../etc/passwd" },
		{ "http.gltf", "GLTF", "external files: http://127.0.0.1:9/buffer.bin" },
		{ "billions.obj", "OBJ", "" },
		{ "billions_ply.obj", "OBJ", "" },
		{ "empty.obj", "OBJ", "empty" },
		{ "text.glb", "FBX", "" },
		{ "cube.glb", "OBJ", "" },
	};
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		char err[256];
		int64_t ms;
		json_t *r = analyze(cases[i].file, cases[i].format, err, sizeof(err), &ms);
		bool ok = !r && err[0] && strstr(err, cases[i].reason) && ms < 5000;
		if (!ok)
			fprintf(stderr, "    %s as %s: %s (%lld ms)\n", cases[i].file, cases[i].format,
				r ? "accepted" : err, (long long)ms);
		CHECK(ok);
		CHECK(!strchr(err, '\n'));
		json_decref(r);
	}
}

TEST(analyze_memory_limit_holds)
{
	NEED_MODELS();
	/* 1.3 KB declaring a 4 GiB vertex array: fails on RLIMIT_AS (1 GiB). */
	char err[256];
	int64_t ms;
	json_t *r = analyze("bomb.fbx", "FBX", err, sizeof(err), &ms);
	CHECK(!r);
	CHECK(strstr(err, "memory") != NULL);
	CHECK(ms < 5000);
	if (r || !strstr(err, "memory"))
		fprintf(stderr, "    bomb.fbx: %s (%lld ms)\n", err, (long long)ms);
	json_decref(r);
}

TEST(analyze_blend_old_read_new_refused)
{
	NEED_MODELS();
	char err[256];
	json_t *r = analyze("modern.blend", "BLEND", err, sizeof(err), NULL);
	CHECK(!r);
	CHECK_STR(err, "blend: needs conversion");
	const char *old = "/usr/share/assimp/models/BLEND/BlenderDefault_276.blend";
	if (access(old, R_OK) != 0) {
		fprintf(stderr, "    (old .blend skipped: assimp-testmodels not installed)\n");
		return;
	}
	r = model_analyze(old, "BLEND", err, sizeof(err)); /* Blender 2.76: assimp reads it */
	CHECK(r);
	if (r) {
		CHECK(geti(r, "poly_count") == 12);
		CHECK_STR(json_string_value(json_object_get(r, "file_format")), "BLEND");
		json_t *d = json_object_get(r, "dimensions");
		CHECK(near(d, "x", 2) && near(d, "y", 2) && near(d, "z", 2));
		json_decref(r);
	}
}

TEST(analyze_unknown_formats_and_paths)
{
	char err[256];
	CHECK(!model_analyze("/etc/hostname", "PLY", err, sizeof(err)));
	CHECK(strstr(err, "unsupported") != NULL);
	CHECK(!model_analyze("/nonexistent.glb", "GLB", err, sizeof(err)));
	CHECK(err[0]);
	CHECK(!model_analyze("/tmp", "GLB", err, sizeof(err))); /* not a file */
}

/* ------------------------------------------- the parent's failure paths */

static char script[128];

static void write_script(const char *body)
{
	snprintf(script, sizeof(script), "%s/fake-child.sh", dir);
	FILE *f = fopen(script, "w");
	if (!f)
		return;
	fprintf(f, "#!/bin/sh\n%s\n", body);
	fclose(f);
	chmod(script, 0755);
	analyze_set_exe(script);
}

static bool no_children_left(void)
{
	return waitpid(-1, NULL, WNOHANG) == -1 && errno == ECHILD;
}

TEST(analyze_timeout_kills_and_reaps)
{
	NEED_MODELS();
	write_script("exec sleep 30");
	setenv("ANALYZE_TIMEOUT_S", "1", 1);
	char err[256];
	int64_t ms;
	json_t *r = analyze("cube.glb", "GLB", err, sizeof(err), &ms);
	unsetenv("ANALYZE_TIMEOUT_S");
	analyze_set_exe(exe);
	CHECK(!r);
	CHECK(strstr(err, "timed out") != NULL);
	CHECK(ms >= 900 && ms < 3000);
	CHECK(no_children_left());
}

TEST(analyze_timeout_after_output_closed)
{
	NEED_MODELS();
	/* Closes stdout and stderr but does not exit. */
	write_script("exec >&- 2>&-; exec sleep 30");
	setenv("ANALYZE_TIMEOUT_S", "1", 1);
	char err[256];
	int64_t ms;
	json_t *r = analyze("cube.glb", "GLB", err, sizeof(err), &ms);
	unsetenv("ANALYZE_TIMEOUT_S");
	analyze_set_exe(exe);
	CHECK(!r);
	CHECK(strstr(err, "timed out") != NULL);
	CHECK(ms < 3000);
	CHECK(no_children_left());
}

/* vertex_count is the vertices as stored (issue 9): assimp's per-corner
 * split and one-mesh-per-primitive must not inflate it. */
TEST(analyze_counts_as_stored)
{
	NEED_MODELS();
	static const struct {
		const char *name, *format;
		long long verts, render, polys, faces;
	} cases[] = {
		/* 12 `v`, 11 used; negative and v/vt/vn indices; quad, tri, pentagon */
		{ "counts.obj", "OBJ", 11, 12, 6, 3 },
		/* FBX 7.5 binary: 64-bit node records */
		{ "cube_7500.fbx", "FBX", 8, 24, 12, 6 },
		/* two primitives share one POSITION accessor: counted once */
		{ "shared_accessor.glb", "GLB", 24, 48, 12, 12 },
		{ "cube.glb", "GLB", 24, 24, 12, 12 },
		{ "two_meshes.gltf", "GLTF", 28, 28, 16, 16 },
	};
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		char err[256];
		json_t *r = analyze(cases[i].name, cases[i].format, err, sizeof(err), NULL);
		CHECK(r);
		if (!r) {
			fprintf(stderr, "    %s: %s\n", cases[i].name, err);
			continue;
		}
		if (geti(r, "vertex_count") != cases[i].verts || geti(r, "render_vertex_count") != cases[i].render ||
		    geti(r, "poly_count") != cases[i].polys || geti(r, "face_count") != cases[i].faces)
			fprintf(stderr, "    %s: %lld %lld %lld %lld\n", cases[i].name, (long long)geti(r, "vertex_count"),
				(long long)geti(r, "render_vertex_count"), (long long)geti(r, "poly_count"),
				(long long)geti(r, "face_count"));
		CHECK(geti(r, "vertex_count") == cases[i].verts);
		CHECK(geti(r, "render_vertex_count") == cases[i].render);
		CHECK(geti(r, "poly_count") == cases[i].polys);
		CHECK(geti(r, "face_count") == cases[i].faces);
		json_decref(r);
	}
}

TEST(analyze_output_cap_and_bad_output)
{
	NEED_MODELS();
	char err[256];
	write_script("exec yes");
	json_t *r = analyze("cube.glb", "GLB", err, sizeof(err), NULL);
	CHECK(!r && strstr(err, "too large"));
	/* Well-formed JSON of the wrong shape is refused too. */
	write_script("echo '{\"poly_count\": -1, \"file_format\": \"GLB\"}'");
	r = analyze("cube.glb", "GLB", err, sizeof(err), NULL);
	CHECK(!r && strstr(err, "analysis failed"));
	write_script("kill -SEGV $$");
	r = analyze("cube.glb", "GLB", err, sizeof(err), NULL);
	CHECK(!r && strstr(err, "crashed"));
	write_script("echo '{\"error\": \"child says no\"}'; exit 1");
	r = analyze("cube.glb", "GLB", err, sizeof(err), NULL);
	CHECK(!r);
	CHECK_STR(err, "child says no");
	analyze_set_exe(exe);
	CHECK(no_children_left());
}

struct worker {
	int ok;
};

static void *analyze_worker(void *arg)
{
	struct worker *w = arg;
	char path[256], err[256];
	snprintf(path, sizeof(path), "%s/two_meshes.gltf", dir);
	for (int i = 0; i < 3; i++) {
		json_t *r = model_analyze(path, "GLTF", err, sizeof(err));
		if (r && geti(r, "poly_count") == 16)
			w->ok++;
		json_decref(r);
	}
	return NULL;
}

TEST(analyze_many_threads_at_once)
{
	NEED_MODELS();
	pthread_t th[4];
	struct worker w[4] = { { 0 } };
	for (int i = 0; i < 4; i++)
		pthread_create(&th[i], NULL, analyze_worker, &w[i]);
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		CHECK(w[i].ok == 3);
	}
	CHECK(no_children_left());
}

static void *slow_worker(void *arg)
{
	char err[256];
	json_t *r = model_analyze(model_path("cube.glb"), "GLB", err, sizeof(err));
	*(int *)arg = !r && !strcmp(err, "slow no");
	if (!*(int *)arg)
		fprintf(stderr, "    slow_worker got: %s\n", r ? "a result" : err);
	json_decref(r);
	return NULL;
}

static int64_t three_at_once(void)
{
	pthread_t th[3];
	int ok[3] = { 0 };
	int64_t t0 = mono_us();
	for (int i = 0; i < 3; i++)
		pthread_create(&th[i], NULL, slow_worker, &ok[i]);
	bool all = true;
	for (int i = 0; i < 3; i++) {
		pthread_join(th[i], NULL);
		all &= ok[i] != 0;
	}
	return all ? (mono_us() - t0) / 1000 : -1;
}

/* One retry: a spawn can fail transiently on a loaded machine (the count
 * of failures is what the other tests check, not this one). */
static int64_t three_at_once_retry(void)
{
	int64_t ms = three_at_once();
	return ms >= 0 ? ms : three_at_once();
}

TEST(analyze_concurrency_is_bounded)
{
	NEED_MODELS();
	write_script("sleep 0.4; echo '{\"error\": \"slow no\"}'; exit 1");
	setenv("ANALYZE_CONCURRENCY", "1", 1);
	int64_t serial = three_at_once_retry();
	setenv("ANALYZE_CONCURRENCY", "3", 1);
	int64_t parallel = three_at_once_retry();
	unsetenv("ANALYZE_CONCURRENCY");
	analyze_set_exe(exe);
	CHECK(serial >= 1150);
	CHECK(parallel >= 0 && parallel < 1100);
	CHECK(no_children_left());
}

/* ------------------------------------------------------- the sandbox */

static void *thread_nothing(void *arg)
{
	return arg;
}

/* Forks, enters the sandbox with opts' options, runs what, and returns the
 * wait status.  fd 3 is /dev/null. */
static int in_sandbox_opts(void (*what)(void), bool threads, bool write_fd3)
{
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		int devnull = open("/dev/null", O_WRONLY);
		dup2(devnull, 1); /* a pipe or /dev/null, not a file: RLIMIT_FSIZE */
		dup2(devnull, 2);
		dup2(devnull, 3);
		if (threads) { /* as the image child does: libc's one-time set-up */
			pthread_t th;
			if (pthread_create(&th, NULL, thread_nothing, NULL) == 0)
				pthread_join(th, NULL);
		}
		char err[256];
		struct sandbox_limits lim = { .memory_bytes = 256u << 20, .cpu_seconds = 1, .max_fds = 8,
					      .threads = threads, .write_fd3 = write_fd3 };
		if (sandbox_enter(&lim, err, sizeof(err)))
			_exit(90);
		what();
		_exit(0);
	}
	int status = 0;
	waitpid(pid, &status, 0);
	return status;
}

static int in_sandbox(void (*what)(void))
{
	return in_sandbox_opts(what, false, false);
}

static bool killed_by_sigsys(int status)
{
	return WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS;
}

static void do_open(void)
{
	int fd = open("/etc/passwd", O_RDONLY);
	_exit(fd >= 0 ? 1 : 2);
}

static void do_socket(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	_exit(fd >= 0 ? 1 : 2);
}

static void do_fork(void)
{
	pid_t p = fork();
	_exit(p >= 0 ? 1 : 2);
}

static void do_exec(void)
{
	char *argv[] = { "true", NULL };
	execv("/bin/true", argv);
	_exit(2);
}

static void do_exec_memory(void)
{
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS,
		       -1, 0);
	_exit(p != MAP_FAILED ? 1 : 2);
}

static void do_write_fd3(void)
{
	ssize_t n = write(3, "x", 1);
	_exit(n == 1 ? 1 : 2);
}

static void do_allowed(void)
{
	/* stdout, memory, time, randomness: all fine */
	if (write(1, "ok\n", 3) != 3)
		_exit(3);
	void *p = mmap(NULL, 64 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		_exit(4);
	memset(p, 1, 64 << 20);
	munmap(p, 64 << 20);
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	char rnd[8];
	if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
		_exit(5);
	_exit(0);
}

static void do_too_much_memory(void)
{
	/* 512 MB over a 256 MB limit: refused, not granted and then killed. */
	void *p = mmap(NULL, (size_t)512 << 20, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	_exit(p == MAP_FAILED && errno == ENOMEM ? 0 : 1);
}

static void do_spin(void)
{
	volatile unsigned long x = 0;
	for (;;)
		x++;
}

TEST(sandbox_allows_compute_and_stdio)
{
	int st = in_sandbox(do_allowed);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	if (!WIFEXITED(st) || WEXITSTATUS(st))
		fprintf(stderr, "    status %#x\n", st);
	st = in_sandbox(do_too_much_memory);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	if (!WIFEXITED(st) || WEXITSTATUS(st))
		fprintf(stderr, "    status %#x\n", st);
}

TEST(sandbox_kills_forbidden_syscalls)
{
	CHECK(killed_by_sigsys(in_sandbox(do_open)));
	CHECK(killed_by_sigsys(in_sandbox(do_socket)));
	CHECK(killed_by_sigsys(in_sandbox(do_fork)));
	CHECK(killed_by_sigsys(in_sandbox(do_exec)));
	CHECK(killed_by_sigsys(in_sandbox(do_exec_memory)));
	CHECK(killed_by_sigsys(in_sandbox(do_write_fd3)));
}

static void do_thread(void)
{
	pthread_t th;
	if (pthread_create(&th, NULL, thread_nothing, NULL) || pthread_join(th, NULL))
		_exit(1);
	_exit(0);
}

/* The image child's options widen the policy by exactly what they name. */
TEST(sandbox_threads_and_fd3_options)
{
	int st = in_sandbox_opts(do_thread, true, false);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	if (!WIFEXITED(st) || WEXITSTATUS(st))
		fprintf(stderr, "    status %#x\n", st);
	CHECK(killed_by_sigsys(in_sandbox(do_thread)));            /* not without it */
	CHECK(killed_by_sigsys(in_sandbox_opts(do_fork, true, false))); /* a thread, not a process */
	CHECK(killed_by_sigsys(in_sandbox_opts(do_open, true, true)));
	CHECK(killed_by_sigsys(in_sandbox_opts(do_socket, true, true)));
	st = in_sandbox_opts(do_write_fd3, false, true);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 1); /* written */
	CHECK(killed_by_sigsys(in_sandbox_opts(do_write_fd3, true, false)));
}

static int64_t children_cpu_ms(void)
{
	struct rusage ru;
	getrusage(RUSAGE_CHILDREN, &ru);
	return (int64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000 +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000;
}

/* The limit is CPU time, so that is what is measured: on a loaded machine
 * one CPU second can take many seconds of wall clock. */
TEST(sandbox_cpu_limit)
{
	int64_t t0 = mono_us(), cpu0 = children_cpu_ms();
	int st = in_sandbox(do_spin); /* 1 CPU second */
	int64_t ms = (mono_us() - t0) / 1000, cpu = children_cpu_ms() - cpu0;
	CHECK(WIFSIGNALED(st) && (WTERMSIG(st) == SIGXCPU || WTERMSIG(st) == SIGKILL));
	/* Soft limit 1 s (SIGXCPU), hard 2 s.  The kernel checks the limit on
	 * its own CPU clock; rusage's split of it is sampled, and on a loaded
	 * machine reads as little as 0.85 s at the kill. */
	CHECK(cpu >= 600 && cpu < 2500);
	CHECK(ms >= 900 && ms < 60000);
	if (cpu < 600 || cpu >= 2500)
		fprintf(stderr, "    child CPU %lld ms, wall %lld ms\n", (long long)cpu, (long long)ms);
}
