/*
 * seed_models.c: the demo marketplace behind `hwc3d seed-demo`: creators,
 * buyers, and models whose files the program makes itself (boxes, spheres,
 * cylinders, tori, pyramids as binary glTF, with smooth normals and a
 * colour of their own), so that downloads, analysis figures and the 3D
 * viewer have real geometry.  The counts are known from construction, the
 * same ones the analysis child reports (every vertex is used by a face;
 * triangles as written).
 */
#include <math.h>
#include <sodium.h>
#include <unistd.h>
#include "cli.h"
#include "../core/log.h"
#include "../svc/jobs.h"
#include "../svc/model_convert.h"
#include "../core/strbuf.h"
#include "../core/util.h"
#include "../media/image.h"
#include "../api/commerce.h"
#include "../svc/orders.h"
#include "../svc/rollup.h"
#include "../svc/storage.h"

struct shape {
	float *pos;   /* 3 per vertex */
	uint32_t *idx; /* 3 per triangle, 0-based */
	int64_t tris, verts;
	double dx, dy, dz;
	int nv; /* vertices so far; the shapes below name them 1-based */
	size_t pos_cap, idx_cap;
};

static void v(struct shape *s, double x, double y, double z)
{
	if ((size_t)s->nv * 3 + 3 > s->pos_cap) {
		s->pos_cap = s->pos_cap ? s->pos_cap * 2 : 96;
		s->pos = xrealloc(s->pos, s->pos_cap * sizeof(float));
	}
	float *p = s->pos + (size_t)s->nv * 3;
	p[0] = (float)x, p[1] = (float)y, p[2] = (float)z;
	s->nv++;
}

static void tri(struct shape *s, int a, int b, int c)
{
	if ((size_t)s->tris * 3 + 3 > s->idx_cap) {
		s->idx_cap = s->idx_cap ? s->idx_cap * 2 : 96;
		s->idx = xrealloc(s->idx, s->idx_cap * sizeof(uint32_t));
	}
	uint32_t *t = s->idx + (size_t)s->tris * 3;
	t[0] = (uint32_t)(a - 1), t[1] = (uint32_t)(b - 1), t[2] = (uint32_t)(c - 1);
	s->tris++;
}

static void quad(struct shape *s, int a, int b, int c, int d)
{
	tri(s, a, b, c);
	tri(s, a, c, d);
}

static void box(struct shape *s, double w, double h, double d)
{
	for (int i = 0; i < 8; i++)
		v(s, (i & 1 ? w : -w) / 2, (i & 2 ? h : -h) / 2, (i & 4 ? d : -d) / 2);
	quad(s, 1, 3, 4, 2);
	quad(s, 5, 6, 8, 7);
	quad(s, 1, 2, 6, 5);
	quad(s, 3, 7, 8, 4);
	quad(s, 1, 5, 7, 3);
	quad(s, 2, 4, 8, 6);
	s->dx = w, s->dy = h, s->dz = d;
}

static void sphere(struct shape *s, double r, int segs, int rings)
{
	v(s, 0, r, 0);
	for (int i = 1; i < rings; i++)
		for (int j = 0; j < segs; j++) {
			double th = M_PI * i / rings, ph = 2 * M_PI * j / segs;
			v(s, r * sin(th) * cos(ph), r * cos(th), r * sin(th) * sin(ph));
		}
	v(s, 0, -r, 0);
	int bottom = s->nv;
	for (int j = 0; j < segs; j++)
		tri(s, 1, 2 + (j + 1) % segs, 2 + j);
	for (int i = 0; i < rings - 2; i++)
		for (int j = 0; j < segs; j++) {
			int a = 2 + i * segs + j, b = 2 + i * segs + (j + 1) % segs;
			quad(s, a, b, b + segs, a + segs);
		}
	for (int j = 0; j < segs; j++) {
		int base = 2 + (rings - 2) * segs;
		tri(s, bottom, base + j, base + (j + 1) % segs);
	}
	s->dx = s->dy = s->dz = 2 * r;
}

static void cylinder(struct shape *s, double r, double h, int segs)
{
	for (int j = 0; j < segs; j++) {
		double ph = 2 * M_PI * j / segs;
		v(s, r * cos(ph), -h / 2, r * sin(ph));
		v(s, r * cos(ph), h / 2, r * sin(ph));
	}
	v(s, 0, -h / 2, 0);
	v(s, 0, h / 2, 0);
	int cb = 2 * segs + 1, ct = 2 * segs + 2;
	for (int j = 0; j < segs; j++) {
		int a = 1 + 2 * j, b = 1 + 2 * ((j + 1) % segs);
		quad(s, a, b, b + 1, a + 1);
		tri(s, cb, b, a);
		tri(s, ct, a + 1, b + 1);
	}
	s->dx = s->dz = 2 * r;
	s->dy = h;
}

static void torus(struct shape *s, double R, double r, int segs, int rings)
{
	for (int i = 0; i < rings; i++)
		for (int j = 0; j < segs; j++) {
			double u = 2 * M_PI * i / rings, w = 2 * M_PI * j / segs;
			v(s, (R + r * cos(w)) * cos(u), r * sin(w), (R + r * cos(w)) * sin(u));
		}
	for (int i = 0; i < rings; i++)
		for (int j = 0; j < segs; j++) {
			int a = 1 + i * segs + j, b = 1 + i * segs + (j + 1) % segs;
			int c = 1 + ((i + 1) % rings) * segs + (j + 1) % segs, d = 1 + ((i + 1) % rings) * segs + j;
			quad(s, a, b, c, d);
		}
	s->dx = s->dz = 2 * (R + r);
	s->dy = 2 * r;
}

