#include <fcntl.h>
#include <magic.h>
#include <pthread.h>
#include <strings.h>
#include <unistd.h>
#include "sniff.h"
#include "../core/util.h"
#include "../http/validate.h"

#define HEAD_BYTES 65536

static const struct {
	enum file_type t;
	const char *name, *mime, *ext, *exts[3];
} types[] = {
	{ FT_GLB, "GLB", "model/gltf-binary", "glb", { ".glb" } },
	{ FT_GLTF, "GLTF", "model/gltf+json", "gltf", { ".gltf" } },
	{ FT_FBX, "FBX", "application/octet-stream", "fbx", { ".fbx" } },
	{ FT_OBJ, "OBJ", "model/obj", "obj", { ".obj" } },
	{ FT_BLEND, "BLEND", "application/x-blender", "blend", { ".blend" } },
	{ FT_JPEG, "JPEG", "image/jpeg", "jpg", { ".jpg", ".jpeg" } },
	{ FT_PNG, "PNG", "image/png", "png", { ".png" } },
	{ FT_WEBP, "WEBP", "image/webp", "webp", { ".webp" } },
	{ FT_PDF, "PDF", "application/pdf", "pdf", { ".pdf" } },
	{ FT_ZIP, "ZIP", "application/zip", "zip", { ".zip" } },
	{ FT_TXT, "TXT", "text/plain; charset=utf-8", "txt", { ".txt" } },
};

static int find(enum file_type t)
{
	for (size_t i = 0; i < ARRAY_LEN(types); i++)
		if (types[i].t == t)
			return (int)i;
	return -1;
}

const char *file_type_name(enum file_type t)
{
	int i = find(t);
	return i < 0 ? "UNKNOWN" : types[i].name;
}

const char *file_type_mime(enum file_type t)
{
	int i = find(t);
	return i < 0 ? "application/octet-stream" : types[i].mime;
}

const char *file_type_ext(enum file_type t)
{
	int i = find(t);
	return i < 0 ? "bin" : types[i].ext;
}

bool file_ext_matches(const char *filename, enum file_type t)
{
	int i = find(t);
	const char *dot = filename ? strrchr(filename, '.') : NULL;
	if (i < 0 || !dot)
		return false;
	for (int k = 0; k < 3 && types[i].exts[k]; k++)
		if (!strcasecmp(dot, types[i].exts[k]))
			return true;
	return false;
}

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Text: no NUL, valid UTF-8 as far as we looked (a multibyte character
 * cut at the end of the window is allowed). */
static bool looks_text(const unsigned char *buf, size_t n)
{
	if (memchr(buf, 0, n))
		return false;
	size_t cut = n;
	/* back off an incomplete trailing sequence */
	for (size_t k = 0; k < 4 && cut > 0; k++) {
		unsigned char c = buf[cut - 1];
		if (c < 0x80)
			break;
		cut--;
		if ((c & 0xc0) == 0xc0)
			break;
	}
	char *s = xstrndup((const char *)buf, cut);
	bool ok = utf8_valid(s);
	free(s);
	return ok;
}

static bool gltf_json(const unsigned char *buf, size_t n)
{
	size_t i = 0;
	if (n >= 3 && buf[0] == 0xef && buf[1] == 0xbb && buf[2] == 0xbf)
		i = 3; /* BOM */
	while (i < n && (buf[i] == ' ' || buf[i] == '\n' || buf[i] == '\r' || buf[i] == '\t'))
		i++;
	if (i >= n || buf[i] != '{')
		return false;
	return memmem(buf, n, "\"asset\"", 7) != NULL;
}

