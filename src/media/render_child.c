/*
 * render_child.c: the render child, `hwc3d render-model FORMAT [options]`.
 *
 * Order matters (render.h): read the model from stdin, set up EGL and
 * OpenGL ES 3 on llvmpipe (dlopen of the driver, files under /usr and
 * /dev/dri, llvmpipe's rasteriser threads), compile the shaders and make
 * the framebuffers, enter the sandbox, and only then let assimp parse the
 * bytes.  assimp reads through an aiFileIO whose only file is the model in
 * memory (any other name is refused), as in model_child.c.
 *
 * Options (all but FORMAT optional):
 *   --width N --height N   16..2048 (the framebuffer)
 *   --yaw DEG --pitch DEG  camera orbit; pitch -89..89
 *   --distance F           0.5..10, times the distance that frames the
 *                          model's bounding sphere
 *   --bg rrggbb|transparent
 *   --light studio|outdoor|dark
 *   --frames N --first I --total T   frames I..I+N-1 of a turn of T
 *                          frames (yaw + 360 * i / T); default one frame
 *   --raw                  raw RGBA frames on fd 3 (for ffmpeg) instead
 *                          of one PNG on stdout
 *   --samples N            multisampling: 0 (none), 2, 4 (default; llvmpipe
 *                          costs the same at 2 and 4)
 *   --memory-mb N --cpu-s N --threads N
 * A failure is one line on stderr ("render: ...") and exit 1.
 */
#include <errno.h>
#include <pthread.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <EGL/egl.h>
#include <EGL/eglext.h>
#include <GLES3/gl3.h>
#include <assimp/cfileio.h>
#include <assimp/cimport.h>
#include <assimp/config.h>
#include <assimp/material.h>
#include <assimp/postprocess.h>
#include <assimp/scene.h>
#include <vips/vips.h>
#include <vips/vector.h>
#include <zlib.h>
#include "media/render.h"
#include "media/memfs.h"
#include "media/sandbox.h"
#include "core/num.h"
#include "core/util.h"

#define INPUT_MAX ((size_t)200 << 20)
#define MAIN_STEM "hwc3d-model"
#define MSAA 4
#define FOV_DEG 35.0
#define TEX_MAX_SIDE 1024 /* textures are shrunk to this on decoding */
#define TEX_MAX 64        /* embedded textures decoded per model */
#define STRIDE 11         /* floats per vertex: position, normal, colour, uv */

enum { U_MVP, U_EYE, U_KEY, U_KEYCOL, U_FILL, U_FILLCOL, U_SKY, U_GROUND, U_SPEC, U_TEX, U_COUNT };
static const char *const UNIFORMS[U_COUNT] = {
	"u_mvp", "u_eye", "u_key", "u_keycol", "u_fill", "u_fillcol", "u_sky", "u_ground", "u_spec", "u_tex",
};

/* One draw call: a mesh's triangles and its base colour texture (0: none). */
struct draw {
	size_t first; /* index of its first index */
	GLsizei count;
	GLuint tex;
};

struct rchild {
	const char *format;
	char main_name[32];
	const unsigned char *data;
	size_t len;
	struct render_opts o;
	int frames, first, total;
	bool raw;
	unsigned memory_mb, cpu_s, threads, samples;
	/* GL */
	GLuint vbo, ibo, fbo_ms, fbo_rs, rb_color, rb_depth, rb_resolve;
	/* Two programs: [0] plain, [1] sampling the base colour texture
	 * (untextured meshes skip the fetch: about 8% of a frame's CPU). */
	struct prog { GLuint id; GLint u[U_COUNT]; } progs[2];
	GLuint white; /* 1x1, bound for the plain program (and the warm-up) */
	struct draw *draws;
	size_t ndraws;
	GLuint tex_of[TEX_MAX]; /* decoded embedded textures (0: not yet or failed) */
	bool tex_tried[TEX_MAX];
	bool vips;
	float center[3], radius;
};

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail(const char *fmt, ...)
{
	char msg[300];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	char line[330];
	int n = snprintf(line, sizeof(line), "render: %s\n", msg);
	if (n > 0 && write(2, line, (size_t)MIN(n, (int)sizeof(line) - 1)) < 0)
		return 1;
	return 1;
}

