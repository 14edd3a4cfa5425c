/*
 * sandbox.h: run a risky parser (assimp, later Blender and renderers) in a
 * child process that can hurt nobody but itself.
 *
 * Two halves:
 *
 *  - sandbox_run() is the parent side: it starts a program with
 *    posix_spawn (safe from a multi-threaded server: no code of ours runs
 *    between fork and exec), a file as its stdin, a pipe as its stdout
 *    (read up to a cap) and a pipe as its stderr (first few KB kept), a
 *    minimal environment, no other inherited descriptors, and a wall-clock
 *    deadline after which the child is killed with SIGKILL.  It always reaps
 *    the child: no zombies.  Thread safe; many may run at once.
 *
 *  - sandbox_enter() is the child side, called by the child itself once it
 *    has read its input: resource limits (address space, CPU seconds, no
 *    file writes, few descriptors, no core dumps), PR_SET_NO_NEW_PRIVS and
 *    a seccomp-BPF allowlist.  The "stdio" policy allows only memory
 *    management, reading fd 0, writing fds 1 and 2, futexes, clocks,
 *    getrandom and exiting: no open, no socket, no exec, no fork or clone.
 *    Anything else kills the process (SECCOMP_RET_KILL_PROCESS), so the
 *    parent sees SIGSYS.  Fails closed: if the kernel refuses the filter,
 *    sandbox_enter() fails and the caller must not go on.  Options widen it
 *    by exactly one thing each: writing fd 3 (a result file the parent
 *    opened), and starting threads (clone with CLONE_THREAD; libvips).
 *
 *  - sandbox_exec_jail() is for whole programs that open files and start
 *    processes (Blender): the child execs bubblewrap, which puts the
 *    program in new user, mount, network, PID, IPC, UTS and cgroup
 *    namespaces where only /usr (and the program's own directory), a few
 *    files of /etc, a minimal /dev and /proc and its work directory exist,
 *    with resource limits, a parent-death signal, no capabilities, no new
 *    privileges and a seccomp denylist (sockets, ptrace, the keyring, BPF,
 *    namespaces, mounts, kernel modules...).  When the server runs as root
 *    the child first becomes nobody (65534), so even an escape from the
 *    namespaces lands as an unprivileged user.
 */
#ifndef HWC_SANDBOX_H
#define HWC_SANDBOX_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* ---- child side ---- */

struct sandbox_limits {
	uint64_t memory_bytes; /* RLIMIT_AS above what is mapped now; 0: no limit */
	unsigned cpu_seconds;  /* RLIMIT_CPU (soft; hard is one more); 0: none */
	unsigned max_fds;      /* RLIMIT_NOFILE */
	uint64_t file_bytes;   /* RLIMIT_FSIZE; 0: no file may grow at all */
	bool write_fd3;        /* fd 3 may be written too (sandbox_proc.fd3) */
	bool threads;          /* threads may be started (clone3 answers ENOSYS,
				  so libc falls back to clone, whose flags the
				  filter can see); the filter is also applied
				  to threads that exist already (TSYNC) */
	bool exec_memory;      /* mmap/mprotect may make memory executable:
				  for a JIT (Mesa's llvmpipe compiles its
				  shaders when it first draws) */
};

/* Applies the limits, no_new_privs and the "stdio" seccomp policy to the
 * calling process (single-threaded, or with threads: all its threads).  Under AddressSanitizer
 * the address-space limit is counted on top of what is already mapped
 * (ASan reserves terabytes of shadow up front), so it still caps what the
 * parser can allocate.  Returns 0, or -1 with a reason in err. */
int sandbox_enter(const struct sandbox_limits *lim, char *err, size_t errlen);

/* Reads the child's input (fd 0: the file the parent gave as stdin) into a
 * malloc'd buffer: 0; -1 when it is larger than max bytes; -2 on a read
 * error.  Before sandbox_enter, which lifts no limit on memory already
 * taken. */
int sandbox_read_input(size_t max, unsigned char **out, size_t *len);

/* ---- parent side ---- */

