#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "analyze.h"
#include "blend.h"
#include "sandbox.h"
#include "../core/config.h"
#include "../core/log.h"
#include "../core/num.h"
#include "../core/util.h"
#include "../svc/storage.h"

#define BLEND_MAX_PARALLEL 2

/* Blender's own Python: export the scene as one GLB, without images. */
static const char export_script[] =
	"import bpy\n"
	"bpy.ops.export_scene.gltf(filepath='out.glb', export_format='GLB',"
	" export_image_format='NONE', export_apply=True)\n";

int blend_child_main(int argc, char **argv)
{
	if (argc != 2)
		return 2;
	const char *dir = argv[0], *blender = argv[1];
	static const struct { int res; rlim_t v; } limits[] = {
		{ RLIMIT_AS, (rlim_t)6 << 30 },      /* Blender maps a lot up front */
		{ RLIMIT_CPU, 120 },
		{ RLIMIT_FSIZE, (rlim_t)512 << 20 }, /* the GLB and Blender's caches */
		{ RLIMIT_CORE, 0 },
		{ RLIMIT_NOFILE, 256 },
		{ RLIMIT_NPROC, 4096 },
	};
	for (size_t i = 0; i < ARRAY_LEN(limits); i++) {
		struct rlimit rl = { limits[i].v, limits[i].v };
		if (setrlimit(limits[i].res, &rl)) {
			fputs("blend-convert: setrlimit failed\n", stderr);
			return 3;
		}
	}
	/* No network: a namespace with only a loopback that is down.  Without
	 * the privilege for it (an unprivileged server), Blender still runs
	 * with no script execution; the limits above hold either way. */
	if (unshare(CLONE_NEWNET))
		fputs("blend-convert: no network namespace (not permitted); continuing\n", stderr);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) {
		fputs("blend-convert: no_new_privs failed\n", stderr);
		return 3;
	}
	if (chdir(dir)) {
		fputs("blend-convert: cannot enter the work directory\n", stderr);
		return 3;
	}
	int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (null >= 0)
		dup2(null, STDOUT_FILENO); /* Blender's chatter; stderr is kept */
	char home[4200], tmp[4200];
	snprintf(home, sizeof(home), "HOME=%s", dir);
	snprintf(tmp, sizeof(tmp), "TMPDIR=%s", dir);
	char *envp[] = { home, tmp, (char *)"PATH=/usr/bin:/bin", (char *)"LC_ALL=C.UTF-8", NULL };
	char *args[] = { (char *)"blender", (char *)"-b", (char *)"--factory-startup", (char *)"--disable-autoexec",
			 (char *)"-noaudio", (char *)"in.blend", (char *)"--python-exit-code", (char *)"4",
			 (char *)"--python-expr", (char *)export_script, NULL };
	execve(blender, args, envp);
	fputs("blend-convert: cannot run Blender\n", stderr);
	return 3;
}

static pthread_mutex_t slots_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t slots_cond = PTHREAD_COND_INITIALIZER;
static int slots_busy;

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

static bool copy_file(const char *src, const char *dst)
{
	if (link(src, dst) == 0)
		return true;
	int in = open(src, O_RDONLY | O_CLOEXEC), out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	bool ok = in >= 0 && out >= 0;
	char buf[65536];
	ssize_t n;
	while (ok && (n = read(in, buf, sizeof(buf))) > 0)
		ok = write(out, buf, (size_t)n) == n;
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	return ok;
}

json_t *blend_analyze(const char *path, char *err, size_t errlen)
{
	const char *blender = config_get("BLENDER_PATH");
	if (!blender)
		blender = "/usr/bin/blender";
	if (access(blender, X_OK)) {
		snprintf(err, errlen, "this .blend needs Blender to be read, and Blender is not installed here");
		return NULL;
	}
	int64_t timeout_s = 120;
	const char *t = config_get("BLEND_TIMEOUT_S");
	if (t && !parse_i64_range(t, 1, 3600, &timeout_s))
		timeout_s = 120;
	char *dir = NULL;
	size_t dn = strlen(store_tmp_dir()) + 32;
	dir = xmalloc(dn);
	snprintf(dir, dn, "%s/blend-XXXXXX", store_tmp_dir());
	if (!mkdtemp(dir)) {
		snprintf(err, errlen, "cannot create a work directory");
		free(dir);
		return NULL;
	}
	json_t *result = NULL;
	char in[4300], out[4300];
	snprintf(in, sizeof(in), "%s/in.blend", dir);
	snprintf(out, sizeof(out), "%s/out.glb", dir);
	if (!copy_file(path, in)) {
		snprintf(err, errlen, "cannot prepare the conversion");
		goto done;
	}
	pthread_mutex_lock(&slots_lock);
	while (slots_busy >= BLEND_MAX_PARALLEL)
		pthread_cond_wait(&slots_cond, &slots_lock);
	slots_busy++;
	pthread_mutex_unlock(&slots_lock);

	int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
	char a0[] = "hwc3d", a1[] = "blend-convert";
	char *argv[] = { a0, a1, dir, (char *)blender, NULL };
	struct sandbox_proc p = {
		.exe = analyze_exe(), .argv = argv, .stdin_fd = null,
		.timeout_ms = (int)(timeout_s * 1000), .out_max = 65536,
	};
	char why[256];
	int rc = sandbox_run(&p, why, sizeof(why));
	if (null >= 0)
		close(null);
	pthread_mutex_lock(&slots_lock);
	slots_busy--;
	pthread_cond_signal(&slots_cond);
	pthread_mutex_unlock(&slots_lock);

	struct stat st;
	if (rc) {
		log_error("blend conversion: %s", why);
		snprintf(err, errlen, "the conversion could not run");
	} else if (p.timed_out) {
		snprintf(err, errlen, "Blender took longer than %lld s", (long long)timeout_s);
	} else if (!WIFEXITED(p.status) || WEXITSTATUS(p.status) != 0 || stat(out, &st) || st.st_size == 0) {
		char status[64];
		sandbox_describe_status(p.status, status, sizeof(status));
		log_warn("blend conversion failed (%s): %.300s", status, p.errtext);
		snprintf(err, errlen, "Blender could not read this file");
	} else {
		result = model_analyze(out, "GLB", err, errlen);
		if (result) {
			json_object_set_new(result, "file_format", json_string("BLEND"));
			json_object_set_new(result, "converted_with", json_string("blender"));
		}
	}
	sandbox_proc_release(&p);
done:
	remove_tree(dir);
	free(dir);
	return result;
}