static bool write_all(int fd, const void *buf, size_t n)
{
	const char *s = buf;
	while (n > 0) {
		ssize_t w = write(fd, s, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		s += w;
		n -= (size_t)w;
	}
	return true;
}

/* ------------------------------------------------------------- GL set-up */

static const char VS[] =
	"#version 300 es\n"
	"layout(location = 0) in vec3 a_pos;\n"
	"layout(location = 1) in vec3 a_nrm;\n"
	"layout(location = 2) in vec3 a_col;\n"
	"layout(location = 3) in vec2 a_uv;\n"
	"uniform mat4 u_mvp;\n"
	"out vec3 v_pos; out vec3 v_nrm; out vec3 v_col; out vec2 v_uv;\n"
	"void main() { v_pos = a_pos; v_nrm = a_nrm; v_col = a_col; v_uv = a_uv;\n"
	"  gl_Position = u_mvp * vec4(a_pos, 1.0); }\n";

/* Lambert key and fill lights, a hemisphere ambient, a little Blinn-Phong
 * highlight from the key, in linear light with a gamma of 2.2 at the end.
 * Faces seen from behind are lit as if facing the camera (models often
 * have open or flipped faces). */
static const char FS_PLAIN[] = "#version 300 es\n";
static const char FS_TEXTURED[] = "#version 300 es\n#define TEXTURED 1\n";
static const char FS[] =
	"precision highp float;\n"
	"in vec3 v_pos; in vec3 v_nrm; in vec3 v_col; in vec2 v_uv;\n"
	"uniform vec3 u_eye, u_key, u_keycol, u_fill, u_fillcol, u_sky, u_ground;\n"
	"uniform sampler2D u_tex;\n"
	"uniform float u_spec;\n"
	"out vec4 o_col;\n"
	"void main() {\n"
	"  vec3 n = normalize(v_nrm);\n"
	"  vec3 v = normalize(u_eye - v_pos);\n"
	"  if (dot(n, v) < 0.0) n = -n;\n"
	"#ifdef TEXTURED\n"
	"  vec3 base = pow(v_col * texture(u_tex, vec2(v_uv.x, 1.0 - v_uv.y)).rgb, vec3(2.2));\n"
	"#else\n"
	"  vec3 base = pow(v_col, vec3(2.2));\n"
	"#endif\n"
	"  vec3 amb = mix(u_ground, u_sky, 0.5 + 0.5 * n.y);\n"
	"  vec3 c = base * (amb + u_keycol * max(dot(n, u_key), 0.0) + u_fillcol * max(dot(n, u_fill), 0.0));\n"
	"  vec3 h = normalize(u_key + v);\n"
	"  c += u_keycol * u_spec * pow(max(dot(n, h), 0.0), 48.0);\n"
	"  c = c * 1.6 / (1.0 + c);\n" /* a soft shoulder: white materials keep their shading */
	"  o_col = vec4(pow(clamp(c, 0.0, 1.0), vec3(1.0 / 2.2)), 1.0);\n"
	"}\n";

static GLuint compile(GLenum type, const char *head, const char *src, char *err, size_t errlen)
{
	GLuint s = glCreateShader(type);
	const char *parts[2] = { head, src };
	glShaderSource(s, 2, parts, NULL);
	glCompileShader(s);
	GLint ok = 0;
	glGetShaderiv(s, GL_COMPILE_STATUS, &ok);
	if (!ok) {
		char log[256] = "";
		glGetShaderInfoLog(s, sizeof(log), NULL, log);
		snprintf(err, errlen, "shader: %.200s", log);
		return 0;
	}
	return s;
}

/* An RGBA texture with mipmaps, repeating, filtered like every texture
 * (llvmpipe compiles one sampling variant for all of them). */
static GLuint make_texture(const uint8_t *rgba, int w, int h)
{
	GLuint t;
	glGenTextures(1, &t);
	glBindTexture(GL_TEXTURE_2D, t);
	glPixelStorei(GL_UNPACK_ALIGNMENT, 1);
	glTexImage2D(GL_TEXTURE_2D, 0, GL_RGBA8, w, h, 0, GL_RGBA, GL_UNSIGNED_BYTE, rgba);
	glGenerateMipmap(GL_TEXTURE_2D);
	glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, GL_LINEAR_MIPMAP_LINEAR);
	glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, GL_LINEAR);
	glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_S, GL_REPEAT);
	glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_T, GL_REPEAT);
	return t;
}

static int gl_setup(struct rchild *c)
{
	char err[256];
	GLuint vs = compile(GL_VERTEX_SHADER, "", VS, err, sizeof(err));
	if (!vs)
		return fail("%s", err);
	for (int t = 0; t < 2; t++) {
		GLuint fs = compile(GL_FRAGMENT_SHADER, t ? FS_TEXTURED : FS_PLAIN, FS, err, sizeof(err));
		if (!fs)
			return fail("%s", err);
		struct prog *pg = &c->progs[t];
		pg->id = glCreateProgram();
		glAttachShader(pg->id, vs);
		glAttachShader(pg->id, fs);
		glLinkProgram(pg->id);
		GLint ok = 0;
		glGetProgramiv(pg->id, GL_LINK_STATUS, &ok);
		if (!ok)
			return fail("shader program does not link");
		for (int u = 0; u < U_COUNT; u++)
			pg->u[u] = glGetUniformLocation(pg->id, UNIFORMS[u]);
		glUseProgram(pg->id);
		if (pg->u[U_TEX] >= 0)
			glUniform1i(pg->u[U_TEX], 0);
	}
	static const uint8_t white[4] = { 255, 255, 255, 255 };
	c->white = make_texture(white, 1, 1);

	GLint maxs = 0;
	glGetIntegerv(GL_MAX_SAMPLES, &maxs);
	GLsizei samples = MIN((GLsizei)c->samples, maxs);
	GLsizei w = c->o.width, h = c->o.height;
	glGenRenderbuffers(1, &c->rb_color);
	glBindRenderbuffer(GL_RENDERBUFFER, c->rb_color);
	glRenderbufferStorageMultisample(GL_RENDERBUFFER, samples, GL_RGBA8, w, h);
	glGenRenderbuffers(1, &c->rb_depth);
	glBindRenderbuffer(GL_RENDERBUFFER, c->rb_depth);
	glRenderbufferStorageMultisample(GL_RENDERBUFFER, samples, GL_DEPTH_COMPONENT24, w, h);
	glGenFramebuffers(1, &c->fbo_ms);
	glBindFramebuffer(GL_FRAMEBUFFER, c->fbo_ms);
	glFramebufferRenderbuffer(GL_FRAMEBUFFER, GL_COLOR_ATTACHMENT0, GL_RENDERBUFFER, c->rb_color);
	glFramebufferRenderbuffer(GL_FRAMEBUFFER, GL_DEPTH_ATTACHMENT, GL_RENDERBUFFER, c->rb_depth);
	if (glCheckFramebufferStatus(GL_FRAMEBUFFER) != GL_FRAMEBUFFER_COMPLETE)
		return fail("multisampled framebuffer incomplete");
	glGenRenderbuffers(1, &c->rb_resolve);
	glBindRenderbuffer(GL_RENDERBUFFER, c->rb_resolve);
	glRenderbufferStorage(GL_RENDERBUFFER, GL_RGBA8, w, h);
	glGenFramebuffers(1, &c->fbo_rs);
	glBindFramebuffer(GL_FRAMEBUFFER, c->fbo_rs);
	glFramebufferRenderbuffer(GL_FRAMEBUFFER, GL_COLOR_ATTACHMENT0, GL_RENDERBUFFER, c->rb_resolve);
	if (glCheckFramebufferStatus(GL_FRAMEBUFFER) != GL_FRAMEBUFFER_COMPLETE)
		return fail("framebuffer incomplete");
	glGenBuffers(1, &c->vbo);
	glGenBuffers(1, &c->ibo);
	glBindBuffer(GL_ARRAY_BUFFER, c->vbo);
	glBindBuffer(GL_ELEMENT_ARRAY_BUFFER, c->ibo);
	for (GLuint i = 0; i < 4; i++) {
		glEnableVertexAttribArray(i);
		glVertexAttribPointer(i, i == 3 ? 2 : 3, GL_FLOAT, GL_FALSE, STRIDE * sizeof(float),
				      (void *)(uintptr_t)(i * 3 * sizeof(float)));
	}
	glEnable(GL_DEPTH_TEST);
	glViewport(0, 0, w, h);
	return 0;
}

