/*
 * model_child.c: the analysis child, `hwc3d analyze-model FORMAT`.
 *
 * Order matters: read the whole model from stdin (the only file we ever
 * touch), enter the sandbox (limits, no_new_privs, seccomp: from then on
 * no open, no socket, no exec), and only then let any parser look at the
 * bytes: our glTF pre-scan (jansson) first, then assimp.
 *
 * assimp reads through a C aiFileIO whose only file is the model in memory:
 * any other name it asks for (an OBJ's mtllib, a glTF buffer's uri) is
 * refused and listed in external_references; seccomp would kill the
 * process if assimp went around it.
 *
 * Processing: aiProcess_ValidateDataStructure only.  Not
 * aiProcess_JoinIdenticalVertices: measured on the 50 MB grid GLB
 * (1.04 M vertices, 2.08 M triangles) it took the import from 0.28 s and
 * 248 MB peak to 1.6-2.9 s and 858 MB, close to the 1 GiB limit.  Not
 * aiProcess_Triangulate either: a polygon of n corners is n - 2 triangles,
 * counted without building them.
 *
 * Counts, as the authoring tool shows them (docs/architecture.md):
 *   vertex_count         the vertices as stored: OBJ `v` records that faces
 *                        use, FBX control points, glTF POSITION accessor
 *                        counts (each accessor once); read from the bytes
 *                        by the small passes below, never more than
 *                        render_vertex_count
 *   render_vertex_count  assimp's vertices (OBJ and FBX: one per polygon
 *                        corner, so a cube of 8 positions has 24)
 *   poly_count           triangles after triangulation (sum of n - 2)
 *   face_count           polygons (n-gons) as stored
 */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <assimp/cfileio.h>
#include <assimp/cimport.h>
#include <assimp/material.h>
#include <assimp/postprocess.h>
#include <assimp/scene.h>
#include <jansson.h>
#include "media/analyze.h"
#include "media/fingerprint.h"
#include "media/quality.h"
#include "media/memfs.h"
#include "media/sandbox.h"
#include "core/num.h"
#include "core/util.h"

#define INPUT_MAX ((size_t)200 << 20)
#define MAX_LIST 1000          /* materials, textures */
#define MAX_REFS 100           /* external references */
#define MAX_WARNINGS 50
#define MAX_NAME 256           /* bytes kept of any name from the file */
#define EXACT_BBOX_BUDGET 200000000ULL /* vertex transforms before corners */
#define MAX_NODE_DEPTH 10000
/* The model's name for assimp; the OBJ importer also tries MAIN_STEM.mtl,
 * which is our artefact, not a reference in the file. */
#define MAIN_STEM "hwc3d-model"

static const char *const TEXTURE_TYPES[] = {
	"none", "diffuse", "specular", "ambient", "emissive", "height", "normals",
	"shininess", "opacity", "displacement", "lightmap", "reflection",
	"base_color", "normal_camera", "emission_color", "metalness",
	"diffuse_roughness", "ambient_occlusion", "unknown", "sheen", "clearcoat",
	"transmission",
};

struct child {
	const char *format;
	const char *ext;
	char main_name[32];
	const unsigned char *data;
	size_t len;
	json_t *refs;     /* external_references */
	json_t *warnings;
	unsigned memory_mb;
	bool out_of_memory; /* assimp logged a std::bad_alloc */
	json_t *buffer_ref; /* the first glTF buffer uri that is not data: */
	json_t *bad_uri;    /* the first glTF uri gltf_uri_problem() refuses */
	const char *bad_why;
	int64_t stored_vertices; /* glTF: from the pre-scan; -1 unknown */
};

/* ----------------------------------------------------------- small helpers */

static void write_all(int fd, const char *s, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, s, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		s += w;
		n -= (size_t)w;
	}
}

static void print_json(json_t *obj)
{
	char *s = json_dumps(obj, JSON_COMPACT | JSON_REAL_PRECISION(10));
	if (s) {
		write_all(1, s, strlen(s));
		write_all(1, "\n", 1);
		free(s);
	}
}

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail(const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	for (char *p = msg; *p; p++) /* one line of ASCII, whatever the file had */
		if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
			*p = '?';
	json_t *o = json_object();
	json_object_set_new(o, "error", json_string(msg));
	print_json(o);
	json_decref(o);
	return 1;
}

/* A JSON string from untrusted bytes: at most MAX_NAME bytes, and if that
 * is not valid UTF-8, every byte outside ASCII becomes '?'. */
static json_t *safe_string(const char *s, size_t n)
{
	if (n > MAX_NAME)
		n = MAX_NAME;
	json_t *j = json_stringn(s, n);
	if (j)
		return j;
	char buf[MAX_NAME];
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		buf[i] = c >= 0x80 || c == 0 ? '?' : (char)c;
	}
	return json_stringn(buf, n);
}

static void add_unique(json_t *arr, size_t max, const char *s, size_t n)
{
	json_t *v = safe_string(s, n);
	size_t i;
	json_t *e;
	json_array_foreach(arr, i, e) {
		if (json_equal(e, v)) {
			json_decref(v);
			return;
		}
	}
	if (json_array_size(arr) < max)
		json_array_append_new(arr, v);
	else
		json_decref(v);
}