struct sandbox_proc {
	/* in */
	const char *exe;          /* path to execute */
	char *const *argv;        /* NULL terminated */
	int stdin_fd;             /* becomes the child's fd 0 */
	int fd3;                  /* > 2: becomes the child's fd 3 (a file for
				     the result); 0: none */
	int timeout_ms;           /* wall clock, from spawn to exit */
	size_t out_max;           /* stdout beyond this kills the child */
	/* out */
	char *out;                /* stdout, NUL terminated; free() it */
	size_t out_len;
	char errtext[2048];       /* the start of stderr, NUL terminated */
	int status;               /* as from waitpid */
	bool timed_out;           /* killed at the deadline */
	bool out_overflow;        /* killed for writing more than out_max */
	int64_t elapsed_ms;
};

/* Runs p->exe and waits for it.  Its environment holds only LC_ALL=C and
 * the sanitizer settings of ours (with leak detection off).  Returns 0 when
 * the child ran and was reaped (look at status, timed_out, out_overflow),
 * -1 with err set when it could not be started. */
int sandbox_run(struct sandbox_proc *p, char *err, size_t errlen);

/* Frees p->out. */
void sandbox_proc_release(struct sandbox_proc *p);

/* "exit 3", "killed by SIGSYS", ... for messages and logs. */
void sandbox_describe_status(int status, char *buf, size_t len);

/* ---- background priority ---- */

/* The niceness of slow work (pool workers, sandboxed children). */
#define SANDBOX_NICE 10

/* Lowers the calling thread (Linux: nice and policy are per thread, and
 * processes it starts inherit both) to background priority: at least
 * SANDBOX_NICE and SCHED_BATCH, so threads answering requests win the CPU
 * and are not preempted by it on wake-up.  False if the kernel refused
 * (the work still runs, at its old priority). */
bool sandbox_background(void);

/* ---- slots: how many children of a kind run at once ---- */

struct sandbox_slots {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int busy;
};
#define SANDBOX_SLOTS_INIT { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0 }

/* The children (model analysis and image decoding together) that may run
 * at once: ANALYZE_CONCURRENCY, default the number of CPUs, at least 2.
 * The worker pool starts as many analysis and as many image workers. */
int sandbox_concurrency(void);

/* Takes one of max slots, waiting at most timeout_ms (the wait counts
 * against the child's own wall-clock limit).  True with *left_ms set to
 * what remains of timeout_ms (at least 1); false when no slot came free in
 * time.  Every true must be paired with sandbox_slot_give(). */
bool sandbox_slot_take(struct sandbox_slots *s, int max, int64_t timeout_ms, int64_t *left_ms);
void sandbox_slot_give(struct sandbox_slots *s);

/* The slots shared by model analysis and image decoding. */
extern struct sandbox_slots sandbox_media_slots;

/* ---- the namespace jail (bubblewrap), child side ---- */

#define SANDBOX_NOBODY 65534

struct sandbox_jail {
	const char *bwrap;       /* the bubblewrap binary */
	const char *program;     /* absolute path of the program to run */
	const char *program_dir; /* NULL, or a directory outside /usr holding
				    the program (and its data), bound
				    read-only at the same path */
	const char *workdir;     /* /work inside, the only writable place and
				    the program's cwd (owned by nobody when
				    become_nobody) */
	char *const *argv;       /* the program's arguments, argv[0] included */
	pid_t parent;            /* the server: if it is gone, do not start */
	bool become_nobody;      /* root only: setuid/setgid 65534 first (the
				    work directory is then reached through a
				    bind mount in a private mount namespace,
				    since nobody cannot cross DATA_DIR) */
	uint64_t memory_bytes;   /* RLIMIT_AS */
	uint64_t file_bytes;     /* RLIMIT_FSIZE */
	unsigned cpu_seconds;    /* RLIMIT_CPU */
	unsigned max_procs;      /* RLIMIT_NPROC (threads count) */
	unsigned max_fds;        /* RLIMIT_NOFILE */
};

/* Locks the calling process down (limits, parent-death signal, nobody)
 * and execs bubblewrap with the jail's options and its seccomp filter.
 * Returns only on failure: -1 with a reason in err.  Call in a
 * single-threaded child (`hwc3d blend-convert`). */
int sandbox_exec_jail(const struct sandbox_jail *j, char *err, size_t errlen);

#endif
