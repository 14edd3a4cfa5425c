/*
 * sandbox.c: resource limits, no_new_privs and a seccomp allowlist for the
 * child; posix_spawn, a wall-clock kill and output capture for the parent;
 * the bubblewrap jail for whole programs.  See sandbox.h for the contract.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
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
#include "core/config.h"
#include "core/num.h"
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

#define SB_MAX_INSNS 192

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
#define RET_ERRNO(e) STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ((e) & SECCOMP_RET_DATA))

#ifndef CLONE_NEWCGROUP
#define CLONE_NEWCGROUP 0x02000000
#endif
#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif
#define SB_NS_FLAGS (CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | \
		     CLONE_NEWNET | CLONE_NEWCGROUP | CLONE_NEWTIME)

/* nr is allowed whatever its arguments. */
static void allow(struct bpf_prog_buf *b, long nr)
{
	emit(b, JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)nr, 0, 1));
	emit(b, RET_ALLOW);
}

/* nr is allowed only with argument 0 (a descriptor, a prctl option) equal
 * to one of vals[0..n-1]; with any other value it kills. */
static void allow_arg0_in(struct bpf_prog_buf *b, long nr, const unsigned *vals, unsigned n)
{
	emit(b, JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)nr, 0, (unsigned char)(n + 3)));
	emit(b, LOAD_ARG(0));
	for (unsigned i = 0; i < n; i++)
		emit(b, JUMP(BPF_JMP | BPF_JEQ | BPF_K, vals[i], (unsigned char)(n - i), 0));
	emit(b, RET_KILL);
	emit(b, RET_ALLOW);
}

/* nr answers errno e whatever its arguments. */
static void refuse(struct bpf_prog_buf *b, long nr, unsigned e)
{
	emit(b, JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)nr, 0, 1));
	emit(b, RET_ERRNO(e));
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

/* Every policy starts here: another architecture's system call numbers
 * (i386 on x86_64, x32) kill; the accumulator then holds the number. */
static void check_arch(struct bpf_prog_buf *b)
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
}

/* The "stdio" policy: compute on memory, read fd 0, write fds 1 and 2
 * (and 3 with write_fd3); with threads, start threads and nothing else. */
static void build_stdio_policy(struct bpf_prog_buf *b, const struct sandbox_limits *lim)
{
	check_arch(b);
	static const unsigned out_fds[] = { 1, 2, 3 }, in_fds[] = { 0 };
	allow_arg0_in(b, __NR_write, out_fds, lim->write_fd3 ? 3 : 2);
	allow_arg0_in(b, __NR_read, in_fds, 1);
	if (lim->threads) {
		/* clone only for a thread (CLONE_THREAD needs CLONE_VM and
		 * CLONE_SIGHAND: no new process can come out of it), and into
		 * no namespace (the child may be root). */
		emit(b, JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_clone, 0, 5));
		emit(b, LOAD_ARG(0));
		emit(b, JUMP(BPF_JMP | BPF_JSET | BPF_K, SB_NS_FLAGS, 1, 0));
		emit(b, JUMP(BPF_JMP | BPF_JSET | BPF_K, CLONE_THREAD, 1, 0));
		emit(b, RET_KILL);
		emit(b, RET_ALLOW);
#ifdef __NR_clone3
		refuse(b, __NR_clone3, ENOSYS); /* its flags are out of the filter's sight */
#endif
		static const unsigned prctl_ok[] = { PR_SET_NAME, PR_GET_NAME };
		allow_arg0_in(b, __NR_prctl, prctl_ok, 2);
		allow(b, __NR_set_robust_list);
#ifdef __NR_rseq
		allow(b, __NR_rseq);
#endif
		allow(b, __NR_sched_getaffinity);
	}
	if (lim->exec_memory) {
		allow(b, __NR_mmap);
		allow(b, __NR_mprotect);
	} else {
		allow_no_exec(b, __NR_mmap);
		allow_no_exec(b, __NR_mprotect);
	}
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