static void warn(struct child *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warn(struct child *c, const char *fmt, ...)
{
	char msg[300];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	add_unique(c->warnings, MAX_WARNINGS, msg, strlen(msg));
}

/* Keeps a reference, without a leading "./" that assimp adds. */
static void add_ref(struct child *c, const char *s)
{
	while (s[0] == '.' && s[1] == '/')
		s += 2;
	add_unique(c->refs, MAX_REFS, s, strlen(s));
}

/* ------------------------------------------------- the in-memory filesystem */

/* A file the model asks for besides itself (memfs.h): never followed, only
 * reported; an OBJ's own .mtl is expected and not listed. */
static void model_refused(void *ctx, const char *name)
{
	const char *n = name;
	while (n[0] == '.' && n[1] == '/')
		n += 2;
	if (strcmp(n, MAIN_STEM ".mtl"))
		add_ref(ctx, name);
}


/* ------------------------------------------------------- glTF pre-scan */

static void clean_message(const char *in, char *out, size_t outlen);
static int64_t gltf_accessor_vertices(json_t *doc);

static bool is_data_uri(const char *s)
{
	return strncasecmp(s, "data:", 5) == 0;
}

/* Every "uri" anywhere in the document (buffers, images, extensions). */
static void scan_uris(struct child *c, json_t *v, bool in_buffers)
{
	if (json_is_object(v)) {
		const char *key;
		json_t *val;
		json_object_foreach(v, key, val) {
			if (!strcmp(key, "uri") && json_is_string(val)) {
				const char *u = json_string_value(val);
				const char *why = gltf_uri_problem(u, strcmp(c->format, "GLB") != 0);
				if (why && !c->bad_uri) {
					c->bad_uri = val;
					c->bad_why = why;
				}
				if (!is_data_uri(u)) {
					add_unique(c->refs, MAX_REFS, u, json_string_length(val));
					if (in_buffers && !c->buffer_ref)
						c->buffer_ref = val;
				}
			} else {
				scan_uris(c, val, in_buffers || !strcmp(key, "buffers"));
			}
		}
	} else if (json_is_array(v)) {
		size_t i;
		json_t *val;
		json_array_foreach(v, i, val)
			scan_uris(c, val, in_buffers);
	}
}

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Checks the container and lists external references before assimp runs.
 * Returns 0, or -1 with a reason in err (the file must not be imported). */
static int gltf_prescan(struct child *c, char *err, size_t errlen)
{
	const unsigned char *js = c->data;
	size_t jlen = c->len;
	bool glb = c->len >= 4 && !memcmp(c->data, "glTF", 4);
	if (!strcmp(c->format, "GLB") && !glb) {
		snprintf(err, errlen, "not a GLB file");
		return -1;
	}
	if (glb) {
		if (c->len < 20) {
			snprintf(err, errlen, "truncated GLB header");
			return -1;
		}
		uint32_t version = le32(c->data + 4), total = le32(c->data + 8);
		uint32_t chunk_len = le32(c->data + 12), chunk_type = le32(c->data + 16);
		if (version != 2) {
			snprintf(err, errlen, "GLB version %u is not supported (only glTF 2.0)", version);
			return -1;
		}
		if (total > c->len) {
			snprintf(err, errlen, "truncated GLB: header says %u bytes, file has %zu", total, c->len);
			return -1;
		}
		if (chunk_type != 0x4E4F534A || chunk_len > total - 20) {
			snprintf(err, errlen, "broken GLB: bad JSON chunk (length %u)", chunk_len);
			return -1;
		}
		size_t next = 20 + (size_t)chunk_len;
		if (next + 8 <= total && le32(c->data + next) > total - next - 8) {
			snprintf(err, errlen, "broken GLB: second chunk (length %u) runs past the file",
				 le32(c->data + next));
			return -1;
		}
		js = c->data + 20;
		jlen = chunk_len;
	}
	json_error_t jerr;
	json_t *doc = json_loadb((const char *)js, jlen, JSON_REJECT_DUPLICATES, &jerr);
	if (!doc) {
		snprintf(err, errlen, "invalid glTF JSON: %.200s", jerr.text);
		return -1;
	}
	int rc = -1;
	const char *version = json_string_value(json_object_get(json_object_get(doc, "asset"), "version"));
	if (!json_is_object(doc) || !version) {
		snprintf(err, errlen, "not a glTF document (no asset.version)");
		goto out;
	}
	if (version[0] != '2') {
		snprintf(err, errlen, "glTF version %.16s is not supported (only 2.0)", version);
		goto out;
	}
	scan_uris(c, doc, false);
	if (c->bad_uri) {
		char shown[128];
		clean_message(json_string_value(c->bad_uri), shown, sizeof(shown));
		snprintf(err, errlen, "glTF refers to external files: %s (%s)", shown, c->bad_why);
		c->bad_uri = c->buffer_ref = NULL; /* both point into doc */
		goto out;
	}
	if (c->buffer_ref)
		c->buffer_ref = json_copy(c->buffer_ref); /* outlives doc */
	c->stored_vertices = gltf_accessor_vertices(doc);
	rc = 0;
out:
	json_decref(doc);
	return rc;
}

/* ---------------------------------------------- counts as the tool shows */

/*
 * vertex_count is the number of vertices as stored in the file, which is
 * what the authoring tool shows: assimp gives every polygon corner of an
 * OBJ or FBX its own vertex (a cube of 8 positions becomes 24), so these
 * small passes read the file's own records instead.  Each returns -1 when
 * the file is not what it expects; the caller then falls back to assimp's
 * count.  They run after assimp imported the file, on the same bytes.
 */

static bool obj_space(unsigned char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\f' || ch == '\v';
}

/* The line [*i, end) of d, and *i moved past its newline. */
static size_t next_line(const unsigned char *d, size_t n, size_t *i)
{
	const unsigned char *nl = memchr(d + *i, '\n', n - *i);
	size_t end = nl ? (size_t)(nl - d) : n;
	*i = end < n ? end + 1 : n;
	return end;
}

/* OBJ: the distinct `v` records that `f` records use (1-based, or negative
 * counting back from the last `v` so far). */
static int64_t obj_used_vertices(const unsigned char *d, size_t n)
{
	size_t nv = 0;
	for (size_t i = 0; i < n;) {
		size_t p = i, end = next_line(d, n, &i);
		while (p < end && obj_space(d[p]))
			p++;
		if (p + 1 < end && d[p] == 'v' && obj_space(d[p + 1]))
			nv++;
	}
	if (!nv)
		return 0;
	unsigned char *used = xcalloc(nv / 8 + 1, 1);
	size_t seen = 0;
	int64_t count = 0;
	bool face_cont = false; /* the previous face line ended with '\' */
	for (size_t i = 0; i < n;) {
		size_t p = i, end = next_line(d, n, &i);
		while (p < end && obj_space(d[p]))
			p++;
		if (!face_cont && p + 1 < end && d[p] == 'v' && obj_space(d[p + 1])) {
			seen++;
			continue;
		}
		if (!face_cont && !(p + 1 < end && d[p] == 'f' && obj_space(d[p + 1])))
			continue;
		if (!face_cont)
			p++;
		face_cont = false;
		while (p < end) {
			while (p < end && obj_space(d[p]))
				p++;
			if (p >= end)
				break;
			if (d[p] == '\\') {
				face_cont = true;
				break;
			}
			if (d[p] == '#')
				break;
			bool neg = d[p] == '-';
			size_t q = p + (neg || d[p] == '+');
			uint64_t k = 0;
			bool digits = false;
			while (q < end && d[q] >= '0' && d[q] <= '9' && k < ((uint64_t)1 << 40)) {
				k = k * 10 + (uint64_t)(d[q] - '0');
				q++;
				digits = true;
			}
			if (digits && k > 0) {
				uint64_t idx = neg ? (k <= seen ? seen - k : UINT64_MAX) : k - 1;
				if (idx < nv && !(used[idx / 8] & (1u << (idx % 8)))) {
					used[idx / 8] |= (unsigned char)(1u << (idx % 8));
					count++;
				}
			}
			while (p < end && !obj_space(d[p]))
				p++;
		}
	}
	free(used);
	return count;
}

/* FBX binary: node records (FBX 7.5 and later with 64-bit offsets). */
struct fbx_bin {
	const unsigned char *d;
	size_t n;
	bool wide;
	int64_t points;
};

static bool fbx_uint(const struct fbx_bin *f, size_t *pos, size_t lim, bool wide, uint64_t *v)
{
	size_t w = wide ? 8 : 4;
	if (lim > f->n || *pos > lim || lim - *pos < w)
		return false;
	*v = le32(f->d + *pos);
	if (wide)
		*v |= (uint64_t)le32(f->d + *pos + 4) << 32;
	*pos += w;
	return true;
}

/* Skips one property at *pos; its type, a string's bytes, an array's
 * declared length. */
static bool fbx_prop(const struct fbx_bin *f, size_t *pos, size_t lim, char *type, const unsigned char **s,
		     size_t *slen, uint64_t *alen)
{
	if (*pos >= lim)
		return false;
	*type = (char)f->d[(*pos)++];
	uint64_t v, enc, clen;
	switch (*type) {
	case 'C': *pos += 1; break;
	case 'Y': *pos += 2; break;
	case 'I': case 'F': *pos += 4; break;
	case 'D': case 'L': *pos += 8; break;
	case 'S': case 'R':
		if (!fbx_uint(f, pos, lim, false, &v) || v > lim - *pos)
			return false;
		*s = f->d + *pos;
		*slen = (size_t)v;
		*pos += (size_t)v;
		break;
	case 'f': case 'd': case 'l': case 'i': case 'b':
		if (!fbx_uint(f, pos, lim, false, alen) || !fbx_uint(f, pos, lim, false, &enc) ||
		    !fbx_uint(f, pos, lim, false, &clen) || clen > lim - *pos)
			return false;
		*pos += (size_t)clen;
		break;
	default:
		return false;
	}
	return *pos <= lim;
}

/* One node list from *pos to lim; in_mesh: the parent is a mesh geometry
 * (FBX 7 Geometry, FBX 6 Model of class "Mesh"). */
static bool fbx_nodes(struct fbx_bin *f, size_t pos, size_t lim, bool in_mesh, int depth)
{
	if (depth > 64)
		return false;
	while (pos < lim) {
		size_t at = pos;
		uint64_t end, nprops, plen;
		if (!fbx_uint(f, &pos, lim, f->wide, &end) || !fbx_uint(f, &pos, lim, f->wide, &nprops) ||
		    !fbx_uint(f, &pos, lim, f->wide, &plen) || pos >= lim)
			return false;
		size_t nlen = f->d[pos++];
		if (end == 0 && nprops == 0 && plen == 0 && nlen == 0)
			return true; /* the null record that ends a list */
		if (end <= at || end > lim || pos > end || nlen > end - pos || plen > end - pos - nlen)
			return false;
		const unsigned char *name = f->d + pos;
		pos += nlen;
		size_t props_end = pos + (size_t)plen;
		bool is_mesh = false, first = true;
		for (uint64_t k = 0; k < nprops && pos < props_end; k++) {
			char type;
			const unsigned char *s = NULL;
			size_t slen = 0;
			uint64_t alen = 0;
			if (!fbx_prop(f, &pos, props_end, &type, &s, &slen, &alen))
				return false;
			if (type == 'S' && slen == 4 && !memcmp(s, "Mesh", 4))
				is_mesh = true;
			if (first && in_mesh && nlen == 8 && !memcmp(name, "Vertices", 8) &&
			    (type == 'd' || type == 'f'))
				f->points += (int64_t)(alen / 3);
			first = false;
		}
		bool container = (nlen == 8 && !memcmp(name, "Geometry", 8)) ||
				 (nlen == 5 && !memcmp(name, "Model", 5));
		if (props_end < end && !fbx_nodes(f, props_end, (size_t)end, !in_mesh && container && is_mesh,
						  depth + 1))
			return false;
		pos = (size_t)end;
	}
	return true;
}

static bool fbx_ident(unsigned char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_' ||
	       ch == '|';
}

static bool fbx_number_char(unsigned char ch)
{
	return (ch >= '0' && ch <= '9') || ch == '-' || ch == '+' || ch == '.' || ch == 'e' || ch == 'E';
}

/* FBX ASCII: "Vertices: *N {a: ...}" (7.x) or "Vertices: x,y,z,..." (6.x)
 * inside a Geometry (or 6.x Model) whose class is "Mesh". */
static int64_t fbx_ascii_points(const unsigned char *d, size_t n)
{
	int depth = 0, mesh_depth = -1;
	bool pending = false, pending_mesh = false;
	int64_t total = 0;
	size_t i = 0;
	while (i < n) {
		unsigned char ch = d[i];
		if (ch == ';') {
			next_line(d, n, &i);
		} else if (ch == '"') {
			const unsigned char *q = memchr(d + i + 1, '"', n - i - 1);
			size_t close = q ? (size_t)(q - d) : n;
			if (pending && close - i - 1 == 4 && !memcmp(d + i + 1, "Mesh", 4))
				pending_mesh = true;
			i = close < n ? close + 1 : n;
		} else if (ch == '{') {
			if (++depth > 10000)
				return -1;
			if (pending && pending_mesh)
				mesh_depth = depth;
			pending = false;
			i++;
		} else if (ch == '}') {
			if (depth == mesh_depth)
				mesh_depth = -1;
			if (--depth < 0)
				return -1;
			pending = false;
			i++;
		} else if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_') {
			size_t s = i;
			while (i < n && fbx_ident(d[i]))
				i++;
			size_t len = i - s;
			size_t j = i;
			while (j < n && (d[j] == ' ' || d[j] == '\t'))
				j++;
			if (j >= n || d[j] != ':')
				continue;
			i = j + 1;
			if (mesh_depth < 0 && ((len == 8 && !memcmp(d + s, "Geometry", 8)) ||
					       (len == 5 && !memcmp(d + s, "Model", 5)))) {
				pending = true;
				pending_mesh = false;
			} else if (mesh_depth == depth && len == 8 && !memcmp(d + s, "Vertices", 8)) {
				while (i < n && obj_space(d[i]))
					i++;
				if (i < n && d[i] == '*') {
					int64_t v = 0;
					for (i++; i < n && d[i] >= '0' && d[i] <= '9' && v < ((int64_t)1 << 40); i++)
						v = v * 10 + (d[i] - '0');
					total += v / 3;
				} else {
					int64_t numbers = 0;
					for (;;) {
						while (i < n && (obj_space(d[i]) || d[i] == ',' || d[i] == '\n'))
							i++;
						if (i >= n || !fbx_number_char(d[i]) || d[i] == 'e' || d[i] == 'E')
							break;
						while (i < n && fbx_number_char(d[i]))
							i++;
						numbers++;
					}
					total += numbers / 3;
				}
			}
		} else {
			i++;
		}
	}
	return total;
}