static void pyramid(struct shape *s, double w, double h)
{
	v(s, -w / 2, 0, -w / 2);
	v(s, w / 2, 0, -w / 2);
	v(s, w / 2, 0, w / 2);
	v(s, -w / 2, 0, w / 2);
	v(s, 0, h, 0);
	quad(s, 1, 2, 3, 4);
	tri(s, 1, 5, 2);
	tri(s, 2, 5, 3);
	tri(s, 3, 5, 4);
	tri(s, 4, 5, 1);
	s->dx = s->dz = w;
	s->dy = h;
}

static const struct demo_model {
	const char *title, *category, *tags, *description;
	int price_cents, shape, detail;
	bool featured;
} demo_models[] = {
	{ "Cyberpunk Cargo Crate", "sci-fi", "[\"crate\",\"cyberpunk\",\"props\"]", "A neon-trimmed cargo crate for sci-fi docks.", 499, 0, 1, true },
	{ "Lowpoly Planet", "environments", "[\"planet\",\"lowpoly\",\"space\"]", "A stylised planet for space scenes.", 0, 1, 12, true },
	{ "Marble Column", "architecture", "[\"column\",\"classical\",\"marble\"]", "A classical column, game ready.", 299, 2, 24, false },
	{ "Donut Sculpt Base", "props", "[\"donut\",\"food\",\"torus\"]", "The classic donut, ready for sprinkles.", 0, 3, 16, true },
	{ "Desert Pyramid", "architecture", "[\"pyramid\",\"desert\",\"ancient\"]", "A monument for desert levels.", 799, 4, 1, false },
	{ "Sci-Fi Fuel Tank", "sci-fi", "[\"tank\",\"fuel\",\"industrial\"]", "Pressurised tank for hard-surface kits.", 1299, 2, 32, true },
	{ "Moon Rock", "nature", "[\"rock\",\"moon\",\"space\"]", "A cratered rock, low and mid poly.", 199, 1, 8, false },
	{ "Ring Portal", "fantasy", "[\"portal\",\"ring\",\"magic\"]", "A stone ring portal for fantasy worlds.", 1599, 3, 48, false },
	{ "Wooden Stool", "furniture", "[\"stool\",\"wood\",\"interior\"]", "A simple stool for interiors.", 350, 2, 12, false },
	{ "Storage Cabinet", "furniture", "[\"cabinet\",\"storage\",\"interior\"]", "A tall cabinet, clean topology.", 900, 0, 2, false },
	{ "Racing Tyre", "vehicles", "[\"tyre\",\"wheel\",\"racing\"]", "A racing tyre for vehicle kits.", 2499, 3, 64, true },
	{ "Fuel Barrel", "props", "[\"barrel\",\"industrial\",\"props\"]", "A steel drum, ready to texture.", 0, 2, 20, false },
	{ "Glass Orb", "electronics", "[\"orb\",\"glass\",\"light\"]", "A smooth orb for lamps and displays.", 450, 1, 32, false },
	{ "Tomb Entrance", "architecture", "[\"tomb\",\"ancient\",\"stone\"]", "A stepped stone entrance.", 1999, 4, 1, false },
	{ "Robot Head Blockout", "characters", "[\"robot\",\"blockout\",\"character\"]", "A blockout to start a robot character.", 0, 0, 3, false },
	{ "Space Station Ring", "sci-fi", "[\"station\",\"ring\",\"space\"]", "A habitat ring for orbital scenes.", 3999, 3, 96, true },
	{ "Tree Trunk", "nature", "[\"tree\",\"trunk\",\"forest\"]", "A trunk section for forests.", 150, 2, 10, false },
	{ "Dragon Egg", "fantasy", "[\"egg\",\"dragon\",\"magic\"]", "A dragon egg, subdivided.", 899, 1, 48, false },
	{ "Speaker Cabinet", "electronics", "[\"speaker\",\"audio\",\"electronics\"]", "A box speaker.", 599, 0, 1, false },
	{ "Hover Car Chassis", "vehicles", "[\"car\",\"hover\",\"sci-fi\"]", "A chassis blockout for hover cars.", 2999, 0, 4, false },
	{ "Fox Totem", "animals", "[\"fox\",\"totem\",\"stylised\"]", "A stylised totem shape.", 650, 4, 1, false },
	{ "Owl Perch", "animals", "[\"owl\",\"perch\",\"bird\"]", "A perch ring for bird rigs.", 0, 3, 12, false },
	{ "Concrete Block", "environments", "[\"concrete\",\"block\",\"urban\"]", "Modular urban block.", 99, 0, 1, false },
	{ "Water Tower", "architecture", "[\"tower\",\"water\",\"urban\"]", "An urban water tower tank.", 1499, 2, 40, false },
};

static void make_shape(struct shape *s, int kind, int detail)
{
	*s = (struct shape){ 0 };
	switch (kind) {
	case 0:
		box(s, 1.0 * detail, 1.0, 1.0 + detail * 0.5);
		break;
	case 1:
		sphere(s, 1.0, detail * 2, detail);
		break;
	case 2:
		cylinder(s, 0.5, 2.0, detail);
		break;
	case 3:
		torus(s, 1.0, 0.3, detail / 2 + 6, detail);
		break;
	default:
		pyramid(s, 2.0, 1.5);
		break;
	}
	s->verts = s->nv;
}

static void free_shape(struct shape *s)
{
	free(s->pos);
	free(s->idx);
}

/* The shape as a GLB (glTF 2.0 binary): one mesh of positions, normals
 * (each vertex's the sum of its faces' area-weighted normals) and 32-bit
 * indices, with one PBR material of colour rgb.  malloc'd, *len its size. */
