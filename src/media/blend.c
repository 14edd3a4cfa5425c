/*
 * blend.c: .blend conversion with Blender in the bubblewrap jail.
 *
 * The server spawns `hwc3d blend-convert ...` (sandbox_run: a pipe for
 * stderr, a wall-clock kill, always reaped); that child locks itself down
 * and execs bubblewrap (sandbox_exec_jail), which runs Blender with only
 * its work directory writable and /usr readable.  Before every conversion
 * the same jail is built around /usr/bin/true (the probe): if it cannot be
 * built, the conversion is refused and Blender never runs.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <pthread.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "analyze.h"
#include "blend.h"
#include "quality.h"
#include "sandbox.h"
#include "../core/config.h"
#include "../core/log.h"
#include "../core/num.h"
#include "../core/util.h"
#include "../svc/storage.h"

#define BLEND_MAX_PARALLEL 2
#define PROBE_TIMEOUT_MS 15000
#define PROBE_PROGRAM "/usr/bin/true"

/* Blender's own Python: the counts Blender shows (mesh objects with their
 * modifiers, before the export splits vertices per face corner and
 * triangulates) into counts.json, then the scene as one GLB, without
 * images.  A polygon of n corners is n - 2 triangles: loops - 2 * polygons. */
static const char export_script[] =
	"import bpy, json\n"
	"dg = bpy.context.evaluated_depsgraph_get()\n"
	"v = f = t = 0\n"
	"for o in bpy.context.scene.objects:\n"
	"    if o.type != 'MESH':\n"
	"        continue\n"
	"    e = o.evaluated_get(dg)\n"
	"    m = e.to_mesh()\n"
	"    v += len(m.vertices)\n"
	"    f += len(m.polygons)\n"
	"    t += len(m.loops) - 2 * len(m.polygons)\n"
	"    e.to_mesh_clear()\n"
	"with open('counts.json', 'w') as out:\n"
	"    json.dump({'vertex_count': v, 'face_count': f, 'poly_count': t}, out)\n"
	"bpy.ops.export_scene.gltf(filepath='out.glb', export_format='GLB',"
	" export_image_format='NONE', export_apply=True)\n";

#define COUNTS_MAX_BYTES 4096
#define COUNT_MAX ((json_int_t)1 << 40)

/* counts.json from the jail, which wrote it: untrusted.  A plain file (not
 * a link), small, an object of three counts in range; else false. */
static bool read_counts(const char *dir, json_int_t *verts, json_int_t *faces, json_int_t *tris)
{
	char path[PATH_MAX + 16];
	snprintf(path, sizeof(path), "%s/counts.json", dir);
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return false;
	struct stat st;
	char buf[COUNTS_MAX_BYTES];
	ssize_t n = -1;
	if (!fstat(fd, &st) && S_ISREG(st.st_mode) && st.st_size > 0 && st.st_size < COUNTS_MAX_BYTES)
		n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n <= 0)
		return false;
	json_t *doc = json_loadb(buf, (size_t)n, JSON_REJECT_DUPLICATES, NULL);
	json_int_t *out[] = { verts, faces, tris };
	static const char *const keys[] = { "vertex_count", "face_count", "poly_count" };
	bool ok = json_is_object(doc);
	for (size_t i = 0; ok && i < ARRAY_LEN(keys); i++) {
		json_t *v = json_object_get(doc, keys[i]);
		ok = json_is_integer(v) && json_integer_value(v) >= 0 && json_integer_value(v) < COUNT_MAX;
		if (ok)
			*out[i] = json_integer_value(v);
	}
	json_decref(doc);
	return ok;
}

/* ------------------------------------------------------------ the child */

/* `hwc3d blend-convert [--probe] [--nobody] BWRAP WORKDIR PROGRAM
 * PROGRAM_DIR|- PARENT_PID CPU_S`: becomes bubblewrap running Blender (or,
 * with --probe, /usr/bin/true) in the jail.  Exit 3: the jail could not be
 * set up here; bwrap's own failures are exit 1 with "bwrap: " on stderr. */