static int64_t fbx_control_points(const unsigned char *d, size_t n)
{
	static const char magic[] = "Kaydara FBX Binary  ";
	if (n >= 27 && !memcmp(d, magic, sizeof(magic) - 1)) {
		struct fbx_bin f = { .d = d, .n = n, .wide = le32(d + 23) >= 7500 };
		return fbx_nodes(&f, 27, n, false, 0) ? f.points : -1;
	}
	return fbx_ascii_points(d, n);
}

/* glTF: the count of every distinct POSITION accessor of every primitive. */
static int64_t gltf_accessor_vertices(json_t *doc)
{
	json_t *accessors = json_object_get(doc, "accessors");
	size_t na = json_array_size(accessors);
	bool *seen = xcalloc(na ? na : 1, 1);
	int64_t total = 0;
	size_t i, j;
	json_t *mesh, *prim;
	json_array_foreach(json_object_get(doc, "meshes"), i, mesh) {
		json_array_foreach(json_object_get(mesh, "primitives"), j, prim) {
			json_t *a = json_object_get(json_object_get(prim, "attributes"), "POSITION");
			json_int_t k = json_is_integer(a) ? json_integer_value(a) : -1;
			if (k < 0 || (size_t)k >= na || seen[k])
				continue;
			seen[k] = true;
			json_t *cnt = json_object_get(json_array_get(accessors, (size_t)k), "count");
			if (json_is_integer(cnt) && json_integer_value(cnt) > 0 &&
			    json_integer_value(cnt) < ((json_int_t)1 << 40))
				total += json_integer_value(cnt);
		}
	}
	free(seen);
	return total;
}