static unsigned char *shape_glb(const struct shape *s, const float rgb[3], size_t *len)
{
	size_t nv = (size_t)s->nv, ni = (size_t)s->tris * 3;
	float *nrm = xcalloc(nv * 3, sizeof(float));
	for (size_t t = 0; t < ni; t += 3) {
		const float *a = s->pos + s->idx[t] * 3, *b = s->pos + s->idx[t + 1] * 3, *c = s->pos + s->idx[t + 2] * 3;
		float u[3] = { b[0] - a[0], b[1] - a[1], b[2] - a[2] }, w[3] = { c[0] - a[0], c[1] - a[1], c[2] - a[2] };
		float n[3] = { u[1] * w[2] - u[2] * w[1], u[2] * w[0] - u[0] * w[2], u[0] * w[1] - u[1] * w[0] };
		for (int k = 0; k < 3; k++)
			for (int d = 0; d < 3; d++)
				nrm[s->idx[t + k] * 3 + d] += n[d];
	}
	float lo[3] = { INFINITY, INFINITY, INFINITY }, hi[3] = { -INFINITY, -INFINITY, -INFINITY };
	for (size_t i = 0; i < nv; i++) {
		float *n = nrm + i * 3;
		float l = sqrtf(n[0] * n[0] + n[1] * n[1] + n[2] * n[2]);
		for (int d = 0; d < 3; d++) {
			n[d] = l > 0 ? n[d] / l : (d == 1);
			lo[d] = fminf(lo[d], s->pos[i * 3 + d]);
			hi[d] = fmaxf(hi[d], s->pos[i * 3 + d]);
		}
	}
	size_t vbytes = nv * 3 * sizeof(float), ibytes = ni * sizeof(uint32_t), bin = 2 * vbytes + ibytes;
	strbuf_t j;
	sb_init(&j, 0);
	sb_addf(&j, "{\"asset\":{\"version\":\"2.0\",\"generator\":\"hwc3d seed-demo\"},\"scene\":0,"
		"\"scenes\":[{\"nodes\":[0]}],\"nodes\":[{\"mesh\":0,\"name\":\"demo\"}],"
		"\"meshes\":[{\"primitives\":[{\"attributes\":{\"POSITION\":0,\"NORMAL\":1},\"indices\":2,\"material\":0}]}],"
		"\"materials\":[{\"pbrMetallicRoughness\":{\"baseColorFactor\":[%.3f,%.3f,%.3f,1],"
		"\"metallicFactor\":0.1,\"roughnessFactor\":0.55}}],"
		"\"buffers\":[{\"byteLength\":%zu}],\"bufferViews\":["
		"{\"buffer\":0,\"byteOffset\":0,\"byteLength\":%zu,\"target\":34962},"
		"{\"buffer\":0,\"byteOffset\":%zu,\"byteLength\":%zu,\"target\":34962},"
		"{\"buffer\":0,\"byteOffset\":%zu,\"byteLength\":%zu,\"target\":34963}],\"accessors\":["
		"{\"bufferView\":0,\"componentType\":5126,\"count\":%zu,\"type\":\"VEC3\","
		"\"min\":[%.5f,%.5f,%.5f],\"max\":[%.5f,%.5f,%.5f]},"
		"{\"bufferView\":1,\"componentType\":5126,\"count\":%zu,\"type\":\"VEC3\"},"
		"{\"bufferView\":2,\"componentType\":5125,\"count\":%zu,\"type\":\"SCALAR\"}]}",
		rgb[0], rgb[1], rgb[2], bin, vbytes, vbytes, vbytes, 2 * vbytes, ibytes, nv, lo[0], lo[1], lo[2], hi[0],
		hi[1], hi[2], nv, ni);
	while (j.len % 4)
		sb_adds(&j, " ");
	size_t total = 12 + 8 + j.len + 8 + bin;
	unsigned char *out = xcalloc(1, total), *o = out;
	uint32_t head[5] = { 0x46546C67u /* glTF */, 2, (uint32_t)total, (uint32_t)j.len, 0x4E4F534Au /* JSON */ };
	memcpy(o, head, sizeof(head)), o += sizeof(head);
	memcpy(o, j.buf, j.len), o += j.len;
	uint32_t binhead[2] = { (uint32_t)bin, 0x004E4942u /* BIN */ };
	memcpy(o, binhead, sizeof(binhead)), o += sizeof(binhead);
	memcpy(o, s->pos, vbytes), o += vbytes;
	memcpy(o, nrm, vbytes), o += vbytes;
	memcpy(o, s->idx, ibytes);
	sb_release(&j);
	free(nrm);
	*len = total;
	return out;
}

/* A picture of the shape for its thumbnail: the triangles seen from above
 * and to the side, lit by one light from the camera's upper left,
 * z-buffered, on a light background; w x h RGB, malloc'd. */
