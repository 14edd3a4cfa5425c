/*
 * analyze.c: the parent side of model analysis.  Starts the sandboxed
 * child (model_child.c) on the file, waits with a wall-clock limit, and
 * turns what came back into either a checked JSON object or a one-line
 * reason.  The child's output is treated as untrusted: a parser exploit
 * could have written anything there, so only known keys of the right type
 * and size are copied into the result.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <strings.h>
#include <time.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "media/analyze.h"
#include "media/fingerprint.h"
#include "media/quality.h"
#include "media/sandbox.h"
#include "core/config.h"
#include "core/log.h"
#include "core/num.h"
#include "core/util.h"

#define OUTPUT_MAX ((size_t)1 << 20)

static const char *child_exe = "/proc/self/exe";

/* The children at once are bounded by sandbox_media_slots (shared with
 * image decoding, ANALYZE_CONCURRENCY); a caller waits for a slot as part
 * of its wall-clock limit. */

void analyze_set_exe(const char *path)
{
	child_exe = path;
}

const char *analyze_exe(void)
{
	return child_exe;
}

static int64_t setting(const char *name, int64_t lo, int64_t hi, int64_t def)
{
	const char *v = config_get(name);
	int64_t n;
	if (!v)
		return def;
	if (!parse_i64_range(v, lo, hi, &n)) {
		log_warn("%s=\"%.32s\" is not an integer from %lld to %lld; using %lld", name, v,
			 (long long)lo, (long long)hi, (long long)def);
		return def;
	}
	return n;
}

/* ------------------------------------------------- checking the output */

static bool is_count(json_t *v)
{
	return json_is_integer(v) && json_integer_value(v) >= 0;
}

static bool strings_ok(json_t *a, size_t max)
{
	size_t i;
	json_t *e;
	if (!json_is_array(a) || json_array_size(a) > max)
		return false;
	json_array_foreach(a, i, e)
		if (!json_is_string(e) || json_string_length(e) > 4096)
			return false;
	return true;
}

static bool textures_ok(json_t *a)
{
	size_t i;
	json_t *e;
	if (!json_is_array(a) || json_array_size(a) > 1000)
		return false;
	json_array_foreach(a, i, e) {
		json_t *path = json_object_get(e, "path"), *emb = json_object_get(e, "embedded");
		if (!json_is_object(e) || json_object_size(e) != 2 ||
		    !json_is_string(json_object_get(e, "type")))
			return false;
		if (!(json_is_string(path) && json_string_length(path) <= 4096) && !is_count(emb))
			return false;
	}
	return true;
}

static bool dims_ok(json_t *d)
{
	static const char *const axes[] = { "x", "y", "z" };
	if (!json_is_object(d) || json_object_size(d) != 3)
		return false;
	for (size_t i = 0; i < ARRAY_LEN(axes); i++) {
		json_t *v = json_object_get(d, axes[i]);
		if (!json_is_number(v) || json_number_value(v) < 0)
			return false;
	}
	return true;
}

/* The result with only the known keys, or NULL if any is missing or
 * malformed. */
static json_t *checked_result(json_t *in, const char *format)
{
	static const char *const counts[] = {
		"poly_count", "vertex_count", "mesh_count", "bone_count", "animation_count",
	};
	static const char *const flags[] = { "has_animations", "has_rigging", "has_textures" };
	if (!json_is_object(in))
		return NULL;
	/* Optional: a child of an older build leaves them out. */
	static const char *const extra_counts[] = { "render_vertex_count", "face_count" };
	for (size_t i = 0; i < ARRAY_LEN(counts); i++)
		if (!is_count(json_object_get(in, counts[i])))
			return NULL;
	for (size_t i = 0; i < ARRAY_LEN(extra_counts); i++) {
		json_t *v = json_object_get(in, extra_counts[i]);
		if (v && !is_count(v))
			return NULL;
	}
	for (size_t i = 0; i < ARRAY_LEN(flags); i++)
		if (!json_is_boolean(json_object_get(in, flags[i])))
			return NULL;
	const char *ff = json_string_value(json_object_get(in, "file_format"));
	if (!ff || strcmp(ff, format) || !strings_ok(json_object_get(in, "materials"), 1000) ||
	    !textures_ok(json_object_get(in, "textures")) ||
	    !dims_ok(json_object_get(in, "dimensions")) ||
	    !strings_ok(json_object_get(in, "external_references"), 100) ||
	    !strings_ok(json_object_get(in, "warnings"), 50))
		return NULL;
	static const char *const keep[] = {
		"poly_count", "vertex_count", "file_format", "has_animations", "has_rigging",
		"has_textures", "materials", "textures", "dimensions", "mesh_count",
		"bone_count", "animation_count", "external_references", "warnings",
	};
	json_t *out = json_object();
	for (size_t i = 0; i < ARRAY_LEN(keep); i++)
		json_object_set(out, keep[i], json_object_get(in, keep[i]));
	for (size_t i = 0; i < ARRAY_LEN(extra_counts); i++)
		if (json_object_get(in, extra_counts[i]))
			json_object_set(out, extra_counts[i], json_object_get(in, extra_counts[i]));
	fingerprint_keep(out, in);
	json_t *quality = quality_checked(json_object_get(in, "quality")); /* NULL: none (older child) */
	if (quality) {
		json_object_set_new(out, "quality", quality);
		quality_finish(out);
	}
	return out;
}

