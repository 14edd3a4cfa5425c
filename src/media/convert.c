/*
 * convert.c: the parent side of GLB conversion (convert.h).  Runs the
 * child on the model with a wall-clock limit and the result file as its
 * fd 3, then checks what came back before calling it a GLB.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "media/analyze.h"
#include "media/blend.h"
#include "media/convert.h"
#include "media/sandbox.h"
#include "core/config.h"
#include "core/log.h"
#include "core/num.h"
#include "core/util.h"

static int64_t setting(const char *name, int64_t lo, int64_t hi, int64_t def)
{
	const char *v = config_get(name);
	int64_t n;
	if (v && parse_i64_range(v, lo, hi, &n))
		return n;
	if (v)
		log_warn("%s=\"%.32s\" is not an integer from %lld to %lld; using %lld", name, v, (long long)lo,
			 (long long)hi, (long long)def);
	return def;
}

bool glb_header_ok(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return false;
	unsigned char h[12];
	struct stat st;
	bool ok = !fstat(fd, &st) && S_ISREG(st.st_mode) && read(fd, h, sizeof(h)) == (ssize_t)sizeof(h);
	close(fd);
	if (!ok || memcmp(h, "glTF", 4))
		return false;
	uint32_t version = (uint32_t)h[4] | (uint32_t)h[5] << 8 | (uint32_t)h[6] << 16 | (uint32_t)h[7] << 24;
	uint32_t length = (uint32_t)h[8] | (uint32_t)h[9] << 8 | (uint32_t)h[10] << 16 | (uint32_t)h[11] << 24;
	return version == 2 && (uint64_t)length == (uint64_t)st.st_size;
}

/* The child's reason, or what its exit says. */
static void child_reason(struct sandbox_proc *p, int64_t cpu_s, char *err, size_t errlen)
{
	json_t *doc = p->out ? json_loadb(p->out, p->out_len, 0, NULL) : NULL;
	const char *msg = json_string_value(json_object_get(doc, "error"));
	if (msg) {
		snprintf(err, errlen, "%.300s", msg);
	} else if (WIFSIGNALED(p->status)) {
		int sig = WTERMSIG(p->status);
		char status[64];
		sandbox_describe_status(p->status, status, sizeof(status));
		if (strstr(p->errtext, "out of memory") || strstr(p->errtext, "bad_alloc"))
			snprintf(err, errlen, "the conversion needs more memory than allowed");
		else if (sig == SIGXCPU || sig == SIGKILL)
			snprintf(err, errlen, "the conversion exceeded its CPU time limit (%lld s)", (long long)cpu_s);
		else if (sig == SIGXFSZ)
			snprintf(err, errlen, "the converted GLB is over %d MB", CONVERT_OUTPUT_MAX_MB);
		else if (sig == SIGSYS)
			snprintf(err, errlen, "the file made the converter attempt a forbidden operation");
		else
			snprintf(err, errlen, "the converter crashed on this file (%s)", status);
	} else {
		char status[64];
		sandbox_describe_status(p->status, status, sizeof(status));
		snprintf(err, errlen, "the conversion failed (%s)", status);
	}
	json_decref(doc);
}

static enum convert_result run_assimp(const char *src_path, const char *format, const char *out_path,
				      char *err, size_t errlen)
{
	int64_t timeout_s = setting("CONVERT_TIMEOUT_S", 1, 3600, 120);
	int64_t mem_mb = setting("CONVERT_MEMORY_MB", 64, 16384, 2048);
	int64_t cpu_s = setting("CONVERT_CPU_S", 1, 3600, 60);
	int in = open(src_path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (in < 0) {
		snprintf(err, errlen, "cannot read the model file");
		return CONVERT_UNAVAILABLE;
	}
	int out = open(out_path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (out < 0) {
		close(in);
		snprintf(err, errlen, "cannot create the GLB file");
		return CONVERT_UNAVAILABLE;
	}
	int64_t left_ms;
	if (!sandbox_slot_take(&sandbox_media_slots, sandbox_concurrency(), timeout_s * 1000, &left_ms)) {
		close(in);
		close(out);
		unlink(out_path);
		snprintf(err, errlen, "every converter stayed busy; try again later");
		return CONVERT_UNAVAILABLE;
	}
	char mem_arg[24], cpu_arg[24], max_arg[24], fmt[8];
	snprintf(mem_arg, sizeof(mem_arg), "%lld", (long long)mem_mb);
	snprintf(cpu_arg, sizeof(cpu_arg), "%lld", (long long)cpu_s);
	snprintf(max_arg, sizeof(max_arg), "%d", CONVERT_OUTPUT_MAX_MB);
	snprintf(fmt, sizeof(fmt), "%s", format);
	char a0[] = "hwc3d", a1[] = "convert-model", o1[] = "--memory-mb", o2[] = "--cpu-s", o3[] = "--max-mb";
	char *argv[] = { a0, a1, fmt, o1, mem_arg, o2, cpu_arg, o3, max_arg, NULL };
	struct sandbox_proc p = {
		.exe = analyze_exe(), .argv = argv, .stdin_fd = in, .fd3 = out,
		.timeout_ms = (int)left_ms, .out_max = 64 * 1024,
	};
	char why[256];
	int rc = sandbox_run(&p, why, sizeof(why));
	sandbox_slot_give(&sandbox_media_slots);
	close(in);
	close(out);
	enum convert_result res = CONVERT_BAD_FILE;
	if (rc) {
		log_error("model conversion: %s", why);
		snprintf(err, errlen, "the conversion could not run");
		res = CONVERT_UNAVAILABLE;
	} else if (p.timed_out) {
		snprintf(err, errlen, "the conversion took longer than %lld s", (long long)timeout_s);
	} else if (p.out_overflow) {
		snprintf(err, errlen, "the converter's output was too large");
	} else if (!WIFEXITED(p.status) || WEXITSTATUS(p.status) != 0) {
		child_reason(&p, cpu_s, err, errlen);
		log_info("model conversion of a %s file refused: %s", format, err);
	} else if (!glb_header_ok(out_path)) {
		snprintf(err, errlen, "the converter did not produce a valid GLB");
	} else {
		res = CONVERT_OK;
	}
	sandbox_proc_release(&p);
	if (res != CONVERT_OK)
		unlink(out_path);
	return res;
}

enum convert_result model_convert(const char *src_path, const char *format, const char *out_path,
				  json_t **analysis, char *err, size_t errlen)
{
	*analysis = NULL;
	if (!strcmp(format, "BLEND")) {
		bool unavailable = false;
		json_t *a = blend_convert(src_path, out_path, &unavailable, err, errlen);
		if (!a)
			return unavailable ? CONVERT_UNAVAILABLE : CONVERT_BAD_FILE;
		if (!glb_header_ok(out_path)) {
			json_decref(a);
			unlink(out_path);
			snprintf(err, errlen, "Blender did not produce a valid GLB");
			return CONVERT_BAD_FILE;
		}
		*analysis = a; /* blend_convert analysed the GLB it kept */
		return CONVERT_OK;
	}
	enum convert_result r = run_assimp(src_path, format, out_path, err, errlen);
	if (r != CONVERT_OK)
		return r;
	/* What the child wrote is untrusted: it goes through the same
	 * analysis as an upload (external URIs refused) before it is kept. */
	char why[256];
	json_t *a = model_analyze(out_path, "GLB", why, sizeof(why));
	if (!a) {
		unlink(out_path);
		snprintf(err, errlen, "the converted GLB did not pass analysis: %s", why);
		return CONVERT_BAD_FILE;
	}
	*analysis = a;
	return CONVERT_OK;
}