/* OBJ: text made of OBJ statements, with at least one vertex. */
static bool obj_text(const unsigned char *buf, size_t n)
{
	static const char *keywords[] = { "v", "vt", "vn", "vp", "f", "l", "p", "o", "g", "s", "mtllib",
					  "usemtl", "#", "cstype", "deg", "curv", "surf", "parm", "end" };
	size_t lines = 0, known = 0, vertices = 0;
	const char *p = (const char *)buf, *end = p + n;
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *le = eol ? eol : end;
		while (p < le && (*p == ' ' || *p == '\t'))
			p++;
		if (p < le && *p != '\r') {
			lines++;
			size_t wl = 0;
			while (p + wl < le && p[wl] != ' ' && p[wl] != '\t' && p[wl] != '\r')
				wl++;
			if (*p == '#') {
				known++;
			} else {
				for (size_t k = 0; k < ARRAY_LEN(keywords); k++) {
					if (strlen(keywords[k]) == wl && !memcmp(p, keywords[k], wl)) {
						known++;
						if (wl == 1 && *p == 'v')
							vertices++;
						break;
					}
				}
			}
		}
		if (!eol)
			break;
		p = eol + 1;
	}
	return vertices > 0 && known * 10 >= lines * 9;
}

static pthread_key_t magic_key;
static pthread_once_t magic_once = PTHREAD_ONCE_INIT;

static void magic_free(void *m)
{
	magic_close(m);
}

static void magic_key_init(void)
{
	pthread_key_create(&magic_key, magic_free);
}

/* libmagic's MIME type for the bytes, or NULL (a magic_t per thread:
 * libmagic handles are not thread safe). */
static const char *magic_mime(const unsigned char *buf, size_t n)
{
	pthread_once(&magic_once, magic_key_init);
	magic_t m = pthread_getspecific(magic_key);
	if (!m) {
		m = magic_open(MAGIC_MIME_TYPE | MAGIC_ERROR | MAGIC_NO_CHECK_COMPRESS);
		if (!m || magic_load(m, NULL)) {
			if (m)
				magic_close(m);
			return NULL;
		}
		pthread_setspecific(magic_key, m);
	}
	return magic_buffer(m, buf, n);
}

static enum file_type sniff_bytes(const unsigned char *buf, size_t n, size_t file_size)
{
	if (n >= 12 && !memcmp(buf, "glTF", 4)) {
		/* version 2, and the declared length is the file's */
		if (le32(buf + 4) == 2 && le32(buf + 8) == file_size)
			return FT_GLB;
		return FT_UNKNOWN;
	}
	if (n >= 23 && !memcmp(buf, "Kaydara FBX Binary  \0", 21))
		return FT_FBX;
	if (n >= 12 && !memcmp(buf, "BLENDER", 7) && (buf[7] == '-' || buf[7] == '_') &&
	    (buf[8] == 'v' || buf[8] == 'V'))
		return FT_BLEND;
	if (n >= 3 && buf[0] == 0xff && buf[1] == 0xd8 && buf[2] == 0xff)
		return FT_JPEG;
	if (n >= 8 && !memcmp(buf, "\x89PNG\r\n\x1a\n", 8))
		return FT_PNG;
	if (n >= 12 && !memcmp(buf, "RIFF", 4) && !memcmp(buf + 8, "WEBP", 4))
		return FT_WEBP;
	if (n >= 5 && !memcmp(buf, "%PDF-", 5))
		return FT_PDF;
	if (n >= 4 && (!memcmp(buf, "PK\x03\x04", 4) || !memcmp(buf, "PK\x05\x06", 4)))
		return FT_ZIP;
	if (!looks_text(buf, n) || n == 0)
		return FT_UNKNOWN;
	if (gltf_json(buf, n))
		return FT_GLTF;
	if (memmem(buf, n, "FBXHeaderExtension", 18) && (n < 2 || buf[0] == ';' || buf[0] == 'F'))
		return FT_FBX;
	if (obj_text(buf, n))
		return FT_OBJ;
	/* Plain text only: libmagic must not see markup, scripts or
	 * anything a browser might render. */
	const char *mime = magic_mime(buf, n);
	if (mime && !strcmp(mime, "text/plain"))
		return FT_TXT;
	return FT_UNKNOWN;
}

enum file_type sniff_file(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return FT_UNKNOWN;
	unsigned char *buf = xmalloc(HEAD_BYTES);
	ssize_t n = read(fd, buf, HEAD_BYTES);
	off_t size = lseek(fd, 0, SEEK_END);
	close(fd);
	enum file_type t = n >= 0 && size >= 0 ? sniff_bytes(buf, (size_t)n, (size_t)size) : FT_UNKNOWN;
	free(buf);
	return t;
}
