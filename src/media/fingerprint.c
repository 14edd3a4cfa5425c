/*
 * fingerprint.c: see fingerprint.h for what the vector holds and why.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <assimp/scene.h>
#include "fingerprint.h"
#include "../core/util.h"

/* Triangles measured at most; a bigger scene is sampled evenly. */
#define FP_MAX_TRIANGLES 2000000ULL
#define MAX_NAMES 64
#define MAX_NAME_LEN 128
#define MAX_DEPTH 10000

/* Adds weight w to h, split between the two bins nearest to x's place in
 * [lo, hi] (clamped). */
static void soft_add(double *h, double x, double lo, double hi, double w)
{
	double p = (x - lo) / (hi - lo) * (FP_BINS - 1);
	if (!(p > 0))
		p = 0;
	if (p > FP_BINS - 1)
		p = FP_BINS - 1;
	int i = (int)p;
	double f = p - i;
	h[i] += w * (1 - f);
	if (i + 1 < FP_BINS)
		h[i + 1] += w * f;
}

static bool finite9(const float *t)
{
	for (int k = 0; k < 9; k++)
		if (!isfinite(t[k]))
			return false;
	return true;
}

static double tri_area(const float *t, double c[3])
{
	double u[3], w[3];
	for (int k = 0; k < 3; k++) {
		u[k] = (double)t[3 + k] - t[k];
		w[k] = (double)t[6 + k] - t[k];
		c[k] = ((double)t[k] + t[3 + k] + t[6 + k]) / 3;
	}
	double x = u[1] * w[2] - u[2] * w[1], y = u[2] * w[0] - u[0] * w[2], z = u[0] * w[1] - u[1] * w[0];
	return 0.5 * sqrt(x * x + y * y + z * z);
}

static int cmp_desc(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? 1 : x > y ? -1 : 0;
}

static void normalise(double *h)
{
	double s = 0;
	for (int i = 0; i < FP_BINS; i++)
		s += h[i];
	for (int i = 0; i < FP_BINS && s > 0; i++)
		h[i] /= s;
}

bool fingerprint_triangles(const float *xyz, size_t ntri, fingerprint_t *out)
{
	memset(out, 0, sizeof(*out));
	double lo[3] = { 0 }, hi[3] = { 0 }, sum_a = 0, cen[3] = { 0 };
	bool any = false;
	uint64_t used = 0;
	for (size_t i = 0; i < ntri; i++) {
		const float *t = xyz + 9 * i;
		if (!finite9(t))
			continue;
		if (!any)
			for (int k = 0; k < 3; k++)
				lo[k] = hi[k] = t[k];
		any = true;
		for (int v = 0; v < 3; v++)
			for (int k = 0; k < 3; k++) {
				double x = t[3 * v + k];
				if (x < lo[k])
					lo[k] = x;
				if (x > hi[k])
					hi[k] = x;
			}
		double c[3], a = tri_area(t, c);
		sum_a += a;
		for (int k = 0; k < 3; k++)
			cen[k] += a * c[k];
		used++;
	}
	double ext[3] = { hi[0] - lo[0], hi[1] - lo[1], hi[2] - lo[2] };
	double diag = sqrt(ext[0] * ext[0] + ext[1] * ext[1] + ext[2] * ext[2]);
	if (!any || !(diag > 0) || !isfinite(diag) || !(sum_a > 0) || !isfinite(sum_a))
		return false;
	for (int k = 0; k < 3; k++)
		cen[k] /= sum_a;
	double ha[FP_BINS] = { 0 }, he[FP_BINS] = { 0 }, hd[FP_BINS] = { 0 };
	double d2 = diag * diag;
	for (size_t i = 0; i < ntri; i++) {
		const float *t = xyz + 9 * i;
		if (!finite9(t))
			continue;
		double c[3], a = tri_area(t, c);
		soft_add(ha, a > 0 ? log10(a / d2) : -9, -9, 0, 1);
		for (int e = 0; e < 3; e++) {
			const float *p = t + 3 * e, *q = t + 3 * ((e + 1) % 3);
			double dx = (double)q[0] - p[0], dy = (double)q[1] - p[1], dz = (double)q[2] - p[2];
			double len = sqrt(dx * dx + dy * dy + dz * dz) / diag;
			soft_add(he, len > 0 ? log10(len) : -5, -5, 0, 1);
		}
		double dx = c[0] - cen[0], dy = c[1] - cen[1], dz = c[2] - cen[2];
		soft_add(hd, sqrt(dx * dx + dy * dy + dz * dz) / diag, 0, 1, a);
	}
	normalise(ha);
	normalise(he);
	normalise(hd);
	for (int i = 0; i < FP_BINS; i++) {
		out->v[i] = (float)ha[i];
		out->v[FP_BINS + i] = (float)he[i];
		out->v[2 * FP_BINS + i] = (float)hd[i];
	}
	for (int k = 0; k < 3; k++)
		ext[k] /= diag;
	qsort(ext, 3, sizeof(double), cmp_desc);
	for (int k = 0; k < 3; k++)
		out->v[3 * FP_BINS + k] = (float)ext[k];
	out->triangles = used;
	return true;
}

