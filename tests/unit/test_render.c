/*
 * The renderer's option parsers, and its child on hostile input: a file
 * that is not a model, a glTF whose buffer points at a local file, and an
 * unknown option all fail cleanly (a reason, no crash, no file read).
 * Run alone with `build/test/unit render`.
 */
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include "t.h"
#include "media/analyze.h"
#include "media/render.h"
#include "media/sandbox.h"

TEST(render_background_and_lighting_parse)
{
	struct render_opts o;
	render_opts_default(&o);
	CHECK(o.width == 800 && o.height == 600 && o.lighting == LIGHT_STUDIO && !o.transparent);
	CHECK(render_background_parse("#10ff7f", &o) && o.has_background && o.background[0] == 0x10 &&
	      o.background[1] == 0xff && o.background[2] == 0x7f && !o.transparent);
	CHECK(render_background_parse("transparent", &o) && o.transparent && !o.has_background);
	CHECK(render_background_parse("A0b0C0", &o) && o.background[2] == 0xc0);
	CHECK(!render_background_parse("#12345", &o));
	CHECK(!render_background_parse("#1234567", &o));
	CHECK(!render_background_parse("#12g456", &o));
	CHECK(!render_background_parse("red", &o));
	CHECK(!render_background_parse(NULL, &o));
	enum render_lighting l = LIGHT_STUDIO;
	CHECK(render_lighting_parse("dark", &l) && l == LIGHT_DARK);
	CHECK(render_lighting_parse("outdoor", &l) && l == LIGHT_OUTDOOR);
	CHECK(!render_lighting_parse("Dark", &l) && l == LIGHT_OUTDOOR);
	CHECK(!render_lighting_parse(NULL, &l));
	CHECK_STR(render_lighting_name(LIGHT_DARK), "dark");
}

/* A temp file holding s; its fd (read-only), or -1. */
static int temp_with(const char *s)
{
	char path[] = "/tmp/hwc3d-render-XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0)
		return -1;
	unlink(path);
	if (write(fd, s, strlen(s)) != (ssize_t)strlen(s)) {
		close(fd);
		return -1;
	}
	return fd;
}

static bool child_ready(void)
{
	static char exe[4096];
	if (!realpath("build/test/hwc3d", exe)) {
		fprintf(stderr, "    build/test/hwc3d is missing (make test-build)\n");
		return false;
	}
	analyze_set_exe(exe);
	return true;
}

TEST(render_child_refuses_bad_input)
{
	if (!child_ready()) {
		CHECK(!"the test binary");
		return;
	}
	struct render_opts o;
	render_opts_default(&o);
	o.width = o.height = 32;
	char err[256];
	unsigned char *png = NULL;
	size_t len = 0;
	/* not a model */
	int fd = temp_with("this is not an OBJ file at all\n");
	CHECK(fd >= 0);
	CHECK(!render_png(fd, "GLB", &o, &png, &len, err, sizeof(err)) && !png && err[0]);
	close(fd);
	/* a glTF whose buffer is a local file: refused, never read */
	fd = temp_with("{\"asset\":{\"version\":\"2.0\"},\"buffers\":[{\"uri\":\"/etc/passwd\",\"byteLength\":12}],"
		       "\"bufferViews\":[{\"buffer\":0,\"byteLength\":12}],\"accessors\":[{\"bufferView\":0,"
		       "\"componentType\":5126,\"count\":1,\"type\":\"VEC3\"}],\"meshes\":[{\"primitives\":"
		       "[{\"attributes\":{\"POSITION\":0}}]}],\"nodes\":[{\"mesh\":0}],\"scenes\":[{\"nodes\":[0]}]}");
	CHECK(fd >= 0);
	CHECK(!render_png(fd, "GLTF", &o, &png, &len, err, sizeof(err)) && !png);
	CHECK(!strstr(err, "forbidden") && !strstr(err, "crashed"));
	close(fd);
	/* a triangle renders */
	fd = temp_with("v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n");
	CHECK(render_png(fd, "OBJ", &o, &png, &len, err, sizeof(err)) && png && len > 33);
	CHECK(png && !memcmp(png, "\x89PNG", 4));
	free(png);
	/* an unknown format never starts a child */
	CHECK(!render_png(fd, "PLY", &o, &png, &len, err, sizeof(err)));
	close(fd);
}

/* ---- the two sandbox options the renderer needs (sandbox.h) ---- */

static volatile int go; /* set after sandbox_enter: the early thread acts */

static void *early_thread(void *arg)
{
	while (!__atomic_load_n(&go, __ATOMIC_ACQUIRE))
		sched_yield(); /* allowed by the policy, unlike sleeping */
	int fd = open("/etc/hostname", O_RDONLY); /* killed here with TSYNC */
	_exit(fd >= 0 ? 3 : 4);
	return arg;
}

/* The wait status of a child that enters the sandbox and then runs what:
 * 0 mmap with PROT_EXEC; 1 a thread started before the filter opens a
 * file. */
static int run_sandboxed(int what, bool exec_memory, bool threads)
{
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		int devnull = open("/dev/null", O_WRONLY);
		dup2(devnull, 1);
		dup2(devnull, 2);
		pthread_t th;
		if (what == 1 && pthread_create(&th, NULL, early_thread, NULL))
			_exit(91);
		char err[256];
		struct sandbox_limits lim = { .memory_bytes = 256u << 20, .cpu_seconds = 2, .max_fds = 8,
					      .threads = threads, .exec_memory = exec_memory };
		if (sandbox_enter(&lim, err, sizeof(err)))
			_exit(90);
		if (what == 0) {
			void *p = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			_exit(p == MAP_FAILED ? 2 : 0);
		}
		__atomic_store_n(&go, 1, __ATOMIC_RELEASE);
		for (long i = 0; i < 200000000L; i++)
			sched_yield();
		_exit(5); /* the thread never acted */
	}
	int st = 0;
	waitpid(pid, &st, 0);
	return st;
}

TEST(sandbox_exec_memory_and_tsync)
{
	int st = run_sandboxed(0, false, false); /* no JIT memory without the option */
	CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS);
	st = run_sandboxed(0, true, false);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	/* a thread that was running before the filter carries it too */
	st = run_sandboxed(1, false, true);
	CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS);
}