/* -------------------------------------------------------------- the scene */

typedef struct { double m[4][4]; } mat4;

static mat4 mat_from_ai(const struct aiMatrix4x4 *a)
{
	mat4 r = { { { a->a1, a->a2, a->a3, a->a4 }, { a->b1, a->b2, a->b3, a->b4 },
		     { a->c1, a->c2, a->c3, a->c4 }, { a->d1, a->d2, a->d3, a->d4 } } };
	return r;
}

static mat4 mat_mul(const mat4 *a, const mat4 *b)
{
	mat4 r;
	for (int i = 0; i < 4; i++)
		for (int j = 0; j < 4; j++)
			r.m[i][j] = a->m[i][0] * b->m[0][j] + a->m[i][1] * b->m[1][j] +
				    a->m[i][2] * b->m[2][j] + a->m[i][3] * b->m[3][j];
	return r;
}

struct bbox {
	double lo[3], hi[3];
	bool any;
};

static void bbox_add(struct bbox *b, const double p[3])
{
	if (!isfinite(p[0]) || !isfinite(p[1]) || !isfinite(p[2]))
		return;
	for (int k = 0; k < 3; k++) {
		if (!b->any || p[k] < b->lo[k])
			b->lo[k] = p[k];
		if (!b->any || p[k] > b->hi[k])
			b->hi[k] = p[k];
	}
	b->any = true;
}