#define THUMB_W 640
#define THUMB_H 480
static unsigned char *shape_picture(const struct shape *s, const float rgb[3])
{
	const double yaw = 0.7, pitch = 0.45;
	const double cy = cos(yaw), sy = sin(yaw), cp = cos(pitch), sp = sin(pitch);
	size_t nv = (size_t)s->nv;
	double *xs = xcalloc(nv * 3, sizeof(double));
	double lo[2] = { INFINITY, INFINITY }, hi[2] = { -INFINITY, -INFINITY };
	for (size_t i = 0; i < nv; i++) {
		const float *p = s->pos + i * 3;
		double x = p[0] * cy - p[2] * sy, z = p[0] * sy + p[2] * cy;
		double y = p[1] * cp - z * sp;
		z = p[1] * sp + z * cp;
		xs[i * 3] = x, xs[i * 3 + 1] = -y, xs[i * 3 + 2] = z;
		lo[0] = fmin(lo[0], x), hi[0] = fmax(hi[0], x);
		lo[1] = fmin(lo[1], -y), hi[1] = fmax(hi[1], -y);
	}
	double scale = fmin(THUMB_W * 0.8 / fmax(hi[0] - lo[0], 1e-6), THUMB_H * 0.8 / fmax(hi[1] - lo[1], 1e-6));
	double ox = THUMB_W / 2.0 - scale * (lo[0] + hi[0]) / 2, oy = THUMB_H / 2.0 - scale * (lo[1] + hi[1]) / 2;
	for (size_t i = 0; i < nv; i++)
		xs[i * 3] = xs[i * 3] * scale + ox, xs[i * 3 + 1] = xs[i * 3 + 1] * scale + oy, xs[i * 3 + 2] *= scale;
	unsigned char *img = xcalloc((size_t)THUMB_W * THUMB_H, 3);
	double *zb = xcalloc((size_t)THUMB_W * THUMB_H, sizeof(double));
	for (size_t i = 0; i < (size_t)THUMB_W * THUMB_H; i++) {
		int row = (int)(i / THUMB_W);
		unsigned char g = (unsigned char)(236 - row * 24 / THUMB_H);
		img[i * 3] = g, img[i * 3 + 1] = g, img[i * 3 + 2] = (unsigned char)(g + 6 > 255 ? 255 : g + 6);
		zb[i] = -INFINITY;
	}
	const double light[3] = { -0.45, -0.6, 0.66 }; /* towards the light, in view space (y down) */
	for (size_t t = 0; t < (size_t)s->tris * 3; t += 3) {
		const double *a = xs + s->idx[t] * 3, *b = xs + s->idx[t + 1] * 3, *c = xs + s->idx[t + 2] * 3;
		double ux = b[0] - a[0], uy = b[1] - a[1], uz = b[2] - a[2], vx = c[0] - a[0], vy = c[1] - a[1],
		       vz = c[2] - a[2];
		double nx = uy * vz - uz * vy, ny = uz * vx - ux * vz, nz = ux * vy - uy * vx;
		double area = ux * vy - uy * vx; /* twice the screen area, signed */
		double len = sqrt(nx * nx + ny * ny + nz * nz);
		if (fabs(area) < 1e-9 || len == 0)
			continue;
		double lit = fabs(nx * light[0] + ny * light[1] + nz * light[2]) / len;
		double shade = 0.35 + 0.65 * lit;
		int x0 = (int)fmax(0, floor(fmin(a[0], fmin(b[0], c[0])))), x1 = (int)fmin(THUMB_W - 1, ceil(fmax(a[0], fmax(b[0], c[0]))));
		int y0 = (int)fmax(0, floor(fmin(a[1], fmin(b[1], c[1])))), y1 = (int)fmin(THUMB_H - 1, ceil(fmax(a[1], fmax(b[1], c[1]))));
		for (int y = y0; y <= y1; y++)
			for (int x = x0; x <= x1; x++) {
				double px = x + 0.5, py = y + 0.5;
				double w1 = ((px - a[0]) * vy - (py - a[1]) * vx) / area;
				double w2 = (ux * (py - a[1]) - uy * (px - a[0])) / area;
				double w0 = 1 - w1 - w2;
				if (w0 < 0 || w1 < 0 || w2 < 0)
					continue;
				double z = w0 * a[2] + w1 * b[2] + w2 * c[2];
				size_t k = (size_t)y * THUMB_W + (size_t)x;
				if (z <= zb[k])
					continue;
				zb[k] = z;
				for (int ch = 0; ch < 3; ch++)
					img[k * 3 + ch] = (unsigned char)fmin(255, 255 * rgb[ch] * shade);
			}
	}
	free(xs);
	free(zb);
	return img;
}

/* Stores the picture as an image upload of creator's; the thumbnail URL
 * (malloc'd), or NULL. */
static char *store_thumbnail(db_t *db, int64_t creator, const unsigned char *img, int64_t now)
{
	char name[40], key[80], tmp[4200], err[256];
	random_hex(name, 16);
	snprintf(key, sizeof(key), "images/%s.png", name);
	snprintf(tmp, sizeof(tmp), "%s/seed-%s.png", store_tmp_dir(), name);
	if (!image_rgb_png(tmp, THUMB_W, THUMB_H, img, err, sizeof(err)) ||
	    !store_put(tmp, key, "image/png", err, sizeof(err))) {
		unlink(tmp);
		fprintf(stderr, "hwc3d: seed-demo cannot make a thumbnail: %s\n", err);
		return NULL;
	}
	if (DBX(db, "INSERT INTO uploads (user_id, kind, storage_key, original_name, content_type, file_format,"
		" size_bytes, sha256, width, height, created_at) VALUES ($1, 'image', $2, 'thumbnail.png', 'image/png',"
		" 'PNG', 0, '', $3, $4, $5)", P_INT(creator), P_TEXT(key), P_INT(THUMB_W), P_INT(THUMB_H), P_INT(now)) != 1)
		return NULL;
	return store_public_url(key);
}

