/*
 * render.c: the parent side of rendering (render.h).  Starts the sandboxed
 * render child on the model file, checks what comes back (a PNG of the
 * asked size, or raw frames that go straight from the child to ffmpeg
 * through a pipe, never through this process), and runs ffmpeg.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <strings.h>
#include <time.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "media/analyze.h"
#include "media/render.h"
#include "media/sandbox.h"
#include "core/config.h"
#include "core/log.h"
#include "core/num.h"
#include "core/util.h"

static const char *const LIGHT_NAMES[LIGHT_COUNT_] = { "studio", "outdoor", "dark" };

const char *render_lighting_name(enum render_lighting l)
{
	return (unsigned)l < LIGHT_COUNT_ ? LIGHT_NAMES[l] : "studio";
}

bool render_lighting_parse(const char *name, enum render_lighting *out)
{
	for (int i = 0; i < LIGHT_COUNT_; i++)
		if (name && !strcmp(name, LIGHT_NAMES[i])) {
			*out = (enum render_lighting)i;
			return true;
		}
	return false;
}

bool render_background_parse(const char *s, struct render_opts *o)
{
	if (!s)
		return false;
	if (!strcmp(s, "transparent")) {
		o->transparent = true;
		o->has_background = false;
		return true;
	}
	if (s[0] == '#')
		s++;
	if (strlen(s) != 6)
		return false;
	uint8_t rgb[3];
	for (int i = 0; i < 3; i++) {
		int hi = hex_digit(s[2 * i]), lo = hex_digit(s[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return false;
		rgb[i] = (uint8_t)(hi * 16 + lo);
	}
	memcpy(o->background, rgb, 3);
	o->has_background = true;
	o->transparent = false;
	return true;
}

void render_opts_default(struct render_opts *o)
{
	*o = (struct render_opts){
		.width = 800, .height = 600, .yaw = 30, .pitch = 20, .distance = 1, .lighting = LIGHT_STUDIO,
	};
}

static int64_t setting(const char *name, int64_t lo, int64_t hi, int64_t def)
{
	const char *v = config_get(name);
	int64_t n;
	if (!v)
		return def;
	if (!parse_i64_range(v, lo, hi, &n)) {
		log_warn("%s=\"%.32s\" is not an integer from %lld to %lld; using %lld", name, v, (long long)lo,
			 (long long)hi, (long long)def);
		return def;
	}
	return n;
}

static bool known_format(const char *format)
{
	static const char *const F[] = { "GLB", "GLTF", "OBJ", "FBX", "BLEND" };
	for (size_t i = 0; i < ARRAY_LEN(F); i++)
		if (!strcmp(format, F[i]))
			return true;
	return false;
}

/* The child's argv, in a caller-owned buffer. */
struct rargs {
	char buf[40][40];
	char *argv[41];
	int n;
};

