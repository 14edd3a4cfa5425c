/*
 * convert_child.c: the conversion child, `hwc3d convert-model FORMAT
 * [--memory-mb N] [--cpu-s N] [--max-mb N]`.
 *
 * The same order as the analysis child (model_child.c): read the model
 * from stdin, enter the sandbox (limits, no_new_privs, seccomp; the one
 * extra permission is writing fd 3, the result file the parent opened,
 * capped by RLIMIT_FSIZE), and only then let assimp at the bytes, through
 * an in-memory file system whose only file is the model.  The scene is
 * exported as binary glTF 2 ("glb2") into memory and written to fd 3;
 * stdout gets one JSON line, {"bytes": N, "warnings": [...]} or
 * {"error": "..."}.
 *
 * Before the export, every texture a material names that is not embedded
 * in the file is dropped from the copy of the scene: the exporter would
 * write its path as a URI, and the viewer (or anything else) would then
 * fetch a file the model does not carry.  The analysis reported those
 * references already.
 *
 * Processing for the export: aiProcess_Triangulate (glTF primitives are
 * triangles) and, below JOIN_MAX_VERTICES, aiProcess_JoinIdenticalVertices
 * (OBJ and FBX import one vertex per polygon corner; joined, the GLB is
 * about a third the size; above that the join costs too much memory, see
 * model_child.c).
 */
#include <errno.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <assimp/cexport.h>
#include <assimp/cfileio.h>
#include <assimp/cimport.h>
#include <assimp/material.h>
#include <assimp/postprocess.h>
#include <assimp/scene.h>
#include <jansson.h>
#include "media/convert.h"
#include "media/memfs.h"
#include "media/sandbox.h"
#include "core/num.h"
#include "core/util.h"

#define INPUT_MAX ((size_t)200 << 20)
#define JOIN_MAX_VERTICES 2000000
#define MAIN_STEM "hwc3d-model"

struct mem {
	const unsigned char *data;
	size_t len;
	char name[32];
	json_t *warnings;
};