/* A live user with this username, or a new verified one. */
static int64_t demo_user(db_t *db, const char *username, const char *full_name, const char *type, const char *hash)
{
	int64_t id = 0;
	if (DBS(db, &id, "SELECT id FROM users WHERE username_lower = $1", P_TEXT(username)) == 1)
		return id;
	char email[96];
	snprintf(email, sizeof(email), "%s@demo.hwc3d.local", username);
	int64_t now = now_ms();
	if (DBS(db, &id, "INSERT INTO users (email, email_normalized, username, username_lower, password_hash, full_name,"
		" user_type, is_email_verified, is_verified, bio, created_at, updated_at)"
		" VALUES ($1, $1, $2, $2, $3, $4, $5, TRUE, $6, $7, $8, $8) RETURNING id",
		P_TEXT(email), P_TEXT(username), P_TEXT(hash), P_TEXT(full_name), P_TEXT(type),
		P_BOOL(!strcmp(type, "creator")), P_TEXT(!strcmp(type, "creator") ? "3D artist on HWC3D." : NULL),
		P_INT(now)) != 1)
		return -1;
	return id;
}

int seed_models(db_t *db, const char *password_hash)
{
	char err[256];
	if (!store_init(err, sizeof(err))) {
		fprintf(stderr, "hwc3d: %s\n", err);
		return -1;
	}
	static const char *creators[][2] = { { "aria_nova", "Aria Nova" }, { "kenji_forge", "Kenji Forge" },
					     { "mira_polygon", "Mira Polygon" }, { "leo_voxel", "Leo Voxel" } };
	static const char *buyers[][2] = { { "sam_buyer", "Sam Reed" }, { "alex_chen", "Alex Chen" } };
	int64_t cid[4], bid[2];
	for (int i = 0; i < 4; i++)
		if ((cid[i] = demo_user(db, creators[i][0], creators[i][1], "creator", password_hash)) < 0)
			return -1;
	for (int i = 0; i < 2; i++)
		if ((bid[i] = demo_user(db, buyers[i][0], buyers[i][1], "buyer", password_hash)) < 0)
			return -1;
	job_init();
	model_convert_register();
	int64_t now = now_ms();
	for (size_t i = 0; i < ARRAY_LEN(demo_models); i++) {
		const struct demo_model *d = &demo_models[i];
		struct shape s;
		make_shape(&s, d->shape, d->detail);
		/* a colour per model, spread around the hue circle */
		double hue = fmod(i * 0.618034, 1.0) * 6.0;
		float rgb[3] = { 0.2f, 0.2f, 0.2f };
		int sector = (int)hue;
		float frac = (float)(hue - sector);
		static const int lead[6][3] = { { 2, 1, 0 }, { 1, 2, 0 }, { 0, 2, 1 }, { 0, 1, 2 }, { 1, 0, 2 }, { 2, 0, 1 } };
		rgb[lead[sector][0]] = 0.85f;
		rgb[lead[sector][1]] = sector % 2 ? 0.85f - 0.65f * frac : 0.2f + 0.65f * frac;
		size_t size;
		unsigned char *glb = shape_glb(&s, rgb, &size);
		unsigned char *picture = shape_picture(&s, rgb);
		char name[40], tmp[4200], key[80], sha_hex[65] = "";
		random_hex(name, 16);
		snprintf(key, sizeof(key), "models/%s.glb", name);
		snprintf(tmp, sizeof(tmp), "%s/seed-%s.glb", store_tmp_dir(), name);
		FILE *f = fopen(tmp, "wb");
		bool ok = f && fwrite(glb, 1, size, f) == size;
		if (f && fclose(f))
			ok = false;
		/* the uploads row carries the content hash like a real upload */
		unsigned char h[crypto_hash_sha256_BYTES];
		crypto_hash_sha256(h, glb, size);
		sodium_bin2hex(sha_hex, sizeof(sha_hex), h, sizeof(h));
		free(glb);
		free_shape(&s);
		int64_t creator = cid[i % 4];
		char *thumb = store_thumbnail(db, creator, picture, now);
		free(picture);
		if (!thumb)
			return -1;
		if (!ok || !store_put(tmp, key, "model/gltf-binary", err, sizeof(err))) {
			unlink(tmp);
			free(thumb);
			fprintf(stderr, "hwc3d: seed-demo cannot store a model: %s\n", err);
			return -1;
		}
		char analysis[512];
		snprintf(analysis, sizeof(analysis),
			 "{\"poly_count\":%lld,\"vertex_count\":%lld,\"file_format\":\"GLB\",\"has_animations\":false,"
			 "\"has_rigging\":false,\"has_textures\":false,\"materials\":[\"material\"],\"textures\":[],"
			 "\"dimensions\":{\"x\":%.4f,\"y\":%.4f,\"z\":%.4f},\"mesh_count\":1,\"bone_count\":0,"
			 "\"animation_count\":0,\"external_references\":[],\"warnings\":[]}",
			 (long long)s.tris, (long long)s.verts, s.dx, s.dy, s.dz);
		int64_t upload = 0, model = 0, cat = 0;
		int64_t created = now - (int64_t)(ARRAY_LEN(demo_models) - i) * 3600000;
		if (DBS(db, &cat, "SELECT id FROM categories WHERE slug = $1", P_TEXT(d->category)) != 1 ||
		    DBS(db, &upload, "INSERT INTO uploads (user_id, kind, storage_key, original_name, content_type, file_format,"
			" size_bytes, sha256, analysis, created_at) VALUES ($1, 'model', $2, $3, 'model/gltf-binary', 'GLB', $4, $5, $6,"
			" $7) RETURNING id", P_INT(creator), P_TEXT(key), P_TEXT("model.glb"), P_INT((int64_t)size),
			P_TEXT(sha_hex), P_TEXT(analysis), P_INT(created)) != 1 ||
		    DBS(db, &model, "INSERT INTO models (creator_id, title, description, price_cents, is_free, category_id, tags,"
			" upload_id, file_key, file_format, file_size, poly_count, vertex_count, status, is_featured,"
			" thumbnail_url, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'GLB', $10, $11,"
			" $12, 'approved', $13, $15, $14, $14) RETURNING id",
			P_INT(creator), P_TEXT(d->title), P_TEXT(d->description), P_INT(d->price_cents),
			P_BOOL(d->price_cents == 0), P_INT(cat), P_TEXT(d->tags), P_INT(upload), P_TEXT(key),
			P_INT((int64_t)size), P_INT(s.tris), P_INT(s.verts), P_BOOL(d->featured), P_INT(created),
			P_TEXT(thumb)) != 1) {
			free(thumb);
			return -1;
		}
		free(thumb);
		/* tags rows from the JSON list */
		const char *p = d->tags;
		while ((p = strchr(p, '"'))) {
			const char *e = strchr(p + 1, '"');
			if (!e)
				break;
			char tag[40];
			snprintf(tag, sizeof(tag), "%.*s", (int)(e - p - 1), p + 1);
			DBX(db, "INSERT INTO model_tags (model_id, tag) VALUES ($1, $2) ON CONFLICT DO NOTHING", P_INT(model), P_TEXT(tag));
			p = e + 1;
		}
		/* its quality report, measured by the server's job workers */
		if (!model_convert_enqueue(db, model, creator, false))
			return -1;
		int likes = (int)(i % 3);
		for (int b = 0; b < likes && b < 2; b++)
			DBX(db, "INSERT INTO model_likes (model_id, user_id, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
			    P_INT(model), P_INT(bid[b]), P_INT(created));
		if (i % 4 == 0)
			DBX(db, "INSERT INTO model_comments (model_id, user_id, body, created_at) VALUES ($1, $2, $3, $4)",
			    P_INT(model), P_INT(bid[i % 2]), P_TEXT("Clean topology, exactly what I needed."), P_INT(created + 60000));
		DBX(db, "UPDATE models SET likes_count = (SELECT COUNT(*) FROM model_likes WHERE model_id = $1),"
			" comments_count = (SELECT COUNT(*) FROM model_comments WHERE model_id = $1),"
			" views_count = $2 WHERE id = $1", P_INT(model), P_INT((int64_t)(i * 37 % 500)));
		/* models_count: kept by triggers (0009_model_counts.sql) */
	}
	log_info("seeded %zu demo models by %d creators", ARRAY_LEN(demo_models), 4);
	return 0;
}