int blend_child_main(int argc, char **argv)
{
	bool probe = false, nobody = false;
	while (argc > 0 && !strncmp(argv[0], "--", 2)) {
		if (!strcmp(argv[0], "--probe"))
			probe = true;
		else if (!strcmp(argv[0], "--nobody"))
			nobody = true;
		else
			break;
		argc--;
		argv++;
	}
	int64_t parent, cpu_s;
	if (argc != 6 || !parse_i64_range(argv[4], 1, INT32_MAX, &parent) ||
	    !parse_i64_range(argv[5], 1, 86400, &cpu_s)) {
		fputs("blend-convert: bad usage\n", stderr);
		return 3;
	}
	/* Blender's chatter would fill the pipe: stdout goes nowhere,
	 * stderr is kept (its first few KB reach the log). */
	int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (null < 0 || dup2(null, STDOUT_FILENO) < 0) {
		fputs("blend-convert: /dev/null\n", stderr);
		return 3;
	}
	close(null);
	char a0[] = "blender", a1[] = "-b", a2[] = "--factory-startup", a3[] = "--disable-autoexec",
	     a4[] = "-noaudio", a5[] = "in.blend", a6[] = "--python-exit-code", a7[] = "4",
	     a8[] = "--python-expr", t0[] = "true";
	char *blender_args[] = { a0, a1, a2, a3, a4, a5, a6, a7, a8, (char *)export_script, NULL };
	char *probe_args[] = { t0, NULL };
	struct sandbox_jail j = {
		.bwrap = argv[0],
		.workdir = argv[1],
		.program = probe ? PROBE_PROGRAM : argv[2],
		.program_dir = strcmp(argv[3], "-") ? argv[3] : NULL,
		.argv = probe ? probe_args : blender_args,
		.parent = (pid_t)parent,
		.become_nobody = nobody,
		.memory_bytes = (uint64_t)6 << 30, /* Blender maps a lot up front */
		.file_bytes = (uint64_t)512 << 20, /* the GLB and Blender's caches */
		.cpu_seconds = (unsigned)cpu_s,
		.max_procs = 512,                  /* threads count */
		.max_fds = 256,
	};
	char err[256];
	sandbox_exec_jail(&j, err, sizeof(err));
	fprintf(stderr, "blend-convert: %s\n", err);
	return 3;
}

/* ----------------------------------------------------------- the parent */

static struct sandbox_slots blend_slots = SANDBOX_SLOTS_INIT;

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	UNUSED(st);
	UNUSED(flag);
	UNUSED(ftw);
	remove(path);
	return 0;
}