static void arg(struct rargs *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void arg(struct rargs *a, const char *fmt, ...)
{
	HWC_ASSERT(a->n < 40);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(a->buf[a->n], sizeof(a->buf[0]), fmt, ap);
	va_end(ap);
	a->argv[a->n] = a->buf[a->n];
	a->argv[++a->n] = NULL;
}

static void build_args(struct rargs *a, const char *format, const struct render_opts *o, int64_t extra_s)
{
	a->n = 0;
	arg(a, "hwc3d");
	arg(a, "render-model");
	arg(a, "%s", format);
	arg(a, "--width"), arg(a, "%d", o->width);
	arg(a, "--height"), arg(a, "%d", o->height);
	arg(a, "--yaw"), arg(a, "%.3f", fmod(o->yaw, 360.0));
	arg(a, "--pitch"), arg(a, "%.3f", o->pitch);
	arg(a, "--distance"), arg(a, "%.3f", o->distance);
	if (o->transparent)
		arg(a, "--bg"), arg(a, "transparent");
	else if (o->has_background)
		arg(a, "--bg"), arg(a, "%02x%02x%02x", o->background[0], o->background[1], o->background[2]);
	arg(a, "--light"), arg(a, "%s", render_lighting_name(o->lighting));
	arg(a, "--memory-mb"), arg(a, "%lld", (long long)setting("RENDER_MEMORY_MB", 128, 16384, 2048));
	arg(a, "--cpu-s"), arg(a, "%lld", (long long)(setting("RENDER_CPU_S", 1, 3600, 60) + extra_s));
}

/* Runs one child; the model is reread from its start.  0, or -1 with err. */
static int run_child(struct rargs *a, int model_fd, int fd3, size_t out_max, int64_t timeout_ms,
		     struct sandbox_proc *p, char *err, size_t errlen)
{
	if (lseek(model_fd, 0, SEEK_SET) != 0) {
		snprintf(err, errlen, "cannot read the model file");
		return -1;
	}
	/* The thread count rides with the options (the child has no settings). */
	static char threads_opt[] = "--threads";
	char threads[8];
	snprintf(threads, sizeof(threads), "%lld", (long long)setting("RENDER_THREADS", 0, 16, 2));
	char *argv[44];
	int n = 0;
	for (; a->argv[n]; n++)
		argv[n] = a->argv[n];
	argv[n++] = threads_opt;
	argv[n++] = threads;
	argv[n] = NULL;
	int64_t left_ms;
	if (!sandbox_slot_take(&sandbox_media_slots, sandbox_concurrency(), timeout_ms, &left_ms)) {
		snprintf(err, errlen, "rendering timed out waiting for a free renderer");
		return -1;
	}
	*p = (struct sandbox_proc){
		.exe = analyze_exe(), .argv = argv, .stdin_fd = model_fd, .fd3 = fd3,
		.timeout_ms = (int)left_ms, .out_max = out_max,
	};
	char why[256];
	int rc = sandbox_run(p, why, sizeof(why));
	sandbox_slot_give(&sandbox_media_slots);
	if (rc) {
		log_error("render: %s", why);
		snprintf(err, errlen, "the renderer could not run");
		return -1;
	}
	if (p->timed_out) {
		snprintf(err, errlen, "rendering timed out after %lld s", (long long)(timeout_ms / 1000));
		return -1;
	}
	if (p->out_overflow) {
		snprintf(err, errlen, "the renderer's output is too large");
		return -1;
	}
	if (WIFEXITED(p->status) && WEXITSTATUS(p->status) == 0)
		return 0;
	/* "render: reason" on the first line of stderr is the child's verdict. */
	const char *line = strstr(p->errtext, "render: ");
	char status[64];
	sandbox_describe_status(p->status, status, sizeof(status));
	if (WIFEXITED(p->status) && line) {
		line += 8;
		size_t len = strcspn(line, "\n");
		char shown[210];
		size_t k = 0;
		for (size_t i = 0; i < len && k < sizeof(shown) - 1; i++)
			shown[k++] = (unsigned char)line[i] < 0x20 || line[i] == 0x7f ? '?' : line[i];
		shown[k] = '\0';
		snprintf(err, errlen, "%s", shown);
	} else if (WIFSIGNALED(p->status) && WTERMSIG(p->status) == SIGSYS) {
		log_warn("render child %s: %.300s", status, p->errtext);
		snprintf(err, errlen, "the file made the renderer attempt a forbidden operation");
	} else if (WIFSIGNALED(p->status) && (WTERMSIG(p->status) == SIGXCPU || WTERMSIG(p->status) == SIGKILL)) {
		snprintf(err, errlen, "rendering exceeded its CPU time limit");
	} else {
		log_warn("render child %s: %.300s", status, p->errtext);
		snprintf(err, errlen, "the renderer failed (%s)", status);
	}
	return -1;
}

static bool check_model(int fd, const char *format, char *err, size_t errlen)
{
	struct stat st;
	if (!known_format(format)) {
		snprintf(err, errlen, "unsupported model format");
		return false;
	}
	if (fd < 0 || fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "cannot read the model file");
		return false;
	}
	return true;
}

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