double fingerprint_similarity(const fingerprint_t *a, const fingerprint_t *b)
{
	double hist = 0, ext = 0;
	for (int i = 0; i < 3 * FP_BINS; i++)
		hist += fabs((double)a->v[i] - b->v[i]);
	for (int i = 3 * FP_BINS; i < FP_DIM; i++)
		ext += fabs((double)a->v[i] - b->v[i]);
	/* Each histogram's L1 distance is at most 2, so hist / 6 is in [0, 1];
	 * extents differ by at most about 1 each. */
	double d = 0.8 * (hist / 6) + 0.2 * (ext > 1 ? 1 : ext);
	return d >= 1 ? 0 : 1 - d;
}

int fingerprint_key(uint64_t triangles)
{
	return triangles ? (int)floor(log2((double)triangles) * 4) : 0;
}

json_t *fingerprint_json(const fingerprint_t *fp)
{
	json_t *v = json_array();
	for (int i = 0; i < FP_DIM; i++)
		json_array_append_new(v, json_real(round((double)fp->v[i] * 1e6) / 1e6));
	return json_pack("{s:i, s:I, s:o}", "key", fingerprint_key(fp->triangles), "triangles",
			 (json_int_t)fp->triangles, "v", v);
}

bool fingerprint_from_json(json_t *j, fingerprint_t *out)
{
	json_t *v = json_object_get(j, "v"), *t = json_object_get(j, "triangles");
	if (!json_is_array(v) || json_array_size(v) != FP_DIM || !json_is_integer(t) || json_integer_value(t) < 0)
		return false;
	memset(out, 0, sizeof(*out));
	for (int i = 0; i < FP_DIM; i++) {
		json_t *x = json_array_get(v, (size_t)i);
		double d = json_number_value(x);
		if (!json_is_number(x) || !(d >= 0 && d <= 1))
			return false;
		out->v[i] = (float)d;
	}
	out->triangles = (uint64_t)json_integer_value(t);
	return true;
}

/* Each value (in [0, 1]) as 4 hex digits of value * 65535: exact enough
 * (2e-5 per value) and decoded without strtod, which a lookup does once
 * per candidate. */
char *fingerprint_encode(const fingerprint_t *fp)
{
	static const char hex[] = "0123456789abcdef";
	size_t cap = 24 + FP_DIM * 4 + 1;
	char *s = xmalloc(cap);
	int n = snprintf(s, cap, "%llu:", (unsigned long long)fp->triangles);
	char *p = s + n;
	for (int i = 0; i < FP_DIM; i++) {
		double v = fp->v[i] < 0 ? 0 : fp->v[i] > 1 ? 1 : fp->v[i];
		unsigned q = (unsigned)lround(v * 65535);
		for (int k = 3; k >= 0; k--)
			*p++ = hex[(q >> (4 * k)) & 15];
	}
	*p = '\0';
	return s;
}

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