int sandbox_read_input(size_t max, unsigned char **out, size_t *len)
{
	struct stat st;
	size_t cap = 1 << 20, n = 0;
	if (fstat(0, &st) == 0 && S_ISREG(st.st_mode)) {
		if ((uint64_t)st.st_size > max)
			return -1;
		cap = (size_t)st.st_size + 1;
	}
	unsigned char *buf = xmalloc(cap);
	for (;;) {
		if (n == cap) {
			if (cap > max) {
				free(buf);
				return -1;
			}
			cap *= 2;
			buf = xrealloc(buf, cap);
		}
		ssize_t r = read(0, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			free(buf);
			return -2;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	if (n > max) {
		free(buf);
		return -1;
	}
	*out = buf;
	*len = n;
	return 0;
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
	if (set_limit(RLIMIT_FSIZE, (rlim_t)lim->file_bytes, (rlim_t)lim->file_bytes) ||
	    set_limit(RLIMIT_CORE, 0, 0) ||
	    set_limit(RLIMIT_MEMLOCK, 0, 0) ||
	    set_limit(RLIMIT_NOFILE, lim->max_fds, lim->max_fds)) {
		snprintf(err, errlen, "sandbox: setrlimit: %s", strerror(errno));
		return -1;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) {
		snprintf(err, errlen, "sandbox: no_new_privs: %s", strerror(errno));
		return -1;
	}
	sandbox_background(); /* inherited from a pool worker already; for other callers */
	/* Not dumpable: nothing else running as our user may ptrace us. */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);

	struct bpf_prog_buf b = { .n = 0 };
	build_stdio_policy(&b, lim);
	if (b.overflow) {
		snprintf(err, errlen, "sandbox: filter too long");
		return -1;
	}
	struct sock_fprog prog = { .len = (unsigned short)b.n, .filter = b.insn };
	/* With threads, TSYNC puts the filter on the ones already running
	 * (a renderer starts its own before it reads the input). */
	if (lim->threads ? syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &prog) != 0
			 : prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) != 0) {
		snprintf(err, errlen, "sandbox: seccomp: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* --------------------------------------------------- priority and slots */

bool sandbox_background(void)
{
	pid_t tid = (pid_t)syscall(SYS_gettid);
	errno = 0;
	int now = getpriority(PRIO_PROCESS, (id_t)tid);
	bool ok = true;
	if (errno == 0 && now < SANDBOX_NICE)
		ok = setpriority(PRIO_PROCESS, (id_t)tid, SANDBOX_NICE) == 0;
	struct sched_param sp = { .sched_priority = 0 };
	if (sched_getscheduler(0) == SCHED_OTHER)
		ok = sched_setscheduler(0, SCHED_BATCH, &sp) == 0 && ok;
	return ok;
}

struct sandbox_slots sandbox_media_slots = SANDBOX_SLOTS_INIT;

int sandbox_concurrency(void)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int def = ncpu > 2 ? (int)MIN(ncpu, 256) : 2;
	const char *v = config_get("ANALYZE_CONCURRENCY");
	int64_t n;
	return v && *v && parse_i64_range(v, 1, 256, &n) ? (int)n : def;
}

bool sandbox_slot_take(struct sandbox_slots *s, int max, int64_t timeout_ms, int64_t *left_ms)
{
	int64_t t0 = mono_us();
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	int64_t deadline_ns = (int64_t)ts.tv_nsec + (timeout_ms % 1000) * 1000000;
	ts.tv_sec += (time_t)(timeout_ms / 1000 + deadline_ns / 1000000000);
	ts.tv_nsec = (long)(deadline_ns % 1000000000);
	bool ok = true;
	pthread_mutex_lock(&s->lock);
	while (s->busy >= max && ok)
		ok = pthread_cond_timedwait(&s->cond, &s->lock, &ts) != ETIMEDOUT || s->busy < max;
	if (ok)
		s->busy++;
	pthread_mutex_unlock(&s->lock);
	if (ok && left_ms)
		*left_ms = MAX(timeout_ms - (mono_us() - t0) / 1000, (int64_t)1);
	return ok;
}

void sandbox_slot_give(struct sandbox_slots *s)
{
	pthread_mutex_lock(&s->lock);
	HWC_ASSERT(s->busy > 0);
	s->busy--;
	pthread_cond_signal(&s->cond);
	pthread_mutex_unlock(&s->lock);
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
	/* Last, after the pipes are on 1 and 2 (one of them may sit on 3 in
	 * the parent), from a copy above 3 (dup2 onto itself would keep
	 * FD_CLOEXEC). */
	int fd3_copy = -1;
	if (p->fd3 > 2) {
		fd3_copy = fcntl(p->fd3, F_DUPFD_CLOEXEC, 4);
		if (fd3_copy < 0) {
			snprintf(err, errlen, "fd3: %s", strerror(errno));
			posix_spawn_file_actions_destroy(&fa);
			posix_spawnattr_destroy(&attr);
			close_fd(&outp[0]);
			close_fd(&outp[1]);
			close_fd(&errp[0]);
			close_fd(&errp[1]);
			return -1;
		}
		posix_spawn_file_actions_adddup2(&fa, fd3_copy, 3);
	}
	posix_spawn_file_actions_addclosefrom_np(&fa, p->fd3 > 2 ? 4 : 3);
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
	close_fd(&fd3_copy);
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

/* ------------------------------------------------------------- the jail */

/* The jail's seccomp policy, for a whole program (Blender opens files,
 * starts threads and processes): everything is allowed but what no 3D
 * converter needs and what attacks the kernel or the outside world.  The
 * refused calls answer EPERM (ENOSYS for clone3), so a program that merely
 * probes for them carries on. */
static void build_jail_policy(struct bpf_prog_buf *b)
{
	check_arch(b);
	static const long refused[] = {
		__NR_socket, /* no network, not even a Unix socket to connect out */
		__NR_ptrace, __NR_process_vm_readv, __NR_process_vm_writev,
		__NR_add_key, __NR_request_key, __NR_keyctl,
		__NR_bpf, __NR_perf_event_open, __NR_userfaultfd,
		__NR_io_uring_setup, __NR_io_uring_enter, __NR_io_uring_register,
		__NR_unshare, __NR_setns,
		__NR_mount, __NR_umount2, __NR_pivot_root, __NR_chroot,
		__NR_open_by_handle_at, __NR_name_to_handle_at,
		__NR_init_module, __NR_finit_module, __NR_delete_module,
		__NR_kexec_load, __NR_kexec_file_load, __NR_reboot,
		__NR_swapon, __NR_swapoff, __NR_acct, __NR_syslog, __NR_quotactl,
		__NR_settimeofday, __NR_clock_settime, __NR_clock_adjtime, __NR_adjtimex,
		__NR_vhangup,
#ifdef __NR_fsopen
		__NR_fsopen, __NR_fsconfig, __NR_fsmount, __NR_fspick, __NR_move_mount,
		__NR_open_tree,
#endif
#ifdef __NR_mount_setattr
		__NR_mount_setattr,
#endif
#if defined(__x86_64__)
		__NR_iopl, __NR_ioperm, __NR_uselib, __NR_modify_ldt,
#endif
	};
	for (size_t i = 0; i < ARRAY_LEN(refused); i++)
		refuse(b, refused[i], EPERM);
	/* clone: not into new namespaces (bwrap's --disable-userns stops
	 * user namespaces too); clone3 hides its flags: libc falls back. */
	emit(b, JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_clone, 0, 4));
	emit(b, LOAD_ARG(0));
	emit(b, JUMP(BPF_JMP | BPF_JSET | BPF_K, SB_NS_FLAGS, 0, 1));
	emit(b, RET_ERRNO(EPERM));
	emit(b, RET_ALLOW);
#ifdef __NR_clone3
	refuse(b, __NR_clone3, ENOSYS);
#endif
	/* No typing into a terminal (the session is new anyway). */
	emit(b, JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_ioctl, 0, 4));
	emit(b, LOAD_ARG(1));
	emit(b, JUMP(BPF_JMP | BPF_JEQ | BPF_K, TIOCSTI, 1, 0));
	emit(b, RET_ALLOW);
	emit(b, RET_ERRNO(EPERM));
	emit(b, RET_ALLOW);
}