static int egl_setup(EGLDisplay *dpy_out)
{
	PFNEGLGETPLATFORMDISPLAYEXTPROC get_display =
		(PFNEGLGETPLATFORMDISPLAYEXTPROC)eglGetProcAddress("eglGetPlatformDisplayEXT");
	if (!get_display)
		return fail("EGL: no eglGetPlatformDisplayEXT");
	EGLDisplay dpy = get_display(EGL_PLATFORM_SURFACELESS_MESA, EGL_DEFAULT_DISPLAY, NULL);
	EGLint major, minor;
	if (dpy == EGL_NO_DISPLAY || !eglInitialize(dpy, &major, &minor))
		return fail("EGL: no surfaceless display (error 0x%x)", (unsigned)eglGetError());
	static const EGLint cfg_attrs[] = { EGL_RENDERABLE_TYPE, EGL_OPENGL_ES3_BIT, EGL_SURFACE_TYPE, 0, EGL_NONE };
	EGLConfig cfg;
	EGLint n = 0;
	if (!eglBindAPI(EGL_OPENGL_ES_API) || !eglChooseConfig(dpy, cfg_attrs, &cfg, 1, &n) || n < 1)
		return fail("EGL: no OpenGL ES 3 configuration");
	static const EGLint ctx_attrs[] = { EGL_CONTEXT_MAJOR_VERSION, 3, EGL_CONTEXT_MINOR_VERSION, 0, EGL_NONE };
	EGLContext ctx = eglCreateContext(dpy, cfg, EGL_NO_CONTEXT, ctx_attrs);
	if (ctx == EGL_NO_CONTEXT || !eglMakeCurrent(dpy, EGL_NO_SURFACE, EGL_NO_SURFACE, ctx))
		return fail("EGL: cannot create an OpenGL ES 3 context (error 0x%x)", (unsigned)eglGetError());
	*dpy_out = dpy;
	return 0;
}

/* ------------------------------------------------------------ the model */

static void material_color(const struct aiMaterial *m, float out[3])
{
	struct aiColor4D col;
	out[0] = out[1] = out[2] = 0.8f;
	if (!m)
		return;
	if (aiGetMaterialColor(m, AI_MATKEY_BASE_COLOR, &col) == aiReturn_SUCCESS ||
	    aiGetMaterialColor(m, AI_MATKEY_COLOR_DIFFUSE, &col) == aiReturn_SUCCESS) {
		out[0] = col.r, out[1] = col.g, out[2] = col.b;
	}
	for (int i = 0; i < 3; i++)
		out[i] = isfinite(out[i]) ? fminf(fmaxf(out[i], 0.0f), 1.0f) : 0.8f;
	/* A black material would render as a silhouette: lift it a little. */
	if (out[0] + out[1] + out[2] < 0.06f)
		out[0] = out[1] = out[2] = 0.06f;
}

/* ------------------------------------------------------------ textures */

/* Messages of GLib (libvips) go to fd 2 with write(2): its default writer
 * probes whether stderr is the journal (getpeername), which the seccomp
 * policy forbids. */
static GLogWriterOutput log_quiet(GLogLevelFlags level, const GLogField *fields, gsize n, gpointer data)
{
	UNUSED(data);
	if (level & (G_LOG_LEVEL_INFO | G_LOG_LEVEL_DEBUG | G_LOG_LEVEL_MESSAGE))
		return G_LOG_WRITER_HANDLED;
	for (gsize i = 0; i < n; i++)
		if (!strcmp(fields[i].key, "MESSAGE") && fields[i].value) {
			char line[300];
			int k = snprintf(line, sizeof(line), "render: texture: %.250s\n", (const char *)fields[i].value);
			if (k > 0 && write(2, line, (size_t)MIN(k, (int)sizeof(line) - 1)) < 0)
				break;
			break;
		}
	return G_LOG_WRITER_HANDLED;
}

/* libvips for embedded textures: loaders and modules load now, while
 * files may be opened; no operation cache, one thread per operation, no
 * run-time code generation (orc). */
static void vips_setup(struct rchild *c)
{
	g_log_set_writer_func(log_quiet, NULL, NULL);
	setenv("VIPS_DISC_THRESHOLD", "64g", 1); /* decode in memory, never a temp file */
	if (VIPS_INIT("hwc3d-render"))
		return;
	vips_block_untrusted_set(TRUE);
	vips_cache_set_max(0);
	vips_cache_set_max_mem(0);
	vips_concurrency_set(1);
	vips_vector_set_enabled(FALSE);
	c->vips = true;
}

