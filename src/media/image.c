/*
 * image.c: untrusted images are decoded in a sandboxed child.
 *
 * The server spawns `hwc3d image-process TYPE MAX_SIDE --memory-mb N
 * --cpu-s N` (sandbox_run; IMAGE_MEMORY_MB, IMAGE_CPU_S, IMAGE_TIMEOUT_S,
 * ANALYZE_CONCURRENCY children at once) with the upload as stdin and the output file as
 * fd 3.  The child reads the bytes, starts libvips, locks itself down
 * (sandbox_enter: address space, CPU seconds, output size, no new
 * privileges, the "stdio" seccomp policy plus threads and fd 3: no open, no
 * socket, no exec), then decodes, checks, strips and re-encodes, writes the
 * image to fd 3 and prints {"width", "height"} or {"error"} on stdout.  The
 * parent trusts none of it: the numbers must be in range and the file must
 * sniff as the type it asked for.
 */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <jansson.h>
#include <vips/vips.h>
#include <vips/vector.h>
#include "image.h"
#include "analyze.h"
#include "sandbox.h"
#include "../core/config.h"
#include "../core/log.h"
#include "../core/num.h"
#include "../core/util.h"

#define IMAGE_INPUT_MAX ((size_t)64 << 20)   /* uploads are at most 25 MB */
#define IMAGE_OUTPUT_MAX ((uint64_t)256 << 20)

static pthread_once_t vips_once = PTHREAD_ONCE_INIT;
static bool vips_ready;

/* libvips and its loaders cost ~10 MB of resident memory: started on the
 * first image, not at start-up (the server itself only makes demo images). */
static void vips_start(void)
{
	if (VIPS_INIT("hwc3d"))
		return;
	/* Only the loaders we asked for; no operation cache (every image is
	 * seen once); one worker thread per operation. */
	vips_block_untrusted_set(TRUE);
	vips_cache_set_max(0);
	vips_cache_set_max_mem(0);
	vips_concurrency_set(1);
	/* No run-time code generation (orc): it needs executable memory,
	 * which the child's seccomp policy refuses, and a JIT has no place
	 * next to hostile input anyway. */
	vips_vector_set_enabled(FALSE);
	vips_ready = true;
}

bool image_init(void)
{
	return true;
}

void image_shutdown(void)
{
	if (vips_ready)
		vips_shutdown();
}

static void vips_reason(char *err, size_t errlen, const char *what)
{
	const char *msg = vips_error_buffer();
	char line[160];
	snprintf(line, sizeof(line), "%s", msg && *msg ? msg : "unknown error");
	char *nl = strchr(line, '\n');
	if (nl)
		*nl = '\0';
	snprintf(err, errlen, "%s: %s", what, line);
	vips_error_clear();
}

/* ------------------------------------------------------------ the child */

static VipsImage *load(const void *buf, size_t len, enum file_type t)
{
	VipsImage *img = NULL;
	int rc = -1;
	switch (t) {
	case FT_JPEG:
		rc = vips_jpegload_buffer((void *)buf, len, &img, "access", VIPS_ACCESS_SEQUENTIAL,
					  "fail_on", VIPS_FAIL_ON_ERROR, NULL);
		break;
	case FT_PNG:
		rc = vips_pngload_buffer((void *)buf, len, &img, "access", VIPS_ACCESS_SEQUENTIAL,
					 "fail_on", VIPS_FAIL_ON_ERROR, NULL);
		break;
	case FT_WEBP:
		rc = vips_webpload_buffer((void *)buf, len, &img, "access", VIPS_ACCESS_SEQUENTIAL,
					  "fail_on", VIPS_FAIL_ON_ERROR, NULL);
		break;
	default:
		break;
	}
	return rc ? NULL : img;
}

static int save(VipsImage *img, enum file_type t, void **buf, size_t *len)
{
	switch (t) {
	case FT_JPEG:
		return vips_jpegsave_buffer(img, buf, len, "strip", TRUE, "Q", 90, NULL);
	case FT_PNG:
		return vips_pngsave_buffer(img, buf, len, "strip", TRUE, "compression", 6, NULL);
	case FT_WEBP:
		return vips_webpsave_buffer(img, buf, len, "strip", TRUE, "Q", 90, NULL);
	default:
		return -1;
	}
}