bool fingerprint_decode(const char *text, fingerprint_t *out)
{
	if (!text)
		return false;
	uint64_t t = 0;
	const char *p = text;
	if (*p < '0' || *p > '9')
		return false;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (t > (UINT64_MAX - 9) / 10)
			return false;
		t = t * 10 + (uint64_t)(*p - '0');
	}
	if (*p++ != ':')
		return false;
	for (int i = 0; i < FP_DIM; i++) {
		unsigned q = 0;
		for (int k = 0; k < 4; k++) {
			int h = hexval(*p++);
			if (h < 0)
				return false;
			q = q << 4 | (unsigned)h;
		}
		out->v[i] = (float)(q / 65535.0);
	}
	out->triangles = t;
	return *p == '\0';
}

/* ------------------------------------------------------------- the child */

struct collect {
	const struct aiScene *sc;
	float *xyz;
	size_t n, cap;
	uint64_t total, stride, seen;
	json_t *nodes;
};

typedef struct { double m[4][4]; } m4;

static m4 m4_mul(const m4 *a, const struct aiMatrix4x4 *t)
{
	double b[4][4] = { { t->a1, t->a2, t->a3, t->a4 }, { t->b1, t->b2, t->b3, t->b4 },
			   { t->c1, t->c2, t->c3, t->c4 }, { t->d1, t->d2, t->d3, t->d4 } };
	m4 r;
	for (int i = 0; i < 4; i++)
		for (int j = 0; j < 4; j++)
			r.m[i][j] = a->m[i][0] * b[0][j] + a->m[i][1] * b[1][j] + a->m[i][2] * b[2][j] +
				    a->m[i][3] * b[3][j];
	return r;
}

static void add_name(json_t *arr, const struct aiString *s)
{
	if (!s->length || json_array_size(arr) >= MAX_NAMES)
		return;
	char buf[MAX_NAME_LEN + 1];
	size_t n = 0;
	for (size_t i = 0; i < s->length && n < MAX_NAME_LEN; i++) {
		unsigned char ch = (unsigned char)s->data[i];
		buf[n++] = ch < 0x20 || ch >= 0x7f ? '_' : (char)ch;
	}
	buf[n] = '\0';
	size_t i;
	json_t *e;
	json_array_foreach(arr, i, e)
		if (!strcmp(json_string_value(e), buf))
			return;
	json_array_append_new(arr, json_string(buf));
}

static void collect_node(struct collect *c, const struct aiNode *node, const m4 *parent, int depth)
{
	if (depth > MAX_DEPTH)
		return;
	add_name(c->nodes, &node->mName);
	m4 w = m4_mul(parent, &node->mTransformation);
	for (unsigned i = 0; i < node->mNumMeshes; i++) {
		if (node->mMeshes[i] >= c->sc->mNumMeshes)
			continue;
		const struct aiMesh *m = c->sc->mMeshes[node->mMeshes[i]];
		for (unsigned f = 0; f < m->mNumFaces; f++) {
			const struct aiFace *face = &m->mFaces[f];
			for (unsigned k = 2; k < face->mNumIndices; k++) {
				if (c->seen++ % c->stride)
					continue;
				if (c->n == c->cap) {
					c->cap = c->cap ? c->cap * 2 : 1024;
					c->xyz = xrealloc(c->xyz, c->cap * 9 * sizeof(float));
				}
				unsigned idx[3] = { face->mIndices[0], face->mIndices[k - 1], face->mIndices[k] };
				float *t = c->xyz + 9 * c->n;
				bool ok = true;
				for (int v = 0; v < 3; v++) {
					if (idx[v] >= m->mNumVertices) {
						ok = false;
						break;
					}
					const struct aiVector3D *p = &m->mVertices[idx[v]];
					for (int r = 0; r < 3; r++)
						t[3 * v + r] = (float)(w.m[r][0] * p->x + w.m[r][1] * p->y +
								       w.m[r][2] * p->z + w.m[r][3]);
				}
				if (ok)
					c->n++;
			}
		}
	}
	for (unsigned i = 0; i < node->mNumChildren; i++)
		if (node->mChildren[i])
			collect_node(c, node->mChildren[i], &w, depth + 1);
}