/* A compressed embedded texture (PNG, JPEG, WebP...) shrunk to at most
 * TEX_MAX_SIDE, as a GL texture; 0 when it cannot be decoded. */
static GLuint decode_compressed(const struct aiTexture *t)
{
	VipsImage *img = NULL, *srgb = NULL, *rgba = NULL, *u8 = NULL;
	GLuint tex = 0;
	if (vips_thumbnail_buffer(t->pcData, t->mWidth, &img, TEX_MAX_SIDE, "height", TEX_MAX_SIDE,
				  "size", VIPS_SIZE_DOWN, NULL))
		goto out;
	if (vips_colourspace(img, &srgb, VIPS_INTERPRETATION_sRGB, NULL))
		goto out;
	if (vips_image_hasalpha(srgb) ? vips_copy(srgb, &rgba, NULL) : vips_addalpha(srgb, &rgba, NULL))
		goto out;
	if (vips_cast_uchar(rgba, &u8, NULL) || vips_image_get_bands(u8) != 4)
		goto out;
	size_t len = 0;
	void *px = vips_image_write_to_memory(u8, &len);
	int w = vips_image_get_width(u8), h = vips_image_get_height(u8);
	if (px && len == (size_t)w * (size_t)h * 4)
		tex = make_texture(px, w, h);
	g_free(px);
out:
	if (u8) g_object_unref(u8);
	if (rgba) g_object_unref(rgba);
	if (srgb) g_object_unref(srgb);
	if (img) g_object_unref(img);
	vips_error_clear();
	return tex;
}

/* The texture of an embedded image "*N" (0 for anything else): decoded
 * once per model. */
static GLuint embedded_texture(struct rchild *c, const struct aiScene *sc, const char *path)
{
	int64_t n;
	if (!path || path[0] != '*' || !parse_i64_range(path + 1, 0, TEX_MAX - 1, &n) ||
	    (unsigned)n >= sc->mNumTextures)
		return 0;
	if (c->tex_tried[n])
		return c->tex_of[n];
	c->tex_tried[n] = true;
	const struct aiTexture *t = sc->mTextures[n];
	if (t->mHeight == 0 && c->vips && t->mWidth > 0) {
		c->tex_of[n] = decode_compressed(t);
	} else if (t->mHeight > 0 && t->mWidth <= 8192 && t->mHeight <= 8192) {
		/* raw texels, BGRA in memory (aiTexel) */
		size_t npx = (size_t)t->mWidth * t->mHeight;
		uint8_t *px = xmalloc(npx * 4);
		for (size_t i = 0; i < npx; i++) {
			px[i * 4] = t->pcData[i].r, px[i * 4 + 1] = t->pcData[i].g;
			px[i * 4 + 2] = t->pcData[i].b, px[i * 4 + 3] = t->pcData[i].a;
		}
		c->tex_of[n] = make_texture(px, (int)t->mWidth, (int)t->mHeight);
		free(px);
	}
	return c->tex_of[n];
}

/* The material's base colour texture, or the white one. */
static GLuint material_texture(struct rchild *c, const struct aiScene *sc, const struct aiMaterial *m)
{
	struct aiString path;
	static const enum aiTextureType types[] = { aiTextureType_BASE_COLOR, aiTextureType_DIFFUSE };
	for (size_t i = 0; m && i < ARRAY_LEN(types); i++)
		if (aiGetMaterialTextureCount(m, types[i]) > 0 &&
		    aiGetMaterialTexture(m, types[i], 0, &path, NULL, NULL, NULL, NULL, NULL, NULL) == aiReturn_SUCCESS) {
			GLuint t = embedded_texture(c, sc, path.data);
			if (t)
				return t;
		}
	return 0;
}

/* Uploads every triangle of every mesh (vertices already in world space:
 * aiProcess_PreTransformVertices), one draw per mesh, and finds the
 * bounding sphere. */