/* Where, as root about to become nobody, the work directory is bound in a
 * private mount namespace (nobody cannot walk through DATA_DIR to it): a
 * directory every Linux has, that bubblewrap does not use, and that can
 * hide neither Blender nor anything the jail needs (over /tmp it would hide
 * a Blender kept there). */
#define JAIL_STAGE "/sys"

struct argbuf {
	const char *v[160];
	size_t n;
	bool overflow;
};

static void arg(struct argbuf *a, const char *s)
{
	if (a->n + 1 < ARRAY_LEN(a->v))
		a->v[a->n++] = s;
	else
		a->overflow = true;
}

static void arg2(struct argbuf *a, const char *x, const char *y)
{
	arg(a, x);
	arg(a, y);
}

static void arg3(struct argbuf *a, const char *x, const char *y, const char *z)
{
	arg(a, x);
	arg(a, y);
	arg(a, z);
}

/* /bin, /lib, ...: a symlink into /usr on a merged-/usr system (as on the
 * host), a read-only bind otherwise.  Link targets live in static buffers:
 * they must outlive the execve. */
static void top_dirs(struct argbuf *a)
{
	static const char *const names[] = { "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32" };
	static char targets[ARRAY_LEN(names)][256];
	for (size_t i = 0; i < ARRAY_LEN(names); i++) {
		struct stat st;
		if (lstat(names[i], &st))
			continue;
		if (S_ISLNK(st.st_mode)) {
			ssize_t n = readlink(names[i], targets[i], sizeof(targets[i]) - 1);
			if (n <= 0 || (size_t)n >= sizeof(targets[i]) - 1)
				continue;
			targets[i][n] = '\0';
			arg3(a, "--symlink", targets[i], names[i]);
		} else if (S_ISDIR(st.st_mode)) {
			arg3(a, "--ro-bind", names[i], names[i]);
		}
	}
}