static void transform(const mat4 *t, double x, double y, double z, double out[3])
{
	for (int k = 0; k < 3; k++)
		out[k] = t->m[k][0] * x + t->m[k][1] * y + t->m[k][2] * z + t->m[k][3];
}

struct walk {
	const struct aiScene *scene;
	struct bbox *mesh_box; /* per mesh, local space */
	struct bbox world;
	uint64_t budget;       /* vertex transforms left for the exact box */
	bool approximated, too_deep;
};

static void walk_node(struct walk *w, const struct aiNode *node, const mat4 *parent, int depth)
{
	if (depth > MAX_NODE_DEPTH) {
		w->too_deep = true;
		return;
	}
	mat4 local = mat_from_ai(&node->mTransformation);
	mat4 world = mat_mul(parent, &local);
	for (unsigned i = 0; i < node->mNumMeshes; i++) {
		unsigned mi = node->mMeshes[i];
		if (mi >= w->scene->mNumMeshes)
			continue;
		const struct aiMesh *mesh = w->scene->mMeshes[mi];
		const struct bbox *mb = &w->mesh_box[mi];
		if (!mb->any)
			continue;
		double p[3];
		if (mesh->mNumVertices <= w->budget) {
			w->budget -= mesh->mNumVertices;
			for (unsigned v = 0; v < mesh->mNumVertices; v++) {
				const struct aiVector3D *q = &mesh->mVertices[v];
				transform(&world, q->x, q->y, q->z, p);
				bbox_add(&w->world, p);
			}
		} else {
			/* Too many instances of big meshes: the box of the
			 * transformed local box, which can only be larger. */
			w->approximated = true;
			for (int k = 0; k < 8; k++) {
				transform(&world, k & 1 ? mb->hi[0] : mb->lo[0],
					  k & 2 ? mb->hi[1] : mb->lo[1],
					  k & 4 ? mb->hi[2] : mb->lo[2], p);
				bbox_add(&w->world, p);
			}
		}
	}
	for (unsigned i = 0; i < node->mNumChildren; i++)
		if (node->mChildren[i])
			walk_node(w, node->mChildren[i], &world, depth + 1);
}

static double tidy(double v)
{
	return round(v * 1e6) / 1e6 + 0.0; /* float noise off, no "-0" */
}