static int upload(struct rchild *c, const struct aiScene *sc)
{
	size_t nv = 0, ni = 0;
	for (unsigned m = 0; m < sc->mNumMeshes; m++) {
		const struct aiMesh *me = sc->mMeshes[m];
		if (!(me->mPrimitiveTypes & aiPrimitiveType_TRIANGLE))
			continue;
		nv += me->mNumVertices;
		ni += (size_t)me->mNumFaces * 3;
	}
	if (!ni || nv > UINT32_MAX || ni > (size_t)INT32_MAX)
		return fail("the model has no triangles to draw");
	float *v = malloc(nv * STRIDE * sizeof(float));
	uint32_t *idx = malloc(ni * sizeof(uint32_t));
	c->draws = calloc(sc->mNumMeshes, sizeof(*c->draws));
	if (!v || !idx || !c->draws)
		return fail("the model needs more than %u MB of memory to render", c->memory_mb);
	double lo[3] = { INFINITY, INFINITY, INFINITY }, hi[3] = { -INFINITY, -INFINITY, -INFINITY };
	size_t vi = 0, ii = 0;
	for (unsigned m = 0; m < sc->mNumMeshes; m++) {
		const struct aiMesh *me = sc->mMeshes[m];
		if (!(me->mPrimitiveTypes & aiPrimitiveType_TRIANGLE))
			continue;
		const struct aiMaterial *mat = me->mMaterialIndex < sc->mNumMaterials ? sc->mMaterials[me->mMaterialIndex] : NULL;
		float col[3];
		material_color(mat, col);
		GLuint tex = me->mTextureCoords[0] ? material_texture(c, sc, mat) : 0;
		uint32_t base = (uint32_t)vi;
		for (unsigned k = 0; k < me->mNumVertices; k++) {
			float *o = v + (vi + k) * STRIDE;
			const struct aiVector3D *p = &me->mVertices[k];
			float pos[3] = { p->x, p->y, p->z };
			for (int a = 0; a < 3; a++) {
				if (!isfinite(pos[a]))
					pos[a] = 0;
				o[a] = pos[a];
				lo[a] = fmin(lo[a], pos[a]);
				hi[a] = fmax(hi[a], pos[a]);
			}
			const struct aiVector3D *n = me->mNormals ? &me->mNormals[k] : NULL;
			o[3] = n && isfinite(n->x) ? n->x : 0;
			o[4] = n && isfinite(n->y) ? n->y : 1;
			o[5] = n && isfinite(n->z) ? n->z : 0;
			if (me->mColors[0]) {
				const struct aiColor4D *vc = &me->mColors[0][k];
				o[6] = col[0] * fminf(fmaxf(vc->r, 0), 1);
				o[7] = col[1] * fminf(fmaxf(vc->g, 0), 1);
				o[8] = col[2] * fminf(fmaxf(vc->b, 0), 1);
			} else {
				memcpy(o + 6, col, sizeof(col));
			}
			const struct aiVector3D *uv = me->mTextureCoords[0] ? &me->mTextureCoords[0][k] : NULL;
			o[9] = uv && isfinite(uv->x) ? uv->x : 0;
			o[10] = uv && isfinite(uv->y) ? uv->y : 0;
		}
		struct draw *d = &c->draws[c->ndraws];
		d->first = ii;
		d->tex = tex;
		for (unsigned f = 0; f < me->mNumFaces; f++) {
			const struct aiFace *fa = &me->mFaces[f];
			if (fa->mNumIndices != 3)
				continue;
			for (int k = 0; k < 3; k++)
				idx[ii++] = base + (fa->mIndices[k] < me->mNumVertices ? fa->mIndices[k] : 0);
		}
		d->count = (GLsizei)(ii - d->first);
		if (d->count)
			c->ndraws++;
		vi += me->mNumVertices;
	}
	if (!ii) {
		free(v), free(idx);
		return fail("the model has no triangles to draw");
	}
	double r2 = 0;
	for (int a = 0; a < 3; a++)
		c->center[a] = (float)((lo[a] + hi[a]) / 2);
	for (size_t k = 0; k < vi; k++) {
		double d2 = 0;
		for (int a = 0; a < 3; a++) {
			double d = v[k * STRIDE + a] - c->center[a];
			d2 += d * d;
		}
		r2 = fmax(r2, d2);
	}
	c->radius = r2 > 0 ? (float)sqrt(r2) : 1.0f;
	glBufferData(GL_ARRAY_BUFFER, (GLsizeiptr)(vi * STRIDE * sizeof(float)), v, GL_STATIC_DRAW);
	glBufferData(GL_ELEMENT_ARRAY_BUFFER, (GLsizeiptr)(ii * sizeof(uint32_t)), idx, GL_STATIC_DRAW);
	free(v);
	free(idx);
	return 0;
}

/* ------------------------------------------------------------- drawing */

typedef float m4[16]; /* column major */

static void m4_mul(m4 out, const m4 a, const m4 b)
{
	m4 r;
	for (int col = 0; col < 4; col++)
		for (int row = 0; row < 4; row++) {
			float s = 0;
			for (int k = 0; k < 4; k++)
				s += a[k * 4 + row] * b[col * 4 + k];
			r[col * 4 + row] = s;
		}
	memcpy(out, r, sizeof(r));
}

static void v3_norm(float v[3])
{
	float l = sqrtf(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);
	if (l > 0)
		v[0] /= l, v[1] /= l, v[2] /= l;
}

static void v3_cross(float out[3], const float a[3], const float b[3])
{
	out[0] = a[1] * b[2] - a[2] * b[1];
	out[1] = a[2] * b[0] - a[0] * b[2];
	out[2] = a[0] * b[1] - a[1] * b[0];
}

struct preset {
	float key[3], keycol[3], fill[3], fillcol[3], sky[3], ground[3], spec;
	uint8_t bg[3];
};

/* Light directions are in camera space (x right, y up, z towards the
 * viewer), so the model is lit the same from every orbit angle. */
static const struct preset PRESETS[LIGHT_COUNT_] = {
	[LIGHT_STUDIO] = { { -0.5f, 0.7f, 0.6f }, { 0.85f, 0.83f, 0.80f }, { 0.7f, 0.1f, 0.5f }, { 0.25f, 0.27f, 0.30f },
			   { 0.30f, 0.30f, 0.32f }, { 0.12f, 0.12f, 0.12f }, 0.25f, { 0xee, 0xee, 0xf0 } },
	[LIGHT_OUTDOOR] = { { -0.3f, 0.9f, 0.3f }, { 1.00f, 0.92f, 0.78f }, { 0.6f, 0.2f, -0.3f }, { 0.10f, 0.12f, 0.16f },
			    { 0.35f, 0.45f, 0.60f }, { 0.16f, 0.13f, 0.09f }, 0.15f, { 0xbf, 0xd8, 0xee } },
	[LIGHT_DARK] = { { 0.6f, 0.5f, -0.2f }, { 0.95f, 0.90f, 0.85f }, { -0.6f, 0.2f, 0.6f }, { 0.18f, 0.20f, 0.30f },
			 { 0.06f, 0.06f, 0.08f }, { 0.02f, 0.02f, 0.02f }, 0.5f, { 0x18, 0x18, 0x1c } },
};

/* Camera basis vector b (camera space) into world space. */
static void to_world(float out[3], const float b[3], const float right[3], const float up[3], const float back[3])
{
	for (int a = 0; a < 3; a++)
		out[a] = b[0] * right[a] + b[1] * up[a] + b[2] * back[a];
	v3_norm(out);
}