bool render_png(int model_fd, const char *format, const struct render_opts *o,
		unsigned char **png, size_t *png_len, char *err, size_t errlen)
{
	*png = NULL;
	*png_len = 0;
	if (!check_model(model_fd, format, err, errlen))
		return false;
	struct rargs a;
	build_args(&a, format, o, 0);
	struct sandbox_proc p = { 0 };
	size_t out_max = (size_t)o->width * (size_t)o->height * 5 + (1 << 16);
	int64_t timeout_ms = setting("RENDER_TIMEOUT_S", 1, 3600, 60) * 1000;
	int rc = run_child(&a, model_fd, 0, out_max, timeout_ms, &p, err, errlen);
	bool ok = false;
	if (rc == 0) {
		/* The signature, then IHDR with the size we asked for. */
		const unsigned char *d = (const unsigned char *)p.out;
		if (p.out_len < 33 || memcmp(d, "\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR", 16) ||
		    be32(d + 16) != (uint32_t)o->width || be32(d + 20) != (uint32_t)o->height) {
			snprintf(err, errlen, "the renderer returned a malformed image");
		} else {
			*png = (unsigned char *)p.out;
			*png_len = p.out_len;
			p.out = NULL;
			ok = true;
		}
	}
	sandbox_proc_release(&p);
	return ok;
}

/* ------------------------------------------------------------- video */

static const char *ffmpeg_path(void)
{
	const char *v = config_get("FFMPEG_PATH");
	return v && *v ? v : "/usr/bin/ffmpeg";
}

/* Starts ffmpeg reading raw RGBA frames on stdin (in_fd), writing out_path.
 * Its stdout and stderr go to /dev/null; no other descriptor of ours. */