/* The decode, check and re-encode itself, on bytes in memory, writing the
 * result to fd 3.  false with a reason in err. */
static bool process(const void *data, size_t len, enum file_type t, int max_side, int *w, int *h,
		    char *err, size_t errlen)
{
	VipsImage *in = load(data, len, t);
	if (!in) {
		vips_reason(err, errlen, "not a readable image");
		return false;
	}
	/* The header only so far: no pixel has been decoded. */
	int width = vips_image_get_width(in), height = vips_image_get_height(in);
	if (width <= 0 || height <= 0 || width > IMAGE_MAX_SIDE || height > IMAGE_MAX_SIDE ||
	    (int64_t)width * height > IMAGE_MAX_PIXELS) {
		snprintf(err, errlen, "image of %dx%d pixels is larger than allowed (%d per side, %d megapixels)",
			 width, height, IMAGE_MAX_SIDE, IMAGE_MAX_PIXELS / 1000000);
		g_object_unref(in);
		return false;
	}
	VipsImage *out = NULL;
	if (max_side > 0 && (width > max_side || height > max_side)) {
		g_object_unref(in);
		/* thumbnail reloads with shrink-on-load: cheap for JPEG/WebP. */
		if (vips_thumbnail_buffer((void *)data, len, &out, max_side, "height", max_side,
					  "size", VIPS_SIZE_DOWN, NULL)) {
			vips_reason(err, errlen, "cannot resize the image");
			return false;
		}
	} else {
		if (vips_copy(in, &out, NULL)) {
			g_object_unref(in);
			vips_reason(err, errlen, "cannot read the image");
			return false;
		}
		g_object_unref(in);
	}
	/* libvips 8.14's webpsave keeps EXIF/XMP despite "strip": remove the
	 * metadata fields themselves. */
	static const char *fields[] = { "exif-data", "xmp-data", "iptc-data", "icc-profile-data" };
	for (size_t i = 0; i < ARRAY_LEN(fields); i++)
		vips_image_remove(out, fields[i]);
	void *buf = NULL;
	size_t n = 0;
	bool ok = save(out, t, &buf, &n) == 0;
	if (ok) {
		*w = vips_image_get_width(out);
		*h = vips_image_get_height(out);
		for (size_t off = 0; ok && off < n;) {
			ssize_t k = write(3, (const char *)buf + off, n - off);
			if (k < 0 && errno == EINTR)
				continue;
			ok = k > 0;
			off += ok ? (size_t)k : 0;
		}
		if (!ok)
			snprintf(err, errlen, "the re-encoded image is too large");
	} else {
		vips_reason(err, errlen, "the image is damaged");
	}
	g_free(buf);
	g_object_unref(out);
	return ok;
}

/* With write(2), not stdio: stdio's first output would fstat stdout, which
 * the seccomp policy forbids. */
static void print_json(json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (!s)
		return;
	size_t n = strlen(s), off = 0;
	s[n] = '\n'; /* replaces the NUL: written as one line */
	while (off <= n) {
		ssize_t k = write(1, s + off, n + 1 - off);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		off += (size_t)k;
	}
	free(s);
}

static int child_fail(const char *msg)
{
	print_json(json_pack("{s:s}", "error", msg));
	return 1;
}