static void draw(struct rchild *c, double yaw_deg)
{
	const struct preset *pr = &PRESETS[c->o.lighting];
	double yaw = yaw_deg * M_PI / 180, pitch = c->o.pitch * M_PI / 180;
	double aspect = (double)c->o.width / c->o.height;
	double tan_v = tan(FOV_DEG * M_PI / 360);
	/* The sphere fits the narrower of the two fields of view. */
	double tan_min = aspect < 1 ? tan_v * aspect : tan_v;
	double dist = c->radius / sin(atan(tan_min)) * 1.04 * c->o.distance;
	float back[3] = { (float)(cos(pitch) * sin(yaw)), (float)sin(pitch), (float)(cos(pitch) * cos(yaw)) };
	float eye[3], up0[3] = { 0, 1, 0 }, right[3], up[3];
	for (int a = 0; a < 3; a++)
		eye[a] = c->center[a] + (float)dist * back[a];
	v3_cross(right, up0, back);
	v3_norm(right);
	v3_cross(up, back, right);
	m4 view = {
		right[0], up[0], back[0], 0,
		right[1], up[1], back[1], 0,
		right[2], up[2], back[2], 0,
		0, 0, 0, 1,
	};
	view[12] = -(right[0] * eye[0] + right[1] * eye[1] + right[2] * eye[2]);
	view[13] = -(up[0] * eye[0] + up[1] * eye[1] + up[2] * eye[2]);
	view[14] = -(back[0] * eye[0] + back[1] * eye[1] + back[2] * eye[2]);
	float znear = (float)fmax(dist - c->radius * 1.1, dist * 0.001), zfar = (float)(dist + c->radius * 1.1);
	float f = (float)(1.0 / tan_v);
	m4 proj = { 0 };
	proj[0] = f / (float)aspect;
	proj[5] = f;
	proj[10] = (zfar + znear) / (znear - zfar);
	proj[11] = -1;
	proj[14] = 2 * zfar * znear / (znear - zfar);
	m4 mvp;
	m4_mul(mvp, proj, view);

	float key[3], fill[3];
	to_world(key, pr->key, right, up, back);
	to_world(fill, pr->fill, right, up, back);
	for (int t = 0; t < 2; t++) {
		const GLint *u = c->progs[t].u;
		glUseProgram(c->progs[t].id);
		glUniformMatrix4fv(u[U_MVP], 1, GL_FALSE, mvp);
		glUniform3fv(u[U_EYE], 1, eye);
		glUniform3fv(u[U_KEY], 1, key);
		glUniform3fv(u[U_KEYCOL], 1, pr->keycol);
		glUniform3fv(u[U_FILL], 1, fill);
		glUniform3fv(u[U_FILLCOL], 1, pr->fillcol);
		glUniform3fv(u[U_SKY], 1, pr->sky);
		glUniform3fv(u[U_GROUND], 1, pr->ground);
		glUniform1f(u[U_SPEC], pr->spec);
	}

	const uint8_t *bg = c->o.has_background ? c->o.background : pr->bg;
	glBindFramebuffer(GL_FRAMEBUFFER, c->fbo_ms);
	if (c->o.transparent)
		glClearColor(0, 0, 0, 0);
	else
		glClearColor(bg[0] / 255.0f, bg[1] / 255.0f, bg[2] / 255.0f, 1);
	glClear(GL_COLOR_BUFFER_BIT | GL_DEPTH_BUFFER_BIT);
	glActiveTexture(GL_TEXTURE0);
	for (size_t i = 0; i < c->ndraws; i++) {
		glUseProgram(c->progs[c->draws[i].tex != 0].id);
		glBindTexture(GL_TEXTURE_2D, c->draws[i].tex ? c->draws[i].tex : c->white);
		glDrawElements(GL_TRIANGLES, c->draws[i].count, GL_UNSIGNED_INT,
			       (void *)(uintptr_t)(c->draws[i].first * sizeof(uint32_t)));
	}
	glBindFramebuffer(GL_READ_FRAMEBUFFER, c->fbo_ms);
	glBindFramebuffer(GL_DRAW_FRAMEBUFFER, c->fbo_rs);
	glBlitFramebuffer(0, 0, c->o.width, c->o.height, 0, 0, c->o.width, c->o.height, GL_COLOR_BUFFER_BIT, GL_NEAREST);
	glBindFramebuffer(GL_READ_FRAMEBUFFER, c->fbo_rs);
}

/* The resolved frame, top row first; with a transparent background the
 * edge pixels are un-premultiplied (PNG alpha is straight). */
static void read_frame(struct rchild *c, uint8_t *rgba)
{
	size_t stride = (size_t)c->o.width * 4;
	glPixelStorei(GL_PACK_ALIGNMENT, 1);
	glReadPixels(0, 0, c->o.width, c->o.height, GL_RGBA, GL_UNSIGNED_BYTE, rgba);
	uint8_t *tmp = xmalloc(stride);
	for (int y = 0; y < c->o.height / 2; y++) {
		uint8_t *a = rgba + (size_t)y * stride, *b = rgba + (size_t)(c->o.height - 1 - y) * stride;
		memcpy(tmp, a, stride);
		memcpy(a, b, stride);
		memcpy(b, tmp, stride);
	}
	free(tmp);
	if (c->o.transparent)
		for (size_t i = 0; i < stride * (size_t)c->o.height; i += 4) {
			unsigned al = rgba[i + 3];
			if (al && al < 255)
				for (int k = 0; k < 3; k++)
					rgba[i + k] = (uint8_t)MIN(255u, (rgba[i + k] * 255u + al / 2) / al);
		}
}

/* ------------------------------------------------------------- PNG */

static void be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8), p[3] = (uint8_t)v;
}