/* The demo models' history, so that dashboards and analytics have
 * something to show: each model's views spread over the last 60 days and
 * its likes on the day they were given, booked through the rollups as the
 * handlers book them (oldest first, then the windows brought up to today),
 * and a few sales to the demo buyers as real orders settled by the test
 * processor's answer.  Counters on models stay what seed_models set. */
int seed_activity(db_t *db)
{
	int64_t now = now_ms(), today = now / 86400000;
	db_rows_t *r = DBQ0(db, "SELECT id, creator_id, views_count FROM models ORDER BY id");
	struct { int64_t id, creator, views; } m[64];
	size_t n = 0;
	while (r && db_next(r) && n < ARRAY_LEN(m)) {
		m[n].id = db_int(r, 0), m[n].creator = db_int(r, 1), m[n].views = db_int(r, 2);
		n++;
	}
	db_done(r);
	if (!db_begin(db))
		return -1;
	for (size_t i = 0; i < n; i++) {
		/* views: day d (0 = today, 59 = 59 days ago) gets a share that
		 * grows towards today, oldest day first */
		int64_t left = m[i].views;
		for (int d = 59; d >= 0 && left > 0; d--) {
			int64_t k = d == 0 ? left : (m[i].views * (60 - d)) / 1830 + (int64_t)((m[i].id * 7 + (uint64_t)d) % 3);
			if (k > left)
				k = left;
			for (int64_t e = 0; e < k; e++)
				if (!rollup_count(db, m[i].id, m[i].creator, ROLLUP_VIEW, now - (int64_t)d * 86400000))
					goto fail;
			left -= k;
		}
		r = DBQ(db, "SELECT created_at FROM model_likes WHERE model_id = $1 ORDER BY created_at", P_INT(m[i].id));
		int64_t likes[8];
		size_t nl = 0;
		while (r && db_next(r) && nl < ARRAY_LEN(likes))
			likes[nl++] = db_int(r, 0);
		db_done(r);
		for (size_t l = 0; l < nl; l++)
			if (!rollup_count(db, m[i].id, m[i].creator, ROLLUP_LIKE, likes[l]))
				goto fail;
	}
	if (!db_commit(db))
		return -1;
	rollup_advance(db, today, 1000);

	/* sales: each demo buyer buys every third paid model, one order each */
	int64_t buyers[2] = { 0, 0 };
	DBS(db, &buyers[0], "SELECT id FROM users WHERE username_lower = 'sam_buyer'");
	DBS(db, &buyers[1], "SELECT id FROM users WHERE username_lower = 'alex_chen'");
	int sold = 0;
	for (size_t i = 0; i < n; i++) {
		int64_t buyer = buyers[i % 2], price = 0;
		if (!buyer || i % 3 != 0 ||
		    DBS(db, &price, "SELECT price_cents FROM models WHERE id = $1 AND is_free = FALSE", P_INT(m[i].id)) != 1)
			continue;
		int64_t fee = platform_fee_cents(price, platform_fee_bps(db)), order = 0;
		if (!db_begin(db))
			return -1;
		if (DBS(db, &order, "INSERT INTO orders (buyer_id, request_hash, provider, payment_method, amount_cents,"
			" fee_cents, currency, created_at, updated_at) VALUES ($1, 'seed-demo', 'test', 'card', $2, $3, 'USD',"
			" $4, $4) RETURNING id", P_INT(buyer), P_INT(price), P_INT(fee), P_INT(now)) != 1 ||
		    DBX(db, "INSERT INTO order_items (order_id, model_id, creator_id, price_cents, fee_cents)"
			" VALUES ($1, $2, $3, $4, $5)", P_INT(order), P_INT(m[i].id), P_INT(m[i].creator), P_INT(price),
			P_INT(fee)) != 1 ||
		    !db_commit(db)) {
			db_rollback(db);
			return -1;
		}
		pay_charge_t c = { .amount_cents = price, .currency = "USD", .status = PAY_SUCCEEDED };
		snprintf(c.ref, sizeof(c.ref), "tch_seed_%lld", (long long)order);
		if (orders_settle(db, order, &c) != SETTLE_DONE)
			return -1;
		sold++;
	}
	log_info("seeded 60 days of views and likes, and %d sales", sold);
	return 0;
fail:
	db_rollback(db);
	return -1;
}