static pid_t ffmpeg_start(const struct render_opts *o, const struct render_video *v, int in_fd,
			  const char *out_path, char *err, size_t errlen)
{
	char size[32], fps[16];
	snprintf(size, sizeof(size), "%dx%d", o->width, o->height);
	snprintf(fps, sizeof(fps), "%d", v->fps);
	const char *common[] = {
		"ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-f", "rawvideo", "-pix_fmt", "rgba",
		"-s", size, "-r", fps, "-i", "pipe:0", "-an", "-pix_fmt", "yuv420p", "-threads", "2",
	};
	const char *vp9[] = { "-c:v", "libvpx-vp9", "-b:v", "0", "-crf", "33", "-deadline", "realtime",
			      "-cpu-used", "8", "-row-mt", "1", "-f", "webm" };
	const char *h264[] = { "-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-movflags", "+faststart",
			       "-f", "mp4" };
	const char *argv[64];
	size_t n = 0;
	for (size_t i = 0; i < ARRAY_LEN(common); i++)
		argv[n++] = common[i];
	if (v->mp4)
		for (size_t i = 0; i < ARRAY_LEN(h264); i++)
			argv[n++] = h264[i];
	else
		for (size_t i = 0; i < ARRAY_LEN(vp9); i++)
			argv[n++] = vp9[i];
	argv[n++] = "-y";
	argv[n++] = out_path;
	argv[n] = NULL;

	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&attr);
	posix_spawn_file_actions_adddup2(&fa, in_fd, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	sigset_t all, none;
	sigfillset(&all);
	sigemptyset(&none);
	posix_spawnattr_setsigdefault(&attr, &all);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
	char lc_all[] = "LC_ALL=C";
	char *envp[] = { lc_all, NULL };
	pid_t pid;
	int rc = posix_spawn(&pid, ffmpeg_path(), &fa, &attr, (char *const *)argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	if (rc) {
		snprintf(err, errlen, "cannot start ffmpeg: %s", strerror(rc));
		return -1;
	}
	return pid;
}

/* Waits for pid at most timeout_ms, then kills it.  Its wait status, or -1
 * when it had to be killed. */
static int wait_for(pid_t pid, int64_t timeout_ms)
{
	int status = 0;
	for (int64_t waited = 0;; waited += 20) {
		pid_t r = waitpid(pid, &status, WNOHANG);
		if (r == pid)
			return status;
		if (r < 0 && errno != EINTR)
			return -1;
		if (waited >= timeout_ms) {
			kill(pid, SIGKILL);
			while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
				;
			return -1;
		}
		struct timespec ts = { 0, 20 * 1000000 };
		nanosleep(&ts, NULL);
	}
}

bool render_video(int model_fd, const char *format, const struct render_opts *o,
		  const struct render_video *v, const char *out_path, char *err, size_t errlen)
{
	if (!check_model(model_fd, format, err, errlen))
		return false;
	int pp[2];
	if (pipe2(pp, O_CLOEXEC)) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		return false;
	}
	struct render_opts ov = *o;
	ov.transparent = false; /* neither VP9 nor H.264 here keeps alpha */
	pid_t ff = ffmpeg_start(&ov, v, pp[0], out_path, err, errlen);
	close(pp[0]);
	if (ff < 0) {
		close(pp[1]);
		return false;
	}
	int total = v->seconds * v->fps;
	/* One child per segment of at most about two seconds, at least 4
	 * segments: progress moves, and each child's time limit holds. */
	int segments = MAX(4, (total + 2 * v->fps - 1) / (2 * v->fps));
	segments = MIN(segments, total);
	int64_t timeout_ms = setting("RENDER_TIMEOUT_S", 1, 3600, 60) * 1000;
	/* A segment's child gets, beyond the limits of one still, 2 s of CPU
	 * and of wall clock per frame of 1280x720 (measured: 0.35 s of CPU a
	 * frame of 100k triangles with multisampling, ffmpeg included, so
	 * there is room for a busy machine). */
	double per_frame_s = 2.0 * o->width * o->height / (1280.0 * 720.0);
	bool ok = true;
	for (int s = 0; s < segments && ok; s++) {
		if (v->cancelled && v->cancelled(v->progress_arg)) {
			snprintf(err, errlen, "interrupted");
			ok = false;
			break;
		}
		int first = (int)((int64_t)total * s / segments), last = (int)((int64_t)total * (s + 1) / segments);
		struct rargs a;
		int64_t extra_s = (int64_t)ceil(per_frame_s * (last - first));
		build_args(&a, format, &ov, extra_s);
		arg(&a, "--raw");
		/* llvmpipe's multisampling costs the same at 2x as at 4x, about
		 * 3.5 times a frame without (measured on a 720p frame of 100k
		 * triangles: 0.30 s against 0.085 s of CPU): 4x, or none when
		 * RENDER_VIDEO_SAMPLES=0 trades smooth edges for speed. */
		arg(&a, "--samples"), arg(&a, "%lld", (long long)setting("RENDER_VIDEO_SAMPLES", 0, 4, 4));
		arg(&a, "--frames"), arg(&a, "%d", last - first);
		arg(&a, "--first"), arg(&a, "%d", first);
		arg(&a, "--total"), arg(&a, "%d", total);
		struct sandbox_proc p = { 0 };
		ok = run_child(&a, model_fd, pp[1], 4096, timeout_ms + extra_s * 1000, &p, err, errlen) == 0;
		sandbox_proc_release(&p);
		if (ok && v->progress)
			v->progress(v->progress_arg, (int)(95LL * (s + 1) / segments));
	}
	close(pp[1]); /* end of input: ffmpeg finishes the file */
	int st = wait_for(ff, ok ? timeout_ms : 2000);
	if (ok && (st < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)) {
		char status[64];
		if (st < 0)
			snprintf(status, sizeof(status), "timed out");
		else
			sandbox_describe_status(st, status, sizeof(status));
		snprintf(err, errlen, "ffmpeg failed (%s)", status);
		ok = false;
	}
	if (!ok)
		unlink(out_path);
	return ok;
}