static bool png_chunk(const char *type, const uint8_t *data, uint32_t len)
{
	uint8_t head[8], tail[4];
	be32(head, len);
	memcpy(head + 4, type, 4);
	uLong crc = crc32(0, head + 4, 4);
	if (len)
		crc = crc32(crc, data, len);
	be32(tail, (uint32_t)crc);
	return write_all(1, head, 8) && (!len || write_all(1, data, len)) && write_all(1, tail, 4);
}

/* An 8-bit RGBA (or RGB) PNG on stdout, each row with the "sub" filter. */
static int write_png(const struct rchild *c, const uint8_t *rgba)
{
	int ch = c->o.transparent ? 4 : 3;
	size_t w = (size_t)c->o.width, h = (size_t)c->o.height, row = 1 + w * (size_t)ch;
	uint8_t *raw = xmalloc(row * h);
	for (size_t y = 0; y < h; y++) {
		uint8_t *o = raw + y * row;
		const uint8_t *in = rgba + y * w * 4;
		o[0] = 1; /* sub */
		for (size_t x = 0; x < w; x++)
			for (int k = 0; k < ch; k++) {
				uint8_t left = x ? in[(x - 1) * 4 + (size_t)k] : 0;
				o[1 + x * (size_t)ch + (size_t)k] = (uint8_t)(in[x * 4 + (size_t)k] - left);
			}
	}
	uLongf zlen = compressBound((uLong)(row * h));
	uint8_t *z = xmalloc(zlen);
	if (compress2(z, &zlen, raw, (uLong)(row * h), 6) != Z_OK) {
		free(raw), free(z);
		return fail("PNG compression failed");
	}
	free(raw);
	uint8_t ihdr[13];
	be32(ihdr, (uint32_t)w);
	be32(ihdr + 4, (uint32_t)h);
	ihdr[8] = 8, ihdr[9] = ch == 4 ? 6 : 2, ihdr[10] = ihdr[11] = ihdr[12] = 0;
	bool ok = write_all(1, "\x89PNG\r\n\x1a\n", 8) && png_chunk("IHDR", ihdr, 13) &&
		  png_chunk("IDAT", z, (uint32_t)zlen) && png_chunk("IEND", NULL, 0);
	free(z);
	return ok ? 0 : fail("cannot write the PNG");
}

/* ------------------------------------------------------------- main */

static void *nothing(void *arg)
{
	return arg;
}

/* llvmpipe compiles its shader variants when it first draws, and LLVM
 * sets up its error stream (lseek, fstat on fd 2) on its first
 * compilation: draw one triangle through the whole path now, while that
 * is still allowed.  The frames use the same state, so the same code. */
static void warm_up(struct rchild *c)
{
	static const float tri[3 * STRIDE] = {
		-1, -1, 0, 0, 0, 1, 0.5f, 0.5f, 0.5f, 0, 0,
		1, -1, 0, 0, 0, 1, 0.5f, 0.5f, 0.5f, 1, 0,
		0, 1, 0, 0, 0, 1, 0.5f, 0.5f, 0.5f, 0.5f, 1,
	};
	static const uint32_t idx[3] = { 0, 1, 2 };
	glBufferData(GL_ARRAY_BUFFER, sizeof(tri), tri, GL_STATIC_DRAW);
	glBufferData(GL_ELEMENT_ARRAY_BUFFER, sizeof(idx), idx, GL_STATIC_DRAW);
	struct draw both[2] = { { 0, 3, 0 }, { 0, 3, c->white } }; /* each program once */
	c->draws = both;
	c->ndraws = 2;
	c->center[0] = c->center[1] = c->center[2] = 0;
	c->radius = 1;
	uint8_t *rgba = xmalloc((size_t)c->o.width * (size_t)c->o.height * 4);
	draw(c, c->o.yaw);
	read_frame(c, rgba);
	free(rgba);
	glFinish();
	c->draws = NULL;
	c->ndraws = 0;
}

static int render(struct rchild *c)
{
	struct memfs fs = { c->data, c->len, c->main_name, NULL, NULL };
	struct aiFileIO io = memfs_io(&fs);
	/* Normals the file lacks: glTF asks for flat ones (its vertices are
	 * often shared between faces, which smoothing cannot split); OBJ and
	 * FBX store a vertex per corner, smoothed below 60 degrees. */
	bool gltf = !strcmp(c->format, "GLB") || !strcmp(c->format, "GLTF");
	unsigned normals = gltf ? aiProcess_GenNormals : aiProcess_GenSmoothNormals;
	struct aiPropertyStore *props = aiCreatePropertyStore();
	/* Hard edges stay hard: smooth only across angles under 60 degrees. */
	aiSetImportPropertyFloat(props, AI_CONFIG_PP_GSN_MAX_SMOOTHING_ANGLE, 60.0f);
	aiSetImportPropertyInteger(props, AI_CONFIG_PP_SBP_REMOVE, aiPrimitiveType_POINT | aiPrimitiveType_LINE);
	const struct aiScene *sc = aiImportFileExWithProperties(
		c->main_name,
		aiProcess_ValidateDataStructure | aiProcess_Triangulate | aiProcess_SortByPType |
			normals | aiProcess_PreTransformVertices,
		&io, props);
	aiReleasePropertyStore(props);
	if (!sc) {
		if (!strcmp(c->format, "BLEND"))
			return fail("blend: needs conversion");
		const char *m = aiGetErrorString();
		size_t n = strcspn(m, "\r\n");
		return fail("import failed: %.*s", (int)MIN(n, (size_t)200), m);
	}
	int rc = sc->mNumMeshes ? upload(c, sc) : fail("the model contains no meshes");
	aiReleaseImport(sc);
	if (rc)
		return rc;
	size_t frame = (size_t)c->o.width * (size_t)c->o.height * 4;
	uint8_t *rgba = xmalloc(frame);
	for (int i = 0; i < c->frames && !rc; i++) {
		draw(c, c->o.yaw + 360.0 * (c->first + i) / c->total);
		read_frame(c, rgba);
		if (c->raw)
			rc = write_all(3, rgba, frame) ? 0 : fail("the encoder went away");
		else
			rc = write_png(c, rgba);
	}
	free(rgba);
	return rc;
}