/* --models N: N more approved models for benchmarks, spread over the
 * categories and the creators, with tags from a small vocabulary (so that
 * searches find many), likes and views.  They share the demo files. */
int seed_bulk_models(db_t *db, int64_t n)
{
	static const char *words[] = { "cyberpunk", "robot", "dragon", "castle", "neon", "forest", "car", "ship",
				       "lowpoly", "sword", "helmet", "chair", "tree", "rock", "tower", "planet",
				       "engine", "armor", "temple", "drone", "lamp", "crate", "knight", "alien" };
	const size_t nw = ARRAY_LEN(words);
	int64_t ncat = 0, ncreators = 0, nusers = 0;
	if (DBS0(db, &ncat, "SELECT COUNT(*) FROM categories") != 1 || ncat == 0 ||
	    DBS0(db, &ncreators, "SELECT COUNT(*) FROM users WHERE user_type = 'creator'") != 1 || ncreators == 0 ||
	    DBS0(db, &nusers, "SELECT MAX(id) FROM users") != 1)
		return -1;
	int64_t *cats = xcalloc((size_t)ncat, sizeof(int64_t)), *creators = xcalloc((size_t)ncreators, sizeof(int64_t));
	int64_t k = 0;
	db_rows_t *r = DBQ0(db, "SELECT id FROM categories ORDER BY id");
	while (r && db_next(r) && k < ncat)
		cats[k++] = db_int(r, 0);
	db_done(r);
	k = 0;
	r = DBQ0(db, "SELECT id FROM users WHERE user_type = 'creator' ORDER BY id");
	while (r && db_next(r) && k < ncreators)
		creators[k++] = db_int(r, 0);
	db_done(r);
	char *key = NULL, *format = NULL;
	int64_t fsize = 0;
	r = DBQ0(db, "SELECT file_key, file_format, file_size FROM models WHERE file_key IS NOT NULL ORDER BY id LIMIT 1");
	if (r && db_next(r)) {
		key = xstrdup(db_text(r, 0));
		format = xstrdup(db_text(r, 1));
		fsize = db_int(r, 2);
	}
	db_done(r);
	int64_t now = now_ms();
	uint64_t x = 88172645463325252ULL; /* xorshift: the same data every run */
	if (!db_begin(db)) {
		free(key);
		free(format);
		return -1;
	}
	for (int64_t i = 0; i < n; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		const char *a = words[x % nw], *b = words[(x >> 8) % nw], *c = words[(x >> 16) % nw];
		char title[128], desc[256], tags[128];
		snprintf(title, sizeof(title), "%s %s %lld", a, b, (long long)i);
		snprintf(desc, sizeof(desc), "A %s %s model for %s scenes, number %lld.", a, c, b, (long long)i);
		snprintf(tags, sizeof(tags), "[\"%s\",\"%s\"]", a, c);
		int64_t price = (int64_t)((x >> 20) % 10000);
		int64_t model = 0;
		if (DBS(db, &model,
			"INSERT INTO models (creator_id, title, description, price_cents, is_free, category_id, tags, file_key,"
			" file_format, file_size, poly_count, vertex_count, has_animations, has_rigging, status, is_featured,"
			" likes_count, views_count, downloads_count, created_at, updated_at)"
			" VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $18, $19,"
			" $9, $10, $11, $12, 'approved', $13, $14, $15, $16, $17, $17) RETURNING id",
			P_INT(creators[(x >> 24) % (uint64_t)ncreators]), P_TEXT(title), P_TEXT(desc), P_INT(price),
			P_BOOL(price < 500), P_INT(cats[(x >> 32) % (uint64_t)ncat]), P_TEXT(tags), P_TEXT(key),
			P_INT((int64_t)((x >> 36) % 500000)), P_INT((int64_t)((x >> 40) % 300000)), P_BOOL(x & 1),
			P_BOOL(x & 2), P_BOOL(i % 500 == 0), P_INT((int64_t)((x >> 44) % 1000)),
			P_INT((int64_t)((x >> 48) % 20000)), P_INT((int64_t)((x >> 52) % 300)),
			P_INT(now - i * 60000), format ? P_TEXT(format) : P_TEXT("GLB"), P_INT(fsize)) != 1 ||
		    DBX(db, "INSERT INTO model_tags (model_id, tag) VALUES ($1, $2) ON CONFLICT DO NOTHING", P_INT(model), P_TEXT(a)) < 0 ||
		    DBX(db, "INSERT INTO model_tags (model_id, tag) VALUES ($1, $2) ON CONFLICT DO NOTHING", P_INT(model), P_TEXT(c)) < 0) {
			db_rollback(db);
			free(key);
			free(format);
			free(cats);
			free(creators);
			return -1;
		}
		/* a few real likes rows too, from the first users */
		if (i % 10 == 0 && nusers > 0)
			DBX(db, "INSERT INTO model_likes (model_id, user_id, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
			    P_INT(model), P_INT(1 + (int64_t)((x >> 12) % (uint64_t)nusers)), P_INT(now));
	}
	free(key);
	free(format);
	free(cats);
	free(creators);
	if (!db_commit(db))
		return -1;
	/* The triggers kept models_count (public models only); this
	 * recount is what they must agree with. */
	DBX0(db, "UPDATE categories SET models_count = (SELECT COUNT(*) FROM models m WHERE m.category_id = categories.id"
		 " AND m.status = 'approved' AND m.is_published = TRUE AND m.deleted_at IS NULL)");
	DBX0(db, "UPDATE users SET models_count = (SELECT COUNT(*) FROM models m WHERE m.creator_id = users.id"
		 " AND m.status = 'approved' AND m.is_published = TRUE AND m.deleted_at IS NULL)");
	/* Fresh statistics, so the first queries are planned for the new data;
	 * on PostgreSQL a vacuum too, which autovacuum would do a little later:
	 * it sets the visibility map that lets the list windows read their
	 * covering indexes alone (measured: random model pages at 23,500
	 * requests/s before it, 31,000 after). */
	db_exec_script(db, db_kind(db) == DB_PG ? "VACUUM (ANALYZE)" : "ANALYZE");
	log_info("seeded %lld benchmark models", (long long)n);
	return 0;
}