static int read_all(int fd, unsigned char **out, size_t *len)
{
	size_t cap = 65536, n = 0;
	unsigned char *buf = xmalloc(cap);
	for (;;) {
		if (n == cap) {
			if (cap >= IMAGE_INPUT_MAX) {
				free(buf);
				return -1;
			}
			cap *= 2;
			buf = xrealloc(buf, cap);
		}
		ssize_t r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			free(buf);
			return -1;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	*out = buf;
	*len = n;
	return 0;
}

static void *nothing(void *arg)
{
	return arg;
}

/* GLib's default log writer probes whether stderr is the journal
 * (getpeername), which the seccomp policy forbids: messages go to fd 2 with
 * write(2), truncated to a line. */
static GLogWriterOutput log_to_stderr(GLogLevelFlags level, const GLogField *fields, gsize n, gpointer data)
{
	UNUSED(data);
	if (level & (G_LOG_LEVEL_INFO | G_LOG_LEVEL_DEBUG))
		return G_LOG_WRITER_HANDLED;
	for (gsize i = 0; i < n; i++) {
		if (strcmp(fields[i].key, "MESSAGE") || !fields[i].value)
			continue;
		char line[512];
		int k = snprintf(line, sizeof(line), "%s\n", (const char *)fields[i].value);
		if (k > 0 && write(2, line, MIN((size_t)k, sizeof(line) - 1)) < 0)
			return G_LOG_WRITER_UNHANDLED;
	}
	return G_LOG_WRITER_HANDLED;
}

int image_child_main(int argc, char **argv)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	/* One malloc arena for every thread: glibc trims a thread's own arena
	 * after reading /proc/sys/vm/overcommit_memory, an open() the seccomp
	 * policy kills. */
	mallopt(M_ARENA_MAX, 1);
	int64_t max_side, mem_mb = 1024, cpu_s = 10;
	enum file_type t = FT_UNKNOWN;
	if (argc >= 2) {
		if (!strcmp(argv[0], "JPEG"))
			t = FT_JPEG;
		else if (!strcmp(argv[0], "PNG"))
			t = FT_PNG;
		else if (!strcmp(argv[0], "WEBP"))
			t = FT_WEBP;
	}
	if (t == FT_UNKNOWN || !parse_i64_range(argv[1], 0, IMAGE_MAX_SIDE, &max_side))
		return child_fail("usage: hwc3d image-process JPEG|PNG|WEBP MAX_SIDE [--memory-mb N] [--cpu-s N]");
	for (int i = 2; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--memory-mb") && parse_i64_range(argv[i + 1], 16, 1 << 20, &mem_mb))
			continue;
		if (!strcmp(argv[i], "--cpu-s") && parse_i64_range(argv[i + 1], 1, 86400, &cpu_s))
			continue;
		return child_fail("usage: bad option");
	}
	struct stat st;
	if (fstat(3, &st) || !S_ISREG(st.st_mode))
		return child_fail("no output file");
	unsigned char *data = NULL;
	size_t len = 0;
	if (read_all(0, &data, &len))
		return child_fail("cannot read the image");
	/* While open() is still allowed: jansson seeds from /dev/urandom,
	 * libvips loads its modules. */
	json_object_seed(0);
	g_log_set_writer_func(log_to_stderr, NULL, NULL);
	/* Decode into memory (bounded by the address-space limit), never
	 * into a temp file, which the policy could not open anyway. */
	setenv("VIPS_DISC_THRESHOLD", "64g", 1);
	pthread_once(&vips_once, vips_start);
	if (!vips_ready) {
		free(data);
		return child_fail("image processing is unavailable");
	}
	/* One thread started and joined now: libc's and the sanitizers'
	 * one-time set-up for threads (signal handlers) happens here. */
	pthread_t th;
	if (pthread_create(&th, NULL, nothing, NULL) == 0)
		pthread_join(th, NULL);
	char err[256];
	struct sandbox_limits lim = {
		.memory_bytes = (uint64_t)mem_mb << 20, .cpu_seconds = (unsigned)cpu_s, .max_fds = 8,
		.file_bytes = IMAGE_OUTPUT_MAX, .write_fd3 = true, .threads = true,
	};
	if (sandbox_enter(&lim, err, sizeof(err))) {
		free(data);
		return child_fail(err);
	}
	int w = 0, h = 0;
	if (!process(data, len, t, (int)max_side, &w, &h, err, sizeof(err))) {
		free(data);
		/* No vips_shutdown(): it would join threads and open files. */
		child_fail(err);
		_exit(1);
	}
	free(data);
	print_json(json_pack("{s:i, s:i}", "width", w, "height", h));
	_exit(0);
}

/* ----------------------------------------------------------- the parent */