static bool parse_double(const char *s, double lo, double hi, double *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v) || v < lo || v > hi)
		return false;
	*out = v;
	return true;
}

static bool option(struct rchild *c, const char *k, const char *v)
{
	int64_t n;
	double d;
	if (!strcmp(k, "--width") && parse_i64_range(v, RENDER_MIN_SIZE, RENDER_MAX_SIZE, &n))
		c->o.width = (int)n;
	else if (!strcmp(k, "--height") && parse_i64_range(v, RENDER_MIN_SIZE, RENDER_MAX_SIZE, &n))
		c->o.height = (int)n;
	else if (!strcmp(k, "--yaw") && parse_double(v, -100000, 100000, &d))
		c->o.yaw = d;
	else if (!strcmp(k, "--pitch") && parse_double(v, -89, 89, &d))
		c->o.pitch = d;
	else if (!strcmp(k, "--distance") && parse_double(v, 0.5, 10, &d))
		c->o.distance = d;
	else if (!strcmp(k, "--bg") && render_background_parse(v, &c->o))
		;
	else if (!strcmp(k, "--light") && render_lighting_parse(v, &c->o.lighting))
		;
	else if (!strcmp(k, "--frames") && parse_i64_range(v, 1, 100000, &n))
		c->frames = (int)n;
	else if (!strcmp(k, "--first") && parse_i64_range(v, 0, 100000, &n))
		c->first = (int)n;
	else if (!strcmp(k, "--total") && parse_i64_range(v, 1, 100000, &n))
		c->total = (int)n;
	else if (!strcmp(k, "--memory-mb") && parse_i64_range(v, 64, 1 << 20, &n))
		c->memory_mb = (unsigned)n;
	else if (!strcmp(k, "--cpu-s") && parse_i64_range(v, 1, 86400, &n))
		c->cpu_s = (unsigned)n;
	else if (!strcmp(k, "--threads") && parse_i64_range(v, 0, 16, &n))
		c->threads = (unsigned)n;
	else if (!strcmp(k, "--samples") && parse_i64_range(v, 0, 8, &n))
		c->samples = (unsigned)n;
	else
		return false;
	return true;
}

static const struct { const char *name, *ext; } FORMATS[] = {
	{ "GLB", "glb" }, { "GLTF", "gltf" }, { "OBJ", "obj" }, { "FBX", "fbx" }, { "BLEND", "blend" },
};

int render_child_main(int argc, char **argv)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	struct rchild c = { .frames = 1, .total = 1, .memory_mb = 2048, .cpu_s = 60, .threads = 2, .samples = MSAA };
	render_opts_default(&c.o);
	if (argc < 1)
		return fail("usage: hwc3d render-model FORMAT [options]"), 2;
	for (size_t i = 0; i < ARRAY_LEN(FORMATS); i++)
		if (!strcmp(argv[0], FORMATS[i].name)) {
			c.format = FORMATS[i].name;
			snprintf(c.main_name, sizeof(c.main_name), MAIN_STEM ".%s", FORMATS[i].ext);
		}
	if (!c.format)
		return fail("unsupported format %.20s", argv[0]), 2;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--raw")) {
			c.raw = true;
			continue;
		}
		if (i + 1 >= argc || !option(&c, argv[i], argv[i + 1]))
			return fail("bad option %.40s", argv[i]), 2;
		i++;
	}
	if (!c.raw && c.frames != 1)
		return fail("a PNG is one frame"), 2;

	unsigned char *data = NULL;
	int r = sandbox_read_input(INPUT_MAX, &data, &c.len);
	if (r == -1)
		return fail("file too large to render (over %zu MB)", INPUT_MAX >> 20);
	if (r < 0)
		return fail("cannot read the model: %s", strerror(errno));
	c.data = data;
	if (!c.len)
		return free(data), fail("empty file");

	/* Mesa's software rasteriser, never a GPU, with our thread count. */
	char threads[16];
	snprintf(threads, sizeof(threads), "%u", c.threads);
	setenv("LIBGL_ALWAYS_SOFTWARE", "1", 1);
	setenv("GALLIUM_DRIVER", "llvmpipe", 1);
	setenv("LP_NUM_THREADS", threads, 1);
	setenv("EGL_LOG_LEVEL", "fatal", 1);
	setenv("MESA_SHADER_CACHE_DISABLE", "true", 1);
	EGLDisplay dpy = EGL_NO_DISPLAY;
	if (egl_setup(&dpy) || gl_setup(&c))
		return free(data), 1;
	warm_up(&c);
	vips_setup(&c);
	/* One thread started and joined now: libc's one-time set-up for
	 * threads happens before the filter. */
	pthread_t th;
	if (pthread_create(&th, NULL, nothing, NULL) == 0)
		pthread_join(th, NULL);

	char err[256];
	struct sandbox_limits lim = {
		.memory_bytes = (uint64_t)c.memory_mb << 20, .cpu_seconds = c.cpu_s, .max_fds = 64,
		.write_fd3 = c.raw, .threads = true, .exec_memory = true,
	};
	if (sandbox_enter(&lim, err, sizeof(err)))
		return free(data), fail("%s", err);
	int rc = render(&c);
	free(data);
	/* No EGL tear-down: exit is enough, and it would touch files. */
	_exit(rc);
}