int sandbox_exec_jail(const struct sandbox_jail *j, char *err, size_t errlen)
{
	if (SB_AUDIT_ARCH == 0) {
		snprintf(err, errlen, "sandbox: unsupported architecture");
		return -1;
	}
	if (!j->program || j->program[0] != '/' || !j->workdir || !j->argv || !j->argv[0]) {
		snprintf(err, errlen, "sandbox: bad jail");
		return -1;
	}
	sandbox_background(); /* bwrap and the program inherit it */

	/* The seccomp program, for bwrap to read from an inherited fd. */
	struct bpf_prog_buf b = { .n = 0 };
	build_jail_policy(&b);
	if (b.overflow) {
		snprintf(err, errlen, "sandbox: filter too long");
		return -1;
	}
	int sfd = memfd_create("hwc3d-jail-seccomp", 0);
	size_t bytes = b.n * sizeof(b.insn[0]);
	if (sfd < 0 || write(sfd, b.insn, bytes) != (ssize_t)bytes || lseek(sfd, 0, SEEK_SET) != 0) {
		snprintf(err, errlen, "sandbox: seccomp fd: %s", strerror(errno));
		return -1;
	}

	const char *work = j->workdir;
	if (j->become_nobody) {
		if (unshare(CLONE_NEWNS) || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
		    mount(j->workdir, JAIL_STAGE, NULL, MS_BIND, NULL)) {
			snprintf(err, errlen, "sandbox: staging the work directory: %s", strerror(errno));
			return -1;
		}
		work = JAIL_STAGE;
		if (setgroups(0, NULL) || setresgid(SANDBOX_NOBODY, SANDBOX_NOBODY, SANDBOX_NOBODY) ||
		    setresuid(SANDBOX_NOBODY, SANDBOX_NOBODY, SANDBOX_NOBODY)) {
			snprintf(err, errlen, "sandbox: becoming nobody: %s", strerror(errno));
			return -1;
		}
		if (setuid(0) == 0 || geteuid() != SANDBOX_NOBODY) {
			snprintf(err, errlen, "sandbox: still privileged after setuid");
			return -1;
		}
	}
	/* After the uid change (which clears it): die with the server, and
	 * do not start at all if it is already gone. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) || (j->parent && getppid() != j->parent)) {
		snprintf(err, errlen, "sandbox: the server is gone");
		return -1;
	}

	char sfd_s[16], mem[24];
	snprintf(sfd_s, sizeof(sfd_s), "%d", sfd);
	snprintf(mem, sizeof(mem), "%d", 64 << 20);
	struct argbuf a = { .n = 0 };
	arg(&a, j->bwrap);
	arg(&a, "--unshare-all");        /* user, mount, pid, net, ipc, uts, cgroup */
	arg(&a, "--unshare-user");       /* even where bwrap is setuid */
	arg(&a, "--disable-userns");     /* and none inside */
	arg(&a, "--die-with-parent");
	arg(&a, "--new-session");        /* no controlling terminal */
	arg2(&a, "--cap-drop", "ALL");
	arg2(&a, "--uid", "65534");
	arg2(&a, "--gid", "65534");
	arg2(&a, "--hostname", "sandbox");
	arg(&a, "--clearenv");
	arg3(&a, "--setenv", "HOME", "/work");
	arg3(&a, "--setenv", "TMPDIR", "/work");
	arg3(&a, "--setenv", "PATH", "/usr/bin:/bin");
	arg3(&a, "--setenv", "LC_ALL", "C.UTF-8");
	arg3(&a, "--ro-bind", "/usr", "/usr");
	top_dirs(&a);
	/* The dynamic loader's cache and Debian's alternatives symlinks (BLAS
	 * and LAPACK live behind them), fonts: nothing secret. */
	static const char *const etc[] = { "/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d",
					   "/etc/alternatives", "/etc/fonts" };
	for (size_t i = 0; i < ARRAY_LEN(etc); i++)
		arg3(&a, "--ro-bind-try", etc[i], etc[i]);
	arg2(&a, "--proc", "/proc");
	arg2(&a, "--dev", "/dev");
	arg2(&a, "--perms", "1777");
	arg2(&a, "--size", mem);
	arg2(&a, "--tmpfs", "/tmp");
	if (j->program_dir)
		arg3(&a, "--ro-bind", j->program_dir, j->program_dir);
	arg3(&a, "--bind", work, "/work");
	arg2(&a, "--remount-ro", "/"); /* the root tmpfs bwrap built: /work and /tmp stay writable */
	arg2(&a, "--chdir", "/work");
	arg2(&a, "--seccomp", sfd_s);
	arg(&a, "--");
	arg(&a, j->program);
	for (size_t i = 1; j->argv[i]; i++)
		arg(&a, j->argv[i]);
	if (a.overflow) {
		snprintf(err, errlen, "sandbox: too many arguments");
		return -1;
	}
	a.v[a.n] = NULL;

	/* Limits last: under ASan the address-space limit would stop our own
	 * allocations.  bwrap and the program inherit them all. */
	struct { int res; rlim_t v; } limits[] = {
		{ RLIMIT_AS, (rlim_t)j->memory_bytes },
		{ RLIMIT_CPU, (rlim_t)j->cpu_seconds },
		{ RLIMIT_FSIZE, (rlim_t)j->file_bytes },
		{ RLIMIT_NPROC, (rlim_t)j->max_procs },
		{ RLIMIT_NOFILE, (rlim_t)j->max_fds },
		{ RLIMIT_CORE, 0 },
		{ RLIMIT_MEMLOCK, 0 },
	};
	for (size_t i = 0; i < ARRAY_LEN(limits); i++) {
		if (limits[i].v == 0 && limits[i].res != RLIMIT_CORE && limits[i].res != RLIMIT_MEMLOCK)
			continue;
		if (set_limit(limits[i].res, limits[i].v, limits[i].v)) {
			snprintf(err, errlen, "sandbox: setrlimit: %s", strerror(errno));
			return -1;
		}
	}
	static char *const envp[] = { (char *)"PATH=/usr/bin:/bin", (char *)"LC_ALL=C", NULL };
	execve(j->bwrap, (char *const *)a.v, envp);
	snprintf(err, errlen, "sandbox: cannot run %s: %s", j->bwrap, strerror(errno));
	return -1;
}