static int64_t setting(const char *name, int64_t lo, int64_t hi, int64_t def)
{
	const char *v = config_get(name);
	int64_t n;
	return v && parse_i64_range(v, lo, hi, &n) ? n : def;
}

/* The child's message, cleaned: one line of printable ASCII. */
static void clean_message(const char *in, char *out, size_t outlen)
{
	size_t j = 0;
	for (size_t i = 0; in[i] && j + 1 < outlen && j < 200; i++) {
		unsigned char ch = (unsigned char)in[i];
		if (ch == '\n' || ch == '\r')
			break;
		out[j++] = ch < 0x20 || ch >= 0x7f ? '?' : (char)ch;
	}
	out[j] = '\0';
}

bool image_process(const char *src, const char *dst, enum file_type t, int max_side,
		   int *w, int *h, char *err, size_t errlen)
{
	if (t != FT_JPEG && t != FT_PNG && t != FT_WEBP) {
		snprintf(err, errlen, "not an image type");
		return false;
	}
	int in = open(src, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	int out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (in < 0 || out < 0) {
		snprintf(err, errlen, "cannot prepare the image");
		if (in >= 0)
			close(in);
		if (out >= 0)
			close(out);
		return false;
	}
	/* The model analysis's kind of limits, sized for images: a 40 MP
	 * WebP takes ~15 s of CPU and ~1.2 GB of address space to re-encode. */
	int64_t timeout_s = setting("IMAGE_TIMEOUT_S", 1, 3600, 120);
	int64_t mem_mb = setting("IMAGE_MEMORY_MB", 64, 16384, 2048);
	int64_t cpu_s = setting("IMAGE_CPU_S", 1, 3600, 60);
	bool ok = false;
	int64_t left_ms;
	if (!sandbox_slot_take(&sandbox_media_slots, sandbox_concurrency(), timeout_s * 1000, &left_ms)) {
		snprintf(err, errlen, "image processing timed out waiting for a free worker");
		close(in);
		close(out);
		return false;
	}
	char side[16], mem_arg[24], cpu_arg[24];
	snprintf(side, sizeof(side), "%d", max_side > 0 ? max_side : 0);
	snprintf(mem_arg, sizeof(mem_arg), "%lld", (long long)mem_mb);
	snprintf(cpu_arg, sizeof(cpu_arg), "%lld", (long long)cpu_s);
	char a0[] = "hwc3d", a1[] = "image-process", a4[] = "--memory-mb", a6[] = "--cpu-s";
	char tname[8];
	snprintf(tname, sizeof(tname), "%s", file_type_name(t));
	char *argv[] = { a0, a1, tname, side, a4, mem_arg, a6, cpu_arg, NULL };
	struct sandbox_proc p = {
		.exe = analyze_exe(), .argv = argv, .stdin_fd = in, .fd3 = out,
		.timeout_ms = (int)left_ms, .out_max = 4096,
	};
	char why[256];
	int rc = sandbox_run(&p, why, sizeof(why));
	sandbox_slot_give(&sandbox_media_slots);
	close(in);
	struct stat st;
	bool have_file = fstat(out, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0;
	close(out);

	char status[64];
	sandbox_describe_status(p.status, status, sizeof(status));
	json_error_t jerr;
	json_t *doc = rc == 0 ? json_loadb(p.out, p.out_len, JSON_REJECT_DUPLICATES, &jerr) : NULL;
	const char *child_err = json_string_value(json_object_get(doc, "error"));
	json_t *jw = json_object_get(doc, "width"), *jh = json_object_get(doc, "height");
	if (rc) {
		log_error("image processing: %s", why);
		snprintf(err, errlen, "image processing could not run");
	} else if (p.timed_out) {
		snprintf(err, errlen, "the image took longer than %lld s to process", (long long)timeout_s);
	} else if (WIFSIGNALED(p.status)) {
		int sig = WTERMSIG(p.status);
		log_warn("image processing of a %s: child %s after %lld ms: %.200s", tname, status,
			 (long long)p.elapsed_ms, p.errtext);
		if (sig == SIGXCPU || sig == SIGKILL)
			snprintf(err, errlen, "the image exceeded its CPU time limit (%lld s)", (long long)cpu_s);
		else if (sig == SIGSYS)
			snprintf(err, errlen, "the image made the decoder attempt a forbidden operation");
		else
			snprintf(err, errlen, "the image decoder crashed on this file (%s)", status);
	} else if (child_err) {
		char msg[256];
		clean_message(child_err, msg, sizeof(msg));
		/* Out of memory shows up as a failed allocation inside libvips. */
		if (strstr(msg, "memory") || strstr(msg, "alloc") || strstr(p.errtext, "emory"))
			snprintf(err, errlen, "the image needs more than %lld MB of memory to decode",
				 (long long)mem_mb);
		else
			snprintf(err, errlen, "%s", msg);
	} else if (!WIFEXITED(p.status) || WEXITSTATUS(p.status) != 0 || !json_is_integer(jw) ||
		   !json_is_integer(jh) || json_integer_value(jw) < 1 || json_integer_value(jw) > IMAGE_MAX_SIDE ||
		   json_integer_value(jh) < 1 || json_integer_value(jh) > IMAGE_MAX_SIDE || !have_file ||
		   sniff_file(dst) != t) {
		log_warn("image processing of a %s: child %s, bad output: %.200s", tname, status, p.errtext);
		snprintf(err, errlen, "the image could not be processed (%s)", status);
	} else {
		*w = (int)json_integer_value(jw);
		*h = (int)json_integer_value(jh);
		ok = true;
	}
	json_decref(doc);
	sandbox_proc_release(&p);
	if (!ok)
		unlink(dst);
	return ok;
}

/* ---------------------------------------------- demo images (trusted) */

bool image_solid_png(const char *dst, int width, int height, const unsigned char rgb[3], char *err, size_t errlen)
{
	pthread_once(&vips_once, vips_start);
	if (!vips_ready) {
		snprintf(err, errlen, "image processing is unavailable");
		return false;
	}
	VipsImage *black = NULL, *img = NULL, *out = NULL;
	double a[3] = { 1, 1, 1 }, b[3] = { rgb[0], rgb[1], rgb[2] };
	bool ok = !vips_black(&black, width, height, "bands", 3, NULL) &&
		  !vips_linear(black, &img, a, b, 3, NULL) &&
		  !vips_cast(img, &out, VIPS_FORMAT_UCHAR, NULL) &&
		  !vips_pngsave(out, dst, "strip", TRUE, NULL);
	if (!ok)
		vips_reason(err, errlen, "cannot make the image");
	if (black)
		g_object_unref(black);
	if (img)
		g_object_unref(img);
	if (out)
		g_object_unref(out);
	return ok;
}

bool image_rgb_png(const char *dst, int width, int height, const unsigned char *rgb, char *err, size_t errlen)
{
	pthread_once(&vips_once, vips_start);
	if (!vips_ready) {
		snprintf(err, errlen, "image processing is unavailable");
		return false;
	}
	VipsImage *img = vips_image_new_from_memory(rgb, (size_t)width * (size_t)height * 3, width, height, 3,
						    VIPS_FORMAT_UCHAR);
	bool ok = img && !vips_pngsave(img, dst, "strip", TRUE, NULL);
	if (!ok)
		vips_reason(err, errlen, "cannot make the image");
	if (img)
		g_object_unref(img);
	return ok;
}

bool image_png_thumb(const void *data, size_t len, int max_side, void **png, size_t *png_len, char *err,
		     size_t errlen)
{
	pthread_once(&vips_once, vips_start);
	*png = NULL;
	*png_len = 0;
	if (!vips_ready) {
		snprintf(err, errlen, "image processing is unavailable");
		return false;
	}
	VipsImage *thumb = NULL;
	bool ok = !vips_thumbnail_buffer((void *)data, len, &thumb, max_side, "height", max_side, NULL) &&
		  !vips_image_write_to_buffer(thumb, ".png", png, png_len, "strip", TRUE, NULL);
	if (!ok)
		vips_reason(err, errlen, "cannot read the image");
	if (thumb)
		g_object_unref(thumb);
	return ok;
}