/* ------------------------------------------------------ external uris */

const char *gltf_uri_problem(const char *uri, bool relative_ok)
{
	if (!strncasecmp(uri, "data:", 5))
		return NULL;
	if (!relative_ok)
		return "a .glb may only use data: URIs";
	char path[1025];
	size_t n = 0;
	for (const char *p = uri; *p; p++) {
		if (n == sizeof(path) - 1)
			return "longer than 1024 bytes";
		int hi, lo;
		char ch = *p;
		if (ch == '%') {
			if ((hi = hex_digit(p[1])) < 0 || (lo = hex_digit(p[2])) < 0)
				return "a malformed percent-escape";
			ch = (char)(hi * 16 + lo);
			p += 2;
		}
		if ((unsigned char)ch < 0x20 || ch == 0x7f)
			return "control characters";
		path[n++] = ch;
	}
	path[n] = '\0';
	if (!n)
		return "an empty URI";
	/* a scheme (http:, file:, C:) anywhere: no relative file name has one */
	if (strchr(path, ':'))
		return "a URL; only data: URIs and relative file names are accepted";
	if (path[0] == '/' || strchr(path, '\\'))
		return "an absolute path or a backslash";
	for (const char *seg = path; seg; seg = strchr(seg, '/') ? strchr(seg, '/') + 1 : NULL)
		if (seg[0] == '.' && seg[1] == '.' && (seg[2] == '/' || !seg[2]))
			return "a path that leaves the model's folder";
	return NULL;
}

/* The first reported reference of a glTF result that must be refused, as
 * a one-line reason in err; false when there is none. */
static bool refused_reference(json_t *result, const char *format, char *err, size_t errlen)
{
	bool glb = !strcmp(format, "GLB");
	if (!glb && strcmp(format, "GLTF"))
		return false;
	size_t i;
	json_t *ref;
	json_array_foreach(json_object_get(result, "external_references"), i, ref) {
		const char *why = gltf_uri_problem(json_string_value(ref), !glb);
		if (why) {
			char shown[128];
			size_t k = 0;
			for (const char *p = json_string_value(ref); *p && k < sizeof(shown) - 1; p++)
				shown[k++] = (unsigned char)*p < 0x20 || *p == 0x7f ? '?' : *p;
			shown[k] = '\0';
			snprintf(err, errlen, "glTF refers to external files: %s (%s)", shown, why);
			return true;
		}
	}
	return false;
}

/* ----------------------------------------------------------- running it */

static const char *const FORMATS[] = { "GLB", "GLTF", "OBJ", "FBX", "BLEND" };

/* The first telling line of the child's stderr (not a "=====" rule), for
 * the log. */
static void first_line(const char *s, char *out, size_t len)
{
	for (;;) {
		size_t n = strcspn(s, "\n");
		if (n && strspn(s, "=") < n) {
			snprintf(out, len, "%.*s", (int)MIN(n, (size_t)300), s);
			return;
		}
		if (!s[n])
			break;
		s += n + 1;
	}
	out[0] = '\0';
}