/* Triangles of every mesh instance, to size the sample. */
static uint64_t count_instances(const struct aiScene *sc, const struct aiNode *node, int depth)
{
	if (depth > MAX_DEPTH)
		return 0;
	uint64_t n = 0;
	for (unsigned i = 0; i < node->mNumMeshes; i++) {
		if (node->mMeshes[i] >= sc->mNumMeshes)
			continue;
		const struct aiMesh *m = sc->mMeshes[node->mMeshes[i]];
		for (unsigned f = 0; f < m->mNumFaces; f++)
			if (m->mFaces[f].mNumIndices >= 3)
				n += m->mFaces[f].mNumIndices - 2;
	}
	for (unsigned i = 0; i < node->mNumChildren; i++)
		if (node->mChildren[i])
			n += count_instances(sc, node->mChildren[i], depth + 1);
	return n;
}

void fingerprint_describe(json_t *out, const struct aiScene *sc)
{
	uint64_t nonfinite = 0;
	json_t *meshes = json_array();
	for (unsigned i = 0; i < sc->mNumMeshes; i++) {
		const struct aiMesh *m = sc->mMeshes[i];
		add_name(meshes, &m->mName);
		for (unsigned v = 0; v < m->mNumVertices; v++)
			if (!isfinite(m->mVertices[v].x) || !isfinite(m->mVertices[v].y) || !isfinite(m->mVertices[v].z))
				nonfinite++;
	}
	struct collect c = { .sc = sc, .stride = 1, .nodes = json_array() };
	if (sc->mRootNode) {
		c.total = count_instances(sc, sc->mRootNode, 0);
		c.stride = c.total > FP_MAX_TRIANGLES ? (c.total + FP_MAX_TRIANGLES - 1) / FP_MAX_TRIANGLES : 1;
		m4 id = { { { 1, 0, 0, 0 }, { 0, 1, 0, 0 }, { 0, 0, 1, 0 }, { 0, 0, 0, 1 } } };
		collect_node(&c, sc->mRootNode, &id, 0);
	}
	fingerprint_t fp;
	if (c.n && fingerprint_triangles(c.xyz, c.n, &fp)) {
		fp.triangles = c.total; /* the key is the model's count, sampled or not */
		json_object_set_new(out, "fingerprint", fingerprint_json(&fp));
	}
	free(c.xyz);
	json_object_set_new(out, "nonfinite_vertices", json_integer((json_int_t)nonfinite));
	json_object_set_new(out, "node_names", c.nodes);
	json_object_set_new(out, "mesh_names", meshes);
}

static bool names_ok(json_t *a)
{
	if (!json_is_array(a) || json_array_size(a) > MAX_NAMES)
		return false;
	size_t i;
	json_t *e;
	json_array_foreach(a, i, e)
		if (!json_is_string(e) || json_string_length(e) > MAX_NAME_LEN)
			return false;
	return true;
}

void fingerprint_keep(json_t *out, json_t *in)
{
	fingerprint_t fp;
	json_t *f = json_object_get(in, "fingerprint");
	if (f && fingerprint_from_json(f, &fp))
		json_object_set_new(out, "fingerprint", fingerprint_json(&fp));
	json_t *nf = json_object_get(in, "nonfinite_vertices");
	if (json_is_integer(nf) && json_integer_value(nf) >= 0)
		json_object_set(out, "nonfinite_vertices", nf);
	static const char *const lists[] = { "node_names", "mesh_names" };
	for (size_t i = 0; i < 2; i++)
		if (names_ok(json_object_get(in, lists[i])))
			json_object_set(out, lists[i], json_object_get(in, lists[i]));
}
