/*
 * sandbox.c: resource limits, no_new_privs and a seccomp allowlist for the
 * child; posix_spawn, a wall-clock kill and output capture for the parent.
 * See sandbox.h for the contract.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stddef.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "media/sandbox.h"
#include "core/util.h"

#if defined(__SANITIZE_ADDRESS__)
#define SB_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SB_ASAN 1
#endif
#endif
#ifndef SB_ASAN
#define SB_ASAN 0
#endif

#if defined(__x86_64__)
#define SB_AUDIT_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define SB_AUDIT_ARCH AUDIT_ARCH_AARCH64
#else
#define SB_AUDIT_ARCH 0 /* unknown: sandbox_enter() refuses */
#endif

#ifndef SECCOMP_RET_KILL_PROCESS
#define SECCOMP_RET_KILL_PROCESS 0x80000000U
#endif

/* ------------------------------------------------------------ child side */

#define SB_MAX_INSNS 96

struct bpf_prog_buf {
	struct sock_filter insn[SB_MAX_INSNS];
	unsigned n;
	bool overflow;
};

static void emit(struct bpf_prog_buf *b, struct sock_filter f)
{
	if (b->n < SB_MAX_INSNS)
		b->insn[b->n++] = f;
	else
		b->overflow = true;
}

#define STMT(code, k) ((struct sock_filter)BPF_STMT((code), (k)))
#define JUMP(code, k, jt, jf) ((struct sock_filter)BPF_JUMP((code), (k), (jt), (jf)))
#define LOAD_NR STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr))
/* The low 32 bits of argument i (both supported targets are little endian). */
#define LOAD_ARG(i) STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[(i)]))
#define RET_ALLOW STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)
#define RET_KILL STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS)

/* nr is allowed whatever its arguments. */
static void allow(struct bpf_prog_buf *b, long nr)
{
	emit(b, JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)nr, 0, 1));
	emit(b, RET_ALLOW);
}

/* nr is allowed only with argument 0 (a descriptor) equal to fd_a or fd_b. */
static void allow_on_fds(struct bpf_prog_buf *b, long nr, unsigned fd_a, unsigned fd_b)
{
	emit(b, JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)nr, 0, 5));
	emit(b, LOAD_ARG(0));
	emit(b, JUMP(BPF_JMP | BPF_JEQ | BPF_K, fd_a, 2, 0));
	emit(b, JUMP(BPF_JMP | BPF_JEQ | BPF_K, fd_b, 1, 0));
	emit(b, RET_KILL);
	emit(b, RET_ALLOW);
}

/* nr (mmap, mprotect) is allowed only when argument 2 (prot) lacks
 * PROT_EXEC: the parser never needs new executable memory. */
static void allow_no_exec(struct bpf_prog_buf *b, long nr)
{
	emit(b, JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)nr, 0, 4));
	emit(b, LOAD_ARG(2));
	emit(b, JUMP(BPF_JMP | BPF_JSET | BPF_K, PROT_EXEC, 0, 1));
	emit(b, RET_KILL);
	emit(b, RET_ALLOW);
}

/* The "stdio" policy: compute on memory, read fd 0, write fds 1 and 2. */
static void build_stdio_policy(struct bpf_prog_buf *b)
{
	emit(b, STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)));
	emit(b, JUMP(BPF_JMP | BPF_JEQ | BPF_K, SB_AUDIT_ARCH, 1, 0));
	emit(b, RET_KILL);
	emit(b, LOAD_NR);
#if defined(__x86_64__)
	/* x32 system calls share the architecture value: refuse them all. */
	emit(b, JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000U, 0, 1));
	emit(b, RET_KILL);
#endif
	allow_on_fds(b, __NR_write, 1, 2);
	allow_on_fds(b, __NR_read, 0, 0);
	allow_no_exec(b, __NR_mmap);
	allow_no_exec(b, __NR_mprotect);
	allow(b, __NR_munmap);
	allow(b, __NR_mremap);
	allow(b, __NR_brk);
	allow(b, __NR_madvise);
	allow(b, __NR_futex);
	allow(b, __NR_exit);
	allow(b, __NR_exit_group);
	allow(b, __NR_rt_sigreturn);
	allow(b, __NR_rt_sigprocmask);
	allow(b, __NR_clock_gettime);
	allow(b, __NR_gettimeofday);
	allow(b, __NR_getrandom);
	allow(b, __NR_sched_yield);
	allow(b, __NR_getpid);
	allow(b, __NR_gettid);
	if (SB_ASAN)
		allow(b, __NR_sigaltstack); /* __asan_handle_no_return on a C++ throw */
	emit(b, RET_KILL);
}

static int set_limit(int resource, rlim_t soft, rlim_t hard)
{
	struct rlimit rl = { .rlim_cur = soft, .rlim_max = hard };
	return setrlimit(resource, &rl);
}