static void put_line(json_t *o)
{
	char *s = json_dumps(o, JSON_COMPACT);
	if (s) {
		size_t n = strlen(s), off = 0;
		while (off < n) {
			ssize_t w = write(1, s + off, n - off);
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				break;
			off += (size_t)w;
		}
		if (write(1, "\n", 1) < 0) {
			/* the parent is gone or stopped reading: nothing to do */
		}
		free(s);
	}
}

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail(const char *fmt, ...)
{
	char msg[300];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	for (char *p = msg; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
			*p = '?';
	json_t *o = json_pack("{s:s}", "error", msg);
	put_line(o);
	json_decref(o);
	return 1;
}

/* --------------------------------------------------- texture references */

static const char *base_name(const char *p)
{
	const char *a = strrchr(p, '/'), *b = strrchr(p, '\\');
	const char *s = a > b ? a : b;
	return s ? s + 1 : p;
}

/* As aiScene::GetEmbeddedTexture finds it: "*N", or the file name of an
 * embedded texture. */
static bool is_embedded(const struct aiScene *sc, const char *path)
{
	if (path[0] == '*') {
		int64_t v;
		return parse_i64_range(path + 1, 0, (int64_t)sc->mNumTextures - 1, &v);
	}
	for (unsigned i = 0; i < sc->mNumTextures; i++)
		if (sc->mTextures[i]->mFilename.length &&
		    !strcmp(base_name(sc->mTextures[i]->mFilename.data), base_name(path)))
			return true;
	return false;
}

/* A material's texture file is the string property "$tex.file": its data
 * is a 32-bit length, then the bytes and a NUL. */
static void drop_external_textures(struct aiScene *sc, struct mem *c)
{
	size_t dropped = 0;
	for (unsigned m = 0; m < sc->mNumMaterials; m++) {
		struct aiMaterial *mat = sc->mMaterials[m];
		for (unsigned i = 0; i < mat->mNumProperties; i++) {
			struct aiMaterialProperty *p = mat->mProperties[i];
			if (strcmp(p->mKey.data, _AI_MATKEY_TEXTURE_BASE) || p->mType != aiPTI_String ||
			    p->mDataLength < 5)
				continue;
			uint32_t n;
			memcpy(&n, p->mData, 4);
			if (n >= p->mDataLength - 4 || p->mData[4 + n] != '\0')
				n = 0;
			if (n && is_embedded(sc, p->mData + 4))
				continue;
			/* renamed, not freed: the copy's allocator frees it */
			snprintf(p->mKey.data, sizeof(p->mKey.data), "$tex.dropped");
			p->mKey.length = (ai_uint32)strlen(p->mKey.data);
			dropped++;
		}
	}
	if (dropped) {
		char msg[120];
		snprintf(msg, sizeof(msg), "%zu texture reference(s) to files outside the model were left out", dropped);
		json_array_append_new(c->warnings, json_string(msg));
	}
}

/* ------------------------------------------------------------------ run */

static bool write_fd3(const unsigned char *d, size_t n)
{
	while (n) {
		ssize_t w = write(3, d, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		d += w;
		n -= (size_t)w;
	}
	return true;
}

static int convert(struct mem *c, uint64_t max_bytes)
{
	struct memfs fs = { c->data, c->len, c->name, NULL, NULL };
	struct aiFileIO io = memfs_io(&fs);
	struct aiPropertyStore *props = aiCreatePropertyStore();
	const struct aiScene *sc = aiImportFileExWithProperties(c->name, aiProcess_ValidateDataStructure, &io, props);
	aiReleasePropertyStore(props);
	if (!sc) {
		char msg[201];
		snprintf(msg, sizeof(msg), "%s", aiGetErrorString());
		return fail("import failed: %s", msg[0] ? msg : "unknown error");
	}
	if (!sc->mNumMeshes) {
		aiReleaseImport(sc);
		return fail("the model contains no meshes");
	}
	uint64_t verts = 0;
	for (unsigned i = 0; i < sc->mNumMeshes; i++)
		verts += sc->mMeshes[i]->mNumVertices;
	struct aiScene *copy = NULL;
	aiCopyScene(sc, &copy);
	aiReleaseImport(sc);
	if (!copy)
		return fail("cannot copy the scene");
	drop_external_textures(copy, c);
	unsigned flags = aiProcess_Triangulate | (verts <= JOIN_MAX_VERTICES ? aiProcess_JoinIdenticalVertices : 0);
	const struct aiExportDataBlob *blob = aiExportSceneToBlob(copy, "glb2", flags);
	aiFreeScene(copy);
	if (!blob || !blob->data || !blob->size) {
		char msg[201];
		snprintf(msg, sizeof(msg), "%s", aiGetErrorString());
		if (blob)
			aiReleaseExportBlob(blob);
		return fail("GLB export failed: %s", msg[0] ? msg : "unknown error");
	}
	if (blob->next)
		json_array_append_new(c->warnings, json_string("the exporter made more than one file; the first is kept"));
	if (blob->size > max_bytes) {
		size_t sz = blob->size;
		aiReleaseExportBlob(blob);
		return fail("the converted GLB would be %zu MB, over the limit of %llu MB", sz >> 20,
			    (unsigned long long)(max_bytes >> 20));
	}
	bool ok = write_fd3(blob->data, blob->size);
	size_t size = blob->size;
	aiReleaseExportBlob(blob);
	if (!ok)
		return fail("cannot write the GLB");
	json_t *o = json_pack("{s:I, s:O}", "bytes", (json_int_t)size, "warnings", c->warnings);
	put_line(o);
	json_decref(o);
	return 0;
}

static int usage(const char *why)
{
	fail("usage: hwc3d convert-model FORMAT [--memory-mb N] [--cpu-s N] [--max-mb N]: %.60s", why);
	return 2;
}

static const struct { const char *name, *ext; } FORMATS[] = {
	{ "GLB", "glb" }, { "GLTF", "gltf" }, { "OBJ", "obj" }, { "FBX", "fbx" }, { "BLEND", "blend" },
};

int convert_child_main(int argc, char **argv)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	if (argc < 1)
		return usage("no format");
	struct mem c = { .data = NULL };
	unsigned memory_mb = 2048, cpu_s = 60, max_mb = CONVERT_OUTPUT_MAX_MB;
	for (int i = 1; i + 1 < argc; i += 2) {
		int64_t v;
		if (!strcmp(argv[i], "--memory-mb") && parse_i64_range(argv[i + 1], 16, 1 << 20, &v))
			memory_mb = (unsigned)v;
		else if (!strcmp(argv[i], "--cpu-s") && parse_i64_range(argv[i + 1], 1, 86400, &v))
			cpu_s = (unsigned)v;
		else if (!strcmp(argv[i], "--max-mb") && parse_i64_range(argv[i + 1], 1, 4096, &v))
			max_mb = (unsigned)v;
		else
			return usage(argv[i]);
	}
	const char *ext = NULL;
	for (size_t i = 0; i < ARRAY_LEN(FORMATS); i++)
		if (!strcmp(argv[0], FORMATS[i].name))
			ext = FORMATS[i].ext;
	if (!ext)
		return usage(argv[0]);
	snprintf(c.name, sizeof(c.name), MAIN_STEM ".%s", ext);
	unsigned char *data = NULL;
	int r = sandbox_read_input(INPUT_MAX, &data, &c.len);
	if (r == -1)
		return fail("file too large to convert (over %zu MB)", INPUT_MAX >> 20);
	if (r < 0)
		return fail("cannot read the model");
	c.data = data;
	json_object_seed(0); /* jansson reads /dev/urandom once: before seccomp */
	char err[256];
	struct sandbox_limits lim = {
		.memory_bytes = (uint64_t)memory_mb << 20, .cpu_seconds = cpu_s, .max_fds = 8,
		.file_bytes = (uint64_t)max_mb << 20, .write_fd3 = true,
	};
	if (sandbox_enter(&lim, err, sizeof(err))) {
		free(data);
		return fail("%s", err);
	}
	c.warnings = json_array();
	int rc = c.len ? convert(&c, (uint64_t)max_mb << 20) : fail("empty file");
	json_decref(c.warnings);
	free(data);
	return rc;
}