json_t *model_analyze(const char *path, const char *format, char *err, size_t errlen)
{
	bool known = false;
	for (size_t i = 0; i < ARRAY_LEN(FORMATS); i++)
		known = known || !strcmp(format, FORMATS[i]);
	if (!known) {
		snprintf(err, errlen, "unsupported model format");
		return NULL;
	}
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "cannot read the model file");
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	int64_t timeout_s = setting("ANALYZE_TIMEOUT_S", 1, 3600, 30);
	int64_t mem_mb = setting("ANALYZE_MEMORY_MB", 64, 16384, 1024);
	int64_t cpu_s = setting("ANALYZE_CPU_S", 1, 3600, 10);
	int64_t left_ms;
	if (!sandbox_slot_take(&sandbox_media_slots, sandbox_concurrency(), timeout_s * 1000, &left_ms)) {
		close(fd);
		snprintf(err, errlen, "analysis timed out waiting for a free analyser");
		return NULL;
	}
	char mem_arg[24], cpu_arg[24];
	snprintf(mem_arg, sizeof(mem_arg), "%lld", (long long)mem_mb);
	snprintf(cpu_arg, sizeof(cpu_arg), "%lld", (long long)cpu_s);
	char a0[] = "hwc3d", a1[] = "analyze-model", a3[] = "--memory-mb", a5[] = "--cpu-s";
	char fmt[8];
	snprintf(fmt, sizeof(fmt), "%s", format);
	char *argv[] = { a0, a1, fmt, a3, mem_arg, a5, cpu_arg, NULL };

	struct sandbox_proc p = {
		.exe = child_exe, .argv = argv, .stdin_fd = fd,
		.timeout_ms = (int)left_ms, .out_max = OUTPUT_MAX,
	};
	char why[256];
	int rc = sandbox_run(&p, why, sizeof(why));
	sandbox_slot_give(&sandbox_media_slots);
	close(fd);
	json_t *result = NULL;
	if (rc) {
		log_error("model analysis: %s", why);
		snprintf(err, errlen, "analysis could not run");
		goto out;
	}
	if (p.timed_out) {
		snprintf(err, errlen, "analysis timed out after %lld s", (long long)timeout_s);
		goto out;
	}
	if (p.out_overflow) {
		snprintf(err, errlen, "analysis output too large");
		goto out;
	}
	if (WIFSIGNALED(p.status)) {
		int sig = WTERMSIG(p.status);
		char status[64], line[320];
		sandbox_describe_status(p.status, status, sizeof(status));
		first_line(p.errtext, line, sizeof(line));
		log_warn("model analysis of a %s file: child %s after %lld ms%s%s", format, status,
			 (long long)p.elapsed_ms, line[0] ? ": " : "", line);
		if (strstr(p.errtext, "out of memory")) /* a sanitizer build's allocator */
			snprintf(err, errlen, "the model needs more than %lld MB of memory to import",
				 (long long)mem_mb);
		else if (sig == SIGXCPU || sig == SIGKILL)
			snprintf(err, errlen, "analysis exceeded its CPU time limit (%lld s)",
				 (long long)cpu_s);
		else if (sig == SIGSYS)
			snprintf(err, errlen, "the file made the analyser attempt a forbidden operation");
		else
			snprintf(err, errlen, "the analyser crashed on this file (%s)", status);
		goto out;
	}
	json_error_t jerr;
	json_t *doc = json_loadb(p.out, p.out_len, JSON_REJECT_DUPLICATES, &jerr);
	const char *child_err = json_string_value(json_object_get(doc, "error"));
	if (child_err) {
		snprintf(err, errlen, "%s", child_err);
	} else if (WIFEXITED(p.status) && WEXITSTATUS(p.status) == 0 && doc &&
		   (result = checked_result(doc, format))) {
		/* The child refuses these itself; this holds even if it did not. */
		if (refused_reference(result, format, err, errlen)) {
			json_decref(result);
			result = NULL;
		}
	} else {
		char status[64], line[320];
		sandbox_describe_status(p.status, status, sizeof(status));
		first_line(p.errtext, line, sizeof(line));
		log_warn("model analysis of a %s file: child %s, bad output%s%s", format, status,
			 line[0] ? ": " : "", line);
		snprintf(err, errlen, "analysis failed (%s)", status);
	}
	json_decref(doc);
out:
	sandbox_proc_release(&p);
	return result;
}