/* Bytes of address space mapped now (VmSize), or 0 when unknown. */
static uint64_t mapped_bytes(void)
{
	FILE *f = fopen("/proc/self/statm", "re");
	unsigned long long pages = 0;
	if (!f)
		return 0;
	if (fscanf(f, "%llu", &pages) != 1)
		pages = 0;
	fclose(f);
	return (uint64_t)pages * (uint64_t)sysconf(_SC_PAGESIZE);
}

int sandbox_enter(const struct sandbox_limits *lim, char *err, size_t errlen)
{
	if (SB_AUDIT_ARCH == 0) {
		snprintf(err, errlen, "sandbox: unsupported architecture");
		return -1;
	}
	if (lim->memory_bytes) {
		uint64_t as = lim->memory_bytes;
		if (SB_ASAN)
			as += mapped_bytes(); /* the shadow is already reserved */
		if (set_limit(RLIMIT_AS, (rlim_t)as, (rlim_t)as)) {
			snprintf(err, errlen, "sandbox: RLIMIT_AS: %s", strerror(errno));
			return -1;
		}
	}
	if (lim->cpu_seconds &&
	    set_limit(RLIMIT_CPU, lim->cpu_seconds, (rlim_t)lim->cpu_seconds + 1)) {
		snprintf(err, errlen, "sandbox: RLIMIT_CPU: %s", strerror(errno));
		return -1;
	}
	if (set_limit(RLIMIT_FSIZE, 0, 0) || set_limit(RLIMIT_CORE, 0, 0) ||
	    set_limit(RLIMIT_MEMLOCK, 0, 0) ||
	    set_limit(RLIMIT_NOFILE, lim->max_fds, lim->max_fds)) {
		snprintf(err, errlen, "sandbox: setrlimit: %s", strerror(errno));
		return -1;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) {
		snprintf(err, errlen, "sandbox: no_new_privs: %s", strerror(errno));
		return -1;
	}
	/* Not dumpable: nothing else running as our user may ptrace us. */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);

	struct bpf_prog_buf b = { .n = 0 };
	build_stdio_policy(&b);
	if (b.overflow) {
		snprintf(err, errlen, "sandbox: filter too long");
		return -1;
	}
	struct sock_fprog prog = { .len = (unsigned short)b.n, .filter = b.insn };
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0)) {
		snprintf(err, errlen, "sandbox: seccomp: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* ----------------------------------------------------------- parent side */

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* "NAME=ours:extra".  A child under LeakSanitizer would need ptrace and
 * /proc at exit, which the seccomp policy forbids: leak detection off.  And
 * under ASan an allocation over the memory limit returns NULL (so C++ sees
 * std::bad_alloc, as in the release build) instead of aborting. */
static char *sanitizer_env(const char *name, const char *extra)
{
	const char *v = getenv(name);
	size_t n = strlen(name) + (v ? strlen(v) : 0) + strlen(extra) + 4;
	char *s = xmalloc(n);
	snprintf(s, n, "%s=%s%s%s", name, v ? v : "", v && *v ? ":" : "", extra);
	return s;
}

static void close_fd(int *fd)
{
	if (*fd >= 0) {
		close(*fd);
		*fd = -1;
	}
}

/* Moves both ends of a pipe to descriptors 3 and up, so that the dup2s
 * onto 0, 1 and 2 in the child cannot clobber them (a daemon may run with
 * its standard descriptors closed). */
static int above_stdio(int fds[2])
{
	for (int i = 0; i < 2; i++) {
		if (fds[i] > 2)
			continue;
		int nfd = fcntl(fds[i], F_DUPFD_CLOEXEC, 3);
		if (nfd < 0)
			return -1;
		close(fds[i]);
		fds[i] = nfd;
	}
	return 0;
}

/* Reads what is there on fd into p; returns false at EOF or error. */
static bool drain(int fd, struct sandbox_proc *p, bool is_out, size_t *cap, size_t *errlen)
{
	char chunk[65536];
	ssize_t n = read(fd, chunk, sizeof(chunk));
	if (n < 0)
		return errno == EINTR || errno == EAGAIN;
	if (n == 0)
		return false;
	size_t k = (size_t)n;
	if (!is_out) {
		size_t room = sizeof(p->errtext) - 1 - *errlen;
		size_t take = MIN(room, k);
		memcpy(p->errtext + *errlen, chunk, take);
		*errlen += take;
		p->errtext[*errlen] = '\0';
		return true;
	}
	if (p->out_len + k > p->out_max) {
		p->out_overflow = true;
		return false;
	}
	if (p->out_len + k + 1 > *cap) {
		while (p->out_len + k + 1 > *cap)
			*cap *= 2;
		p->out = xrealloc(p->out, *cap);
	}
	memcpy(p->out + p->out_len, chunk, k);
	p->out_len += k;
	p->out[p->out_len] = '\0';
	return true;
}

static pid_t wait_child(pid_t pid, int *status, int flags)
{
	pid_t r;
	do
		r = waitpid(pid, status, flags);
	while (r < 0 && errno == EINTR);
	return r;
}

int sandbox_run(struct sandbox_proc *p, char *err, size_t errlen)
{
	int outp[2] = { -1, -1 }, errp[2] = { -1, -1 };
	p->out = NULL;
	p->out_len = 0;
	p->errtext[0] = '\0';
	p->status = 0;
	p->timed_out = p->out_overflow = false;
	p->elapsed_ms = 0;
	if (pipe2(outp, O_CLOEXEC) || pipe2(errp, O_CLOEXEC) || above_stdio(outp) ||
	    above_stdio(errp)) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		close_fd(&outp[0]);
		close_fd(&outp[1]);
		close_fd(&errp[0]);
		close_fd(&errp[1]);
		return -1;
	}

	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&attr);
	posix_spawn_file_actions_adddup2(&fa, p->stdin_fd, 0);
	posix_spawn_file_actions_adddup2(&fa, outp[1], 1);
	posix_spawn_file_actions_adddup2(&fa, errp[1], 2);
	posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	/* Default dispositions (the server ignores SIGPIPE) and no blocked
	 * signals in the child, whatever the calling thread had. */
	sigset_t all, none;
	sigfillset(&all);
	sigemptyset(&none);
	posix_spawnattr_setsigdefault(&attr, &all);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);

	char *asan = sanitizer_env("ASAN_OPTIONS", "detect_leaks=0:allocator_may_return_null=1:color=never");
	char *lsan = sanitizer_env("LSAN_OPTIONS", "detect_leaks=0");
	const char *ubsan = getenv("UBSAN_OPTIONS");
	char *ubsan_kv = NULL;
	if (ubsan) {
		size_t n = strlen(ubsan) + 16;
		ubsan_kv = xmalloc(n);
		snprintf(ubsan_kv, n, "UBSAN_OPTIONS=%s", ubsan);
	}
	char lc_all[] = "LC_ALL=C";
	char *envp[] = { lc_all, asan, lsan, ubsan_kv, NULL };

	int64_t start = mono_ms();
	pid_t pid;
	int rc = posix_spawn(&pid, p->exe, &fa, &attr, p->argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	free(asan);
	free(lsan);
	free(ubsan_kv);
	close_fd(&outp[1]);
	close_fd(&errp[1]);
	if (rc != 0) {
		snprintf(err, errlen, "cannot start %s: %s", p->exe, strerror(rc));
		close_fd(&outp[0]);
		close_fd(&errp[0]);
		return -1;
	}

	int64_t deadline = start + (p->timeout_ms > 0 ? p->timeout_ms : 1);
	size_t cap = 65536, elen = 0;
	p->out = xmalloc(cap);
	p->out[0] = '\0';
	struct pollfd pfd[2] = { { .fd = outp[0], .events = POLLIN },
				 { .fd = errp[0], .events = POLLIN } };
	bool killed = false;
	while (pfd[0].fd >= 0 || pfd[1].fd >= 0) {
		int64_t left = deadline - mono_ms();
		if (left <= 0) {
			p->timed_out = true;
			break;
		}
		int n = poll(pfd, 2, (int)MIN(left, 60000));
		if (n < 0 && errno != EINTR)
			break;
		for (int i = 0; n > 0 && i < 2; i++) {
			if (pfd[i].fd < 0 || !pfd[i].revents)
				continue;
			if (!drain(pfd[i].fd, p, i == 0, &cap, &elen)) {
				close(pfd[i].fd);
				pfd[i].fd = -1;
			}
		}
		if (p->out_overflow)
			break;
	}
	if (p->timed_out || p->out_overflow) {
		kill(pid, SIGKILL);
		killed = true;
	}
	/* The child closed its output: give it until the deadline to exit. */
	int status = 0;
	bool reaped = false;
	while (!killed) {
		pid_t r = wait_child(pid, &status, WNOHANG);
		if (r == pid) {
			reaped = true;
			break;
		}
		if (r < 0)
			break;
		if (mono_ms() >= deadline) {
			p->timed_out = true;
			kill(pid, SIGKILL);
			killed = true;
			break;
		}
		struct timespec ts = { .tv_sec = 0, .tv_nsec = 2 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	if (!reaped && wait_child(pid, &status, 0) != pid) {
		/* Someone else reaped it (SIGCHLD ignored?): no status to trust. */
		snprintf(err, errlen, "lost the child process: %s", strerror(errno));
		close_fd(&pfd[0].fd);
		close_fd(&pfd[1].fd);
		return -1;
	}
	close_fd(&pfd[0].fd);
	close_fd(&pfd[1].fd);
	p->status = status;
	p->elapsed_ms = mono_ms() - start;
	return 0;
}

void sandbox_proc_release(struct sandbox_proc *p)
{
	free(p->out);
	p->out = NULL;
	p->out_len = 0;
}

void sandbox_describe_status(int status, char *buf, size_t len)
{
	if (WIFEXITED(status))
		snprintf(buf, len, "exit %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, len, "killed by SIG%s", sigabbrev_np(WTERMSIG(status)) ?
			 sigabbrev_np(WTERMSIG(status)) : "?");
	else
		snprintf(buf, len, "status %d", status);
}