static void remove_tree(const char *dir)
{
	nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* A real copy, never a hard link: the jail can write its work directory,
 * and a link would let it change the upload that is then stored. */
static bool copy_file(const char *src, const char *dst)
{
	int in = open(src, O_RDONLY | O_CLOEXEC), out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	bool ok = in >= 0 && out >= 0;
	char buf[65536];
	ssize_t n = 0;
	while (ok && (n = read(in, buf, sizeof(buf))) > 0)
		ok = write(out, buf, (size_t)n) == n;
	ok = ok && n == 0;
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	return ok;
}

/* a is b or below it. */
static bool path_within(const char *a, const char *b)
{
	size_t n = strlen(b);
	return !strncmp(a, b, n) && (a[n] == '\0' || a[n] == '/' || (n == 1 && b[0] == '/'));
}

struct jail_cfg {
	char bwrap[PATH_MAX];
	char program[PATH_MAX];     /* resolved */
	char program_dir[PATH_MAX]; /* "" when the program is under /usr */
	int64_t timeout_s;
	int64_t slot_wait_s; /* BLEND_SLOT_WAIT_S, default timeout_s */
};

/* The settings, checked.  false with a reason (for the log and the
 * client) when Blender or bubblewrap is missing or misplaced. */
static bool jail_cfg_load(struct jail_cfg *c, char *err, size_t errlen)
{
	const char *blender = config_get("BLENDER_PATH");
	const char *bwrap = config_get("BWRAP_PATH");
	if (!blender)
		blender = "/usr/bin/blender";
	if (!bwrap)
		bwrap = "/usr/bin/bwrap";
	c->timeout_s = 120;
	const char *t = config_get("BLEND_TIMEOUT_S");
	if (t && !parse_i64_range(t, 1, 3600, &c->timeout_s))
		c->timeout_s = 120;
	c->slot_wait_s = c->timeout_s;
	t = config_get("BLEND_SLOT_WAIT_S");
	if (t && !parse_i64_range(t, 1, 3600, &c->slot_wait_s))
		c->slot_wait_s = c->timeout_s;
	if (!realpath(blender, c->program) || access(c->program, X_OK)) {
		snprintf(err, errlen, "Blender is not installed here");
		return false;
	}
	if (snprintf(c->bwrap, sizeof(c->bwrap), "%s", bwrap) >= (int)sizeof(c->bwrap) || c->bwrap[0] != '/' ||
	    access(c->bwrap, X_OK)) {
		snprintf(err, errlen, "the Blender sandbox (bubblewrap) is not installed here");
		return false;
	}
	c->program_dir[0] = '\0';
	if (!path_within(c->program, "/usr")) {
		/* Blender outside /usr (an official tarball in /opt): its own
		 * directory is bound read-only, and must hold nothing else. */
		snprintf(c->program_dir, sizeof(c->program_dir), "%s", c->program);
		char *slash = strrchr(c->program_dir, '/');
		*slash = '\0';
		char data[PATH_MAX];
		if (!c->program_dir[0] || !realpath(cfg.data_dir, data) || path_within(data, c->program_dir) ||
		    path_within(c->program_dir, data)) {
			log_error("BLENDER_PATH=%s: its directory would expose DATA_DIR to the sandbox; "
				  "put Blender in a directory of its own", c->program);
			snprintf(err, errlen, "the Blender sandbox is misconfigured here");
			return false;
		}
	}
	return true;
}

/* Runs the child on dir; p is filled (release it).  -1 when it could not
 * even be started. */
static int run_child(const struct jail_cfg *c, const char *dir, bool probe, bool nobody, int timeout_ms,
		     struct sandbox_proc *p, char *why, size_t whylen)
{
	char pid_s[24], cpu_s[24];
	snprintf(pid_s, sizeof(pid_s), "%d", (int)getpid());
	snprintf(cpu_s, sizeof(cpu_s), "%lld", (long long)c->timeout_s);
	char a0[] = "hwc3d", a1[] = "blend-convert", o_probe[] = "--probe", o_nobody[] = "--nobody", dash[] = "-";
	char *argv[12];
	size_t n = 0;
	argv[n++] = a0;
	argv[n++] = a1;
	if (probe)
		argv[n++] = o_probe;
	if (nobody)
		argv[n++] = o_nobody;
	argv[n++] = (char *)c->bwrap;
	argv[n++] = (char *)dir;
	argv[n++] = (char *)c->program;
	argv[n++] = c->program_dir[0] ? (char *)c->program_dir : dash;
	argv[n++] = pid_s;
	argv[n++] = cpu_s;
	argv[n] = NULL;
	int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
	*p = (struct sandbox_proc){
		.exe = analyze_exe(), .argv = argv, .stdin_fd = null,
		.timeout_ms = timeout_ms, .out_max = 4096,
	};
	int rc = null < 0 ? -1 : sandbox_run(p, why, whylen);
	if (null < 0)
		snprintf(why, whylen, "/dev/null: %s", strerror(errno));
	else
		close(null);
	return rc;
}

/* The first line of s, at most 200 bytes, for messages. */
static void first_line(const char *s, char *out, size_t len)
{
	size_t n = strcspn(s, "\n");
	snprintf(out, len, "%.*s", (int)MIN(n, (size_t)200), s);
}

/* Builds the jail around /usr/bin/true in dir, as nobody first when we are
 * root, else with our own uid.  true with *nobody set to the mode that
 * worked (dir is then owned by that mode's uid; why says why nobody did
 * not work, if it did not); false with the reasons. */
static bool probe_jail(const struct jail_cfg *c, const char *dir, bool *nobody, char *why, size_t whylen)
{
	bool root = geteuid() == 0;
	why[0] = '\0';
	for (int pass = root ? 0 : 1; pass < 2; pass++) {
		bool as_nobody = pass == 0;
		uid_t uid = as_nobody ? SANDBOX_NOBODY : geteuid();
		gid_t gid = as_nobody ? SANDBOX_NOBODY : getegid();
		if (root && chown(dir, uid, gid)) {
			snprintf(why, whylen, "chown: %s", strerror(errno));
			return false;
		}
		struct sandbox_proc p;
		char err[256], line[256];
		int rc = run_child(c, dir, true, as_nobody, PROBE_TIMEOUT_MS, &p, err, sizeof(err));
		bool ok = rc == 0 && !p.timed_out && WIFEXITED(p.status) && WEXITSTATUS(p.status) == 0;
		if (!ok) {
			char status[64];
			if (rc)
				snprintf(line, sizeof(line), "%s", err);
			else
				first_line(p.errtext, line, sizeof(line));
			sandbox_describe_status(p.status, status, sizeof(status));
			snprintf(why, whylen, "%s%s%s (%s)", why[0] ? why : "", why[0] ? "; " : "",
				 line[0] ? line : "no message", rc ? "not started" : status);
		}
		sandbox_proc_release(&p);
		if (ok) {
			*nobody = as_nobody;
			return true;
		}
	}
	return false;
}

static char *make_workdir(void)
{
	size_t dn = strlen(store_tmp_dir()) + 32;
	char *dir = xmalloc(dn);
	snprintf(dir, dn, "%s/blend-XXXXXX", store_tmp_dir());
	if (!mkdtemp(dir)) {
		free(dir);
		return NULL;
	}
	return dir;
}

static bool blend_sandbox_check(char *why, size_t whylen, bool *nobody)
{
	struct jail_cfg c;
	if (!jail_cfg_load(&c, why, whylen))
		return false;
	char *dir = make_workdir();
	if (!dir) {
		snprintf(why, whylen, "cannot create a work directory");
		return false;
	}
	bool ok = probe_jail(&c, dir, nobody, why, whylen);
	remove_tree(dir);
	free(dir);
	return ok;
}

void blend_init(void)
{
	char why[512];
	bool nobody = false;
	if (blend_sandbox_check(why, sizeof(why), &nobody)) {
		log_info("blender sandbox: ready (bubblewrap: user, mount, pid, network namespaces; seccomp; %s)",
			 nobody ? "uid 65534" : "the server's uid, mapped to 65534");
		if (!nobody && geteuid() == 0)
			log_warn("blender sandbox: cannot run it as nobody (%s); it runs as root outside its "
				 "namespaces, with no capabilities", why);
	} else
		log_warn("blender sandbox: unavailable, .blend files that need Blender will be refused: %s", why);
}

/* The conversion; glb_out: where to copy the GLB made (NULL: nowhere). */
static json_t *blend_run(const char *path, const char *glb_out, bool *unavailable, char *err, size_t errlen)
{
	*unavailable = false;
	struct jail_cfg c;
	if (!jail_cfg_load(&c, err, errlen)) {
		*unavailable = true;
		return NULL;
	}
	char *dir = make_workdir();
	if (!dir) {
		snprintf(err, errlen, "cannot create a work directory");
		return NULL;
	}
	json_t *result = NULL;
	char in[PATH_MAX + 16], out[PATH_MAX + 16];
	snprintf(in, sizeof(in), "%s/in.blend", dir);
	snprintf(out, sizeof(out), "%s/out.glb", dir);

	char why[512];
	bool nobody = false;
	struct sandbox_proc p = { .out = NULL };
	int rc = -1;
	bool ran = false;
	/* A free slot is waited for within the conversion's own time limit,
	 * never forever: a busy server says so (503, "try later"). */
	if (!sandbox_slot_take(&blend_slots, BLEND_MAX_PARALLEL, c.slot_wait_s * 1000, NULL)) {
		snprintf(err, errlen, "every Blender slot stayed busy for %lld s; try again later",
			 (long long)c.slot_wait_s);
		*unavailable = true;
		goto done;
	}
	if (!probe_jail(&c, dir, &nobody, why, sizeof(why))) {
		/* Never unsandboxed: no jail, no Blender. */
		log_error("blender sandbox: unavailable, .blend conversion refused: %s", why);
		snprintf(err, errlen, "this .blend needs Blender, and Blender cannot be run safely on this server now");
		*unavailable = true;
		goto release;
	}
	if (!copy_file(path, in) ||
	    (nobody && chown(in, SANDBOX_NOBODY, SANDBOX_NOBODY))) {
		snprintf(err, errlen, "cannot prepare the conversion");
		goto release;
	}
	rc = run_child(&c, dir, false, nobody, (int)(c.timeout_s * 1000), &p, why, sizeof(why));
	ran = true;
release:
	sandbox_slot_give(&blend_slots);
	if (!ran)
		goto done;

	struct stat st;
	char status[64], line[256];
	sandbox_describe_status(p.status, status, sizeof(status));
	first_line(p.errtext, line, sizeof(line));
	if (rc) {
		log_error("blend conversion: %s", why);
		snprintf(err, errlen, "the conversion could not run");
	} else if (p.timed_out) {
		snprintf(err, errlen, "Blender took longer than %lld s", (long long)c.timeout_s);
	} else if (WIFEXITED(p.status) && (WEXITSTATUS(p.status) == 3 ||
		   (WEXITSTATUS(p.status) == 1 && str_has_prefix(p.errtext, "bwrap:")))) {
		/* The jail failed after the probe passed: still never without it. */
		log_error("blender sandbox: could not be built (%s): %s", status, line);
		snprintf(err, errlen, "this .blend needs Blender, and Blender cannot be run safely on this server now");
		*unavailable = true;
	} else if (!WIFEXITED(p.status) || WEXITSTATUS(p.status) != 0 || lstat(out, &st) ||
		   !S_ISREG(st.st_mode) || st.st_size == 0) {
		/* lstat: out.glb was made in the jail, and must be a plain file
		 * (a symlink would be followed out here, outside the jail). */
		log_warn("blend conversion failed (%s): %.300s", status, p.errtext);
		snprintf(err, errlen, "Blender could not read this file");
	} else {
		result = model_analyze(out, "GLB", err, errlen);
		if (result) {
			json_object_set_new(result, "file_format", json_string("BLEND"));
			json_object_set_new(result, "converted_with", json_string("blender"));
			/* The counts Blender shows, not the GLB's split ones;
			 * render_vertex_count stays the GLB's. */
			json_int_t verts, faces, tris;
			if (read_counts(dir, &verts, &faces, &tris)) {
				json_object_set_new(result, "vertex_count", json_integer(verts));
				json_object_set_new(result, "face_count", json_integer(faces));
				json_object_set_new(result, "poly_count", json_integer(tris));
			} else {
				log_warn("blend conversion: no valid counts.json, the GLB's counts are used");
				json_t *w = json_object_get(result, "warnings");
				if (json_is_array(w) && json_array_size(w) < 50)
					json_array_append_new(w, json_string("vertex_count is the converted GLB's "
									     "(Blender's own counts were not available)"));
			}
			quality_finish(result); /* with Blender's counts, and .blend's unit */
			if (glb_out && !copy_file(out, glb_out)) {
				unlink(glb_out);
				json_decref(result);
				result = NULL;
				snprintf(err, errlen, "cannot keep the converted GLB");
			}
		}
	}
done:
	sandbox_proc_release(&p);
	remove_tree(dir);
	free(dir);
	return result;
}

json_t *blend_analyze(const char *path, bool *unavailable, char *err, size_t errlen)
{
	return blend_run(path, NULL, unavailable, err, errlen);
}

json_t *blend_convert(const char *path, const char *glb_out, bool *unavailable, char *err, size_t errlen)
{
	return blend_run(path, glb_out, unavailable, err, errlen);
}