/* Homepage demo content: approved testimonials from the demo buyers and
 * creators, and slider slides whose images (plain colour panels) are made
 * here and stored like uploads. */
int seed_home(db_t *db)
{
	static const struct { const char *user, *name, *title, *text; int rating; } quotes[] = {
		{ "alex_chen", "Alex Chen", "Indie game developer",
		  "Found a full sci-fi prop kit in an afternoon. The analysis numbers matched what I saw in Blender.", 5 },
		{ "aria_nova", "Aria Nova", "3D artist",
		  "Uploading is painless and my models were reviewed within a day. Sales show up in the dashboard at once.", 5 },
		{ "sam_buyer", "Sam Reed", "Architecture student",
		  "The viewer lets me check topology before I buy. Clean files, fair prices.", 4 },
	};
	static const struct { const char *title, *subtitle, *link, *button; unsigned char rgb[3]; } slides[] = {
		{ "Build worlds faster", "Thousands of game-ready models", "/marketplace", "Browse models", { 24, 28, 64 } },
		{ "Sell your 3D art", "Upload, get reviewed, get paid", "/upload", "Start selling", { 90, 20, 80 } },
		{ "Learn from the best", "Courses and community challenges", "/learn", "Start learning", { 10, 90, 70 } },
	};
	int64_t now = now_ms();
	for (size_t i = 0; i < ARRAY_LEN(quotes); i++) {
		int64_t uid = 0;
		DBS(db, &uid, "SELECT id FROM users WHERE username_lower = $1", P_TEXT(quotes[i].user));
		if (DBX(db, "INSERT INTO testimonials (user_id, author_name, author_title, content, rating, is_approved,"
			" sort_order, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, TRUE, $6, $7, $7)",
			uid ? P_INT(uid) : P_NULL, P_TEXT(quotes[i].name), P_TEXT(quotes[i].title), P_TEXT(quotes[i].text),
			P_INT(quotes[i].rating), P_INT((int64_t)i), P_INT(now)) != 1)
			return -1;
	}
	int64_t admin_or_creator = 0;
	if (DBS0(db, &admin_or_creator, "SELECT MIN(id) FROM users WHERE user_type = 'creator'") != 1)
		return -1;
	for (size_t i = 0; i < ARRAY_LEN(slides); i++) {
		char name[40], key[80], tmp[4200], err[256];
		random_hex(name, 16);
		snprintf(key, sizeof(key), "images/%s.png", name);
		snprintf(tmp, sizeof(tmp), "%s/seed-%s.png", store_tmp_dir(), name);
		if (!image_solid_png(tmp, 1200, 400, slides[i].rgb, err, sizeof(err)) ||
		    !store_put(tmp, key, "image/png", err, sizeof(err))) {
			unlink(tmp);
			fprintf(stderr, "hwc3d: seed-demo cannot make a slide image: %s\n", err);
			return -1;
		}
		char *url = store_public_url(key);
		bool ok = DBX(db, "INSERT INTO uploads (user_id, kind, storage_key, original_name, content_type, file_format,"
			      " size_bytes, sha256, width, height, created_at) VALUES ($1, 'image', $2, 'slide.png', 'image/png',"
			      " 'PNG', 0, '', 1200, 400, $3)", P_INT(admin_or_creator), P_TEXT(key), P_INT(now)) == 1 &&
			  DBX(db, "INSERT INTO slider_slides (title, subtitle, image_url, link_url, button_text, sort_order,"
			      " is_active, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, TRUE, $7, $7)",
			      P_TEXT(slides[i].title), P_TEXT(slides[i].subtitle), P_TEXT(url), P_TEXT(slides[i].link),
			      P_TEXT(slides[i].button), P_INT((int64_t)i), P_INT(now)) == 1;
		free(url);
		if (!ok)
			return -1;
	}
	log_info("seeded %zu testimonials and %zu slides", ARRAY_LEN(quotes), ARRAY_LEN(slides));
	return 0;
}