static json_t *dimensions(struct child *c, const struct aiScene *sc)
{
	struct walk w = { .scene = sc, .budget = EXACT_BBOX_BUDGET };
	w.mesh_box = xcalloc(sc->mNumMeshes ? sc->mNumMeshes : 1, sizeof(struct bbox));
	bool nonfinite = false;
	for (unsigned i = 0; i < sc->mNumMeshes; i++) {
		const struct aiMesh *m = sc->mMeshes[i];
		for (unsigned v = 0; v < m->mNumVertices; v++) {
			double p[3] = { m->mVertices[v].x, m->mVertices[v].y, m->mVertices[v].z };
			if (!isfinite(p[0]) || !isfinite(p[1]) || !isfinite(p[2]))
				nonfinite = true;
			bbox_add(&w.mesh_box[i], p);
		}
	}
	mat4 ident = { { { 1, 0, 0, 0 }, { 0, 1, 0, 0 }, { 0, 0, 1, 0 }, { 0, 0, 0, 1 } } };
	if (sc->mRootNode)
		walk_node(&w, sc->mRootNode, &ident, 0);
	free(w.mesh_box);
	if (nonfinite)
		warn(c, "some vertex positions are not finite numbers (ignored for dimensions)");
	if (w.approximated)
		warn(c, "dimensions approximated from per-mesh bounding boxes");
	if (w.too_deep)
		warn(c, "node hierarchy deeper than %d levels (ignored below)", MAX_NODE_DEPTH);
	double d[3] = { 0, 0, 0 };
	for (int k = 0; k < 3 && w.world.any; k++) {
		d[k] = tidy(w.world.hi[k] - w.world.lo[k]);
		if (!isfinite(d[k]))
			d[k] = 0;
	}
	return json_pack("{s:f, s:f, s:f}", "x", d[0], "y", d[1], "z", d[2]);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Distinct bone names over all meshes (one skeleton is shared by meshes). */
static size_t count_bones(const struct aiScene *sc, bool *rigged)
{
	size_t total = 0;
	for (unsigned i = 0; i < sc->mNumMeshes; i++)
		total += sc->mMeshes[i]->mNumBones;
	*rigged = total > 0;
	if (!total)
		return 0;
	const char **names = xmalloc(total * sizeof(*names));
	size_t n = 0;
	for (unsigned i = 0; i < sc->mNumMeshes; i++)
		for (unsigned b = 0; b < sc->mMeshes[i]->mNumBones; b++)
			if (sc->mMeshes[i]->mBones[b])
				names[n++] = sc->mMeshes[i]->mBones[b]->mName.data;
	qsort(names, n, sizeof(*names), cmp_str);
	size_t distinct = 0;
	for (size_t i = 0; i < n; i++)
		if (i == 0 || strcmp(names[i], names[i - 1]))
			distinct++;
	free(names);
	return distinct;
}

/* The embedded texture a material path names: "*N", or (FBX) the
 * embedded texture's original file name.  -1 when not embedded. */
static long embedded_index(const struct aiScene *sc, const char *path)
{
	if (path[0] == '*') {
		int64_t v;
		if (parse_i64_range(path + 1, 0, (int64_t)sc->mNumTextures - 1, &v))
			return (long)v;
		return -1;
	}
	const char *base = strrchr(path, '/');
	const char *bs = strrchr(path, '\\');
	base = bs > base ? bs : base;
	base = base ? base + 1 : path;
	for (unsigned i = 0; i < sc->mNumTextures; i++) {
		const char *f = sc->mTextures[i]->mFilename.data;
		const char *fb = MAX(strrchr(f, '/'), strrchr(f, '\\'));
		fb = fb ? fb + 1 : f;
		if (f[0] && (!strcmp(f, path) || !strcmp(fb, base)))
			return (long)i;
	}
	return -1;
}

static void list_materials(struct child *c, const struct aiScene *sc, json_t *out,
			   json_t *materials, json_t *textures)
{
	json_t *seen_paths = json_array();
	bool referenced[256] = { false }; /* first 256 embedded textures */
	for (unsigned i = 0; i < sc->mNumMaterials; i++) {
		const struct aiMaterial *mat = sc->mMaterials[i];
		struct aiString name;
		/* assimp invents AI_DEFAULT_MATERIAL_NAME for meshes without one. */
		if (aiGetMaterialString(mat, AI_MATKEY_NAME, &name) == aiReturn_SUCCESS && name.length &&
		    strcmp(name.data, AI_DEFAULT_MATERIAL_NAME) && json_array_size(materials) < MAX_LIST)
			json_array_append_new(materials, safe_string(name.data, name.length));
		for (int t = 1; t < (int)ARRAY_LEN(TEXTURE_TYPES); t++) {
			unsigned n = aiGetMaterialTextureCount(mat, (enum aiTextureType)t);
			for (unsigned k = 0; k < n && k < 64; k++) {
				struct aiString path;
				if (aiGetMaterialTexture(mat, (enum aiTextureType)t, k, &path, NULL, NULL,
							 NULL, NULL, NULL, NULL) != aiReturn_SUCCESS ||
				    !path.length)
					continue;
				json_t *key = safe_string(path.data, path.length);
				size_t j;
				json_t *e;
				bool dup = false;
				json_array_foreach(seen_paths, j, e)
					dup = dup || json_equal(e, key);
				if (dup || json_array_size(textures) >= MAX_LIST) {
					json_decref(key);
					continue;
				}
				json_array_append(seen_paths, key);
				long emb = embedded_index(sc, path.data);
				json_t *tex;
				if (emb >= 0) {
					tex = json_pack("{s:I, s:s}", "embedded", (json_int_t)emb,
							"type", TEXTURE_TYPES[t]);
					if (emb < 256)
						referenced[emb] = true;
				} else {
					tex = json_pack("{s:O, s:s}", "path", key, "type", TEXTURE_TYPES[t]);
					add_unique(c->refs, MAX_REFS, path.data, path.length);
				}
				json_decref(key);
				json_array_append_new(textures, tex);
			}
		}
	}
	/* Embedded images no material uses are still textures in the file. */
	for (unsigned i = 0; i < sc->mNumTextures && json_array_size(textures) < MAX_LIST; i++)
		if (i >= 256 || !referenced[i])
			json_array_append_new(textures, json_pack("{s:I, s:s}", "embedded",
								  (json_int_t)i, "type", "unknown"));
	json_decref(seen_paths);
	json_object_set_new(out, "has_textures",
			    json_boolean(sc->mNumTextures > 0 || json_array_size(textures) > 0));
}

static json_t *describe(struct child *c, const struct aiScene *sc)
{
	uint64_t tris = 0, faces = 0, verts = 0, lines = 0, points = 0;
	for (unsigned i = 0; i < sc->mNumMeshes; i++) {
		const struct aiMesh *m = sc->mMeshes[i];
		verts += m->mNumVertices;
		for (unsigned f = 0; f < m->mNumFaces; f++) {
			unsigned n = m->mFaces[f].mNumIndices;
			if (n >= 3) {
				faces++;
				tris += n - 2; /* what triangulation makes of it */
			} else if (n == 2)
				lines++;
			else if (n == 1)
				points++;
		}
	}
	/* Never more than assimp imported (each stored vertex used by a face
	 * becomes at least one imported one): a file cannot claim more. */
	int64_t stored = c->stored_vertices;
	if (stored < 0)
		warn(c, "vertex_count is the imported (render) vertex count: the file's own vertex records "
			"could not be read");
	uint64_t vertex_count = stored >= 0 ? MIN((uint64_t)stored, verts) : verts;
	if (lines || points)
		warn(c, "%llu line and %llu point primitives are not counted as polygons",
		     (unsigned long long)lines, (unsigned long long)points);
	bool rigged;
	size_t bones = count_bones(sc, &rigged);
	json_t *out = json_object();
	json_t *materials = json_array(), *textures = json_array();
	list_materials(c, sc, out, materials, textures);
	json_object_set_new(out, "poly_count", json_integer((json_int_t)tris));
	json_object_set_new(out, "vertex_count", json_integer((json_int_t)vertex_count));
	json_object_set_new(out, "render_vertex_count", json_integer((json_int_t)verts));
	json_object_set_new(out, "face_count", json_integer((json_int_t)faces));
	json_object_set_new(out, "file_format", json_string(c->format));
	json_object_set_new(out, "has_animations", json_boolean(sc->mNumAnimations > 0));
	json_object_set_new(out, "has_rigging", json_boolean(rigged));
	json_object_set_new(out, "materials", materials);
	json_object_set_new(out, "textures", textures);
	json_object_set_new(out, "dimensions", dimensions(c, sc));
	json_object_set_new(out, "mesh_count", json_integer(sc->mNumMeshes));
	json_object_set_new(out, "bone_count", json_integer((json_int_t)bones));
	json_object_set_new(out, "animation_count", json_integer(sc->mNumAnimations));
	fingerprint_describe(out, sc); /* fingerprint, NaN count, names: fingerprint.h */
	json_object_set_new(out, "quality", quality_scan(sc, c->format));
	return out;
}

/* --------------------------------------------------------------- the run */

/* assimp's own warnings and errors ("Warn,  T0: glTF2: ...") become ours;
 * an allocation that failed on the memory limit may be caught inside an
 * importer and logged, so remember it for the final message. */
static void on_log(const char *msg, char *user)
{
	struct child *c = (struct child *)user;
	if (strncmp(msg, "Warn", 4) && strncmp(msg, "Error", 5))
		return;
	if (strstr(msg, "bad_alloc"))
		c->out_of_memory = true;
	if (strstr(msg, MAIN_STEM) || strstr(msg, "<add reason>"))
		return; /* about our own name for the file, or empty */
	const char *p = strstr(msg, ": ");
	p = p ? p + 2 : msg;
	size_t n = strcspn(p, "\r\n");
	add_unique(c->warnings, MAX_WARNINGS, p, MIN(n, (size_t)200));
}

/* One line, no control characters, at most 200 bytes of assimp's message. */
static void clean_message(const char *in, char *out, size_t outlen)
{
	size_t j = 0;
	for (size_t i = 0; in && in[i] && j + 1 < outlen && j < 200; i++) {
		unsigned char ch = (unsigned char)in[i];
		if (ch == '\n' || ch == '\r')
			break;
		out[j++] = ch < 0x20 || ch >= 0x7f ? '?' : (char)ch;
	}
	out[j] = '\0';
}

static int run(struct child *c)
{
	struct memfs fs = { c->data, c->len, c->main_name, model_refused, c };
	struct aiFileIO io = memfs_io(&fs);
	struct aiLogStream ls = { .callback = on_log, .user = (char *)c };
	aiAttachLogStream(&ls);
	struct aiPropertyStore *props = aiCreatePropertyStore();
	const struct aiScene *sc = aiImportFileExWithProperties(
		c->main_name, aiProcess_ValidateDataStructure, &io, props);
	aiReleasePropertyStore(props);
	if (!sc) {
		char msg[256];
		clean_message(aiGetErrorString(), msg, sizeof(msg));
		/* assimp reads .blend only up to Blender 2.7x: the caller
		 * converts newer files with Blender and analyses the GLB. */
		if (!strcmp(c->format, "BLEND"))
			return fail("blend: needs conversion");
		if (c->buffer_ref)
			return fail("glTF references external files: %.200s",
				    json_string_value(c->buffer_ref));
		if (c->out_of_memory || strstr(msg, "bad_alloc") || strstr(msg, "memory"))
			return fail("the model needs more than %u MB of memory to import", c->memory_mb);
		if (json_array_size(c->refs))
			return fail("import failed (external files are not followed): %s", msg);
		return fail("import failed: %s", msg[0] ? msg : "unknown error");
	}
	if (!sc->mNumMeshes) {
		aiReleaseImport(sc);
		if (!strcmp(c->format, "BLEND"))
			return fail("blend: needs conversion");
		if (c->out_of_memory)
			return fail("the model needs more than %u MB of memory to import", c->memory_mb);
		return fail("the model contains no meshes");
	}
	if (!strcmp(c->format, "OBJ"))
		c->stored_vertices = obj_used_vertices(c->data, c->len);
	else if (!strcmp(c->format, "FBX"))
		c->stored_vertices = fbx_control_points(c->data, c->len);
	json_t *out = describe(c, sc);
	aiReleaseImport(sc);
	if (json_array_size(c->refs))
		warn(c, "%zu external reference(s) not followed", json_array_size(c->refs));
	json_object_set(out, "external_references", c->refs);
	json_object_set(out, "warnings", c->warnings);
	print_json(out);
	json_decref(out);
	return 0;
}

static const struct { const char *name, *ext; } FORMATS[] = {
	{ "GLB", "glb" }, { "GLTF", "gltf" }, { "OBJ", "obj" }, { "FBX", "fbx" },
	{ "BLEND", "blend" },
};

int analyze_child_main(int argc, char **argv)
{
	/* If the server dies, so do we. */
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	if (argc < 1) {
		fail("usage: hwc3d analyze-model FORMAT");
		return 2;
	}
	struct child c = { .format = NULL, .memory_mb = 1024, .stored_vertices = -1 };
	unsigned cpu_s = 10;
	for (int i = 1; i + 1 < argc; i += 2) {
		int64_t v;
		if (!strcmp(argv[i], "--memory-mb") && parse_i64_range(argv[i + 1], 16, 1 << 20, &v))
			c.memory_mb = (unsigned)v;
		else if (!strcmp(argv[i], "--cpu-s") && parse_i64_range(argv[i + 1], 1, 86400, &v))
			cpu_s = (unsigned)v;
		else {
			fail("usage: bad option %.40s", argv[i]);
			return 2;
		}
	}
	for (size_t i = 0; i < ARRAY_LEN(FORMATS); i++)
		if (!strcmp(argv[0], FORMATS[i].name)) {
			c.format = FORMATS[i].name;
			c.ext = FORMATS[i].ext;
		}
	if (!c.format) {
		fail("unsupported format %.20s", argv[0]);
		return 2;
	}
	snprintf(c.main_name, sizeof(c.main_name), MAIN_STEM ".%s", c.ext);

	unsigned char *data = NULL;
	int r = sandbox_read_input(INPUT_MAX, &data, &c.len);
	if (r == -1)
		return fail("file too large to analyse (over %zu MB)", INPUT_MAX >> 20);
	if (r < 0)
		return fail("cannot read the model: %s", strerror(errno));
	c.data = data;

	/* jansson seeds its hash function from /dev/urandom on first use:
	 * now, while open() is still allowed. */
	json_object_seed(0);
	char err[256];
	struct sandbox_limits lim = {
		.memory_bytes = (uint64_t)c.memory_mb << 20, .cpu_seconds = cpu_s, .max_fds = 8,
	};
	if (sandbox_enter(&lim, err, sizeof(err)))
		return fail("%s", err);

	c.refs = json_array();
	c.warnings = json_array();
	int rc;
	if (c.len == 0) {
		rc = fail("empty file");
	} else if ((!strcmp(c.format, "GLB") || !strcmp(c.format, "GLTF")) &&
		   gltf_prescan(&c, err, sizeof(err))) {
		rc = fail("%s", err);
	} else {
		rc = run(&c);
	}
	json_decref(c.buffer_ref);
	json_decref(c.refs);
	json_decref(c.warnings);
	free(data);
	return rc;
}
