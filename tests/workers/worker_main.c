// SPDX-License-Identifier: MIT
/*
 * A native worker driven by the tests. It reads commands on stdin, one per
 * line, and reports on stdout with single bytes, so the test knows exactly
 * when calls are inside the handler:
 *
 *   park CHAIN N [V] N threads enter the handler and park      E each
 *                    (V: 0 worker_handle, 1 _tail, 2 _indirect, 3 _switch)
 *   recurse CHAIN D  one thread recurses D deep, parks         E once
 *   longjmp CHAIN    enter, park; on release longjmp out       L
 *                    then call again on the same thread, park  E
 *   siglongjmp CHAIN D  D frames deep, park; on release siglongjmp
 *                    out of them all (an error, as PostgreSQL's) L
 *                    then wait outside the handler until release R
 *   catchjmp CHAIN   enter; inside, sigsetjmp, then a nested call parks E
 *                    and on release siglongjmps back into the outer
 *                    call, which waits inside the handler      L
 *                    until release, then returns               R
 *   exitthread CHAIN enter, park; on release pthread_exit      X after join
 *   fork CHAIN       enter, park; on release fork: the child returns from the
 *                    copied frame, makes one call, exits       F after the child
 *   exec CHAIN       enter, park until `doexec`, then exec self A from the new image
 *   burst CHAIN N    N calls that return at once               B
 *   timedburst CHAIN N  the same, each call timed from just before it to
 *                    just after it: the longest, in ns         B<ns>\n
 *   stress T N K     T threads x N calls over chains s0..sK-1  S
 *   setargv NAME     rewrites its command line (argv memory) to NAME, '_' as
 *                    spaces, as PostgreSQL backends do           V
 *   forkchild CHAIN NAME  forks a child that rewrites its command line to
 *                    NAME, then calls twice, parking in each call until
 *                    `childstep`                               E per call, R per return
 *   childstep        the child's parked call returns
 *   leaderexit       the main thread calls pthread_exit; another thread reads
 *                    the commands from then on                 Z once it is joined
 *   release          every parked call returns                 R per return
 *   doexec           the parked `exec` call execs
 *   quit             exit 0
 *
 * CHAIN may hold \xNN escapes (non-ASCII and invalid UTF-8 names).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "worker.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static unsigned long generation;
static int exec_go; /* `doexec` is separate so other calls stay parked */
static char self_path[4096];
/* the command line's memory, rewritten by `setargv` */
static char *args_start;
static size_t args_len;
static int child_step_fd = -1; /* write end: one byte lets the child's call return */
static pthread_t main_thread;

static void emit(char c);

static void set_cmdline(const char *name)
{
	memset(args_start, 0, args_len);
	snprintf(args_start, args_len, "%s", name);
	for (char *c = args_start; *c; c++)
		if (*c == '_')
			*c = ' ';
}

static int body_child(struct job *job, const char *chain)
{
	char c;

	(void)chain;
	emit('E');
	return read(*(int *)job->arg, &c, 1) == 1 ? 0 : -1;
}

/* The child: renamed, then two calls that each wait for a `childstep`. */
static void fork_child(const char *chain, const char *name)
{
	int p[2];
	pid_t pid;

	if (pipe(p))
		_exit(8);
	pid = fork();
	if (pid < 0)
		_exit(9);
	if (pid == 0) {
		struct job job = { .depth = 1, .body = body_child, .arg = &p[0] };

		close(p[1]);
		set_cmdline(name);
		for (int i = 0; i < 2; i++) {
			worker_handle(chain, &job);
			emit('R');
		}
		_exit(0);
	}
	close(p[0]);
	if (child_step_fd >= 0)
		close(child_step_fd);
	child_step_fd = p[1];
}

static void emit(char c)
{
	if (write(STDOUT_FILENO, &c, 1) != 1)
		_exit(3);
}

/* Reports 'E' and blocks until the next `release`. */
static void park(void)
{
	unsigned long gen;

	pthread_mutex_lock(&mu);
	gen = generation;
	emit('E');
	while (generation == gen)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
}

static int body_park(struct job *job, const char *chain)
{
	(void)job;
	(void)chain;
	park();
	return 0;
}

static int body_quick(struct job *job, const char *chain)
{
	(void)job;
	return chain[0];
}

static int body_longjmp(struct job *job, const char *chain)
{
	(void)chain;
	park();
	longjmp(*(jmp_buf *)job->arg, 1);
}

static int body_siglongjmp(struct job *job, const char *chain)
{
	(void)chain;
	park();
	siglongjmp(*(sigjmp_buf *)job->arg, 1);
}

/* Reports `c` and blocks until the next `release` (as park, with another letter). */
static void wait_release(char c)
{
	unsigned long gen;

	pthread_mutex_lock(&mu);
	gen = generation;
	emit(c);
	while (generation == gen)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
}

/*
 * The outer call catches the error itself (PostgreSQL's PG_TRY inside a
 * function): its jump point lies inside the handler, so the jump ends the
 * nested call only.
 */
static int body_catch(struct job *job, const char *chain)
{
	sigjmp_buf env;
	struct job inner = { .depth = 1, .body = body_siglongjmp, .arg = &env };

	(void)job;
	if (!sigsetjmp(env, 1))
		worker_handle(chain, &inner);
	wait_release('L');
	return 0;
}

static int body_exit(struct job *job, const char *chain)
{
	(void)job;
	(void)chain;
	park();
	pthread_exit(NULL);
}

static int body_fork(struct job *job, const char *chain)
{
	pid_t child;

	(void)job;
	park();
	child = fork();
	if (child == 0) {
		/* the child returns from a frame it never entered, then calls once */
		return -1;
	}
	if (child > 0)
		waitpid(child, NULL, 0);
	emit('F');
	(void)chain;
	return 0;
}

static int body_exec(struct job *job, const char *chain)
{
	(void)job;
	(void)chain;
	pthread_mutex_lock(&mu);
	emit('E');
	while (!exec_go)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
	execl(self_path, self_path, "--after-exec", (char *)NULL);
	_exit(4);
}

struct task {
	char cmd[16];
	char chain[256];
	long n, m, k;
};

static void *run_task(void *p)
{
	struct task *t = p;
	struct job job = { .depth = 1, .body = body_park };

	if (!strcmp(t->cmd, "park")) {
		static int (*const variant[])(const char *, struct job *) = {
			worker_handle, worker_handle_tail, worker_handle_indirect,
			worker_handle_switch,
		};

		variant[t->m >= 0 && t->m < 4 ? t->m : 0](t->chain, &job);
		emit('R');
	} else if (!strcmp(t->cmd, "recurse")) {
		job.depth = (int)t->n;
		worker_handle(t->chain, &job);
		emit('R');
	} else if (!strcmp(t->cmd, "longjmp")) {
		jmp_buf env;

		job.body = body_longjmp;
		job.arg = &env;
		if (!setjmp(env))
			worker_handle(t->chain, &job);
		emit('L');
		job.body = body_park;
		worker_handle(t->chain, &job);
		emit('R');
	} else if (!strcmp(t->cmd, "siglongjmp")) {
		sigjmp_buf env;

		job.body = body_siglongjmp;
		job.arg = &env;
		job.depth = t->n > 0 ? (int)t->n : 1;
		if (!sigsetjmp(env, 1))
			worker_handle(t->chain, &job);
		/* idle outside the handler: no later call repairs the count */
		wait_release('L');
		emit('R');
	} else if (!strcmp(t->cmd, "catchjmp")) {
		job.body = body_catch;
		worker_handle(t->chain, &job);
		emit('R');
	} else if (!strcmp(t->cmd, "exitthread")) {
		/* the exiting call runs on a thread of its own, joined here */
		struct task *inner = malloc(sizeof(*inner));
		pthread_t th;

		if (!inner)
			_exit(5);
		*inner = *t;
		strcpy(inner->cmd, "exitthread1");
		if (pthread_create(&th, NULL, run_task, inner))
			_exit(6);
		pthread_join(th, NULL);
		emit('X');
	} else if (!strcmp(t->cmd, "exitthread1")) {
		char chain[sizeof(t->chain)];

		/* pthread_exit never comes back to free the task */
		memcpy(chain, t->chain, sizeof(chain));
		free(t);
		job.body = body_exit;
		worker_handle(chain, &job);
		return NULL;
	} else if (!strcmp(t->cmd, "fork")) {
		job.body = body_fork;
		if (worker_handle(t->chain, &job) < 0) {
			struct job quick = { .depth = 1, .body = body_quick };

			worker_handle(t->chain, &quick);
			_exit(0);
		}
		emit('R');
	} else if (!strcmp(t->cmd, "exec")) {
		job.body = body_exec;
		worker_handle(t->chain, &job);
	} else if (!strcmp(t->cmd, "burst")) {
		job.body = body_quick;
		for (long i = 0; i < t->n; i++)
			worker_handle(t->chain, &job);
		emit('B');
	} else if (!strcmp(t->cmd, "timedburst")) {
		/*
		 * The probes fire between the call instruction and the return to
		 * it, so each call's duration as they see it is inside this
		 * bracket: a bound far tighter than the test's round trip.
		 */
		long long longest = 0;
		char reply[32];
		int len;

		job.body = body_quick;
		for (long i = 0; i < t->n; i++) {
			struct timespec a, b;
			long long ns;

			clock_gettime(CLOCK_MONOTONIC, &a);
			worker_handle(t->chain, &job);
			clock_gettime(CLOCK_MONOTONIC, &b);
			ns = (b.tv_sec - a.tv_sec) * 1000000000ll + (b.tv_nsec - a.tv_nsec);
			longest = ns > longest ? ns : longest;
		}
		/* one write: other threads' events cannot split it */
		len = snprintf(reply, sizeof(reply), "B%lld\n", longest);
		if (write(STDOUT_FILENO, reply, (size_t)len) != len)
			_exit(3);
	} else if (!strcmp(t->cmd, "stress1")) {
		char name[32];

		job.body = body_quick;
		for (long i = 0; i < t->n; i++) {
			snprintf(name, sizeof(name), "s%ld", (i + t->m) % t->k);
			worker_handle(name, &job);
		}
	}
	free(t);
	return NULL;
}

static void spawn(struct task *t, pthread_t *out)
{
	pthread_t th;
	struct task *copy = malloc(sizeof(*copy));

	if (!copy)
		_exit(5);
	*copy = *t;
	if (pthread_create(&th, NULL, run_task, copy))
		_exit(6);
	if (out)
		*out = th;
	else
		pthread_detach(th);
}

/* Decodes \xNN escapes in place. */
static void unescape(char *s)
{
	char *o = s;

	for (; *s; s++) {
		unsigned v;

		if (s[0] == '\\' && s[1] == 'x' && sscanf(s + 2, "%2x", &v) == 1) {
			*o++ = (char)v;
			s += 3;
		} else {
			*o++ = *s;
		}
	}
	*o = '\0';
}

static void *command_loop(void *arg);

/* The main thread is gone: this one joins it, then reads the commands. */
static void *after_leader(void *arg)
{
	(void)arg;
	pthread_join(main_thread, NULL);
	emit('Z');
	return command_loop(NULL);
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "--after-exec")) {
		emit('A');
		return 0;
	}
	if (readlink("/proc/self/exe", self_path, sizeof(self_path) - 1) < 0)
		return 2;
	args_start = argv[0];
	args_len = (size_t)(argv[argc - 1] + strlen(argv[argc - 1]) + 1 - argv[0]);
	main_thread = pthread_self();
	command_loop(NULL);
	return 0;
}

static void *command_loop(void *arg)
{
	char line[512];

	(void)arg;
	while (fgets(line, sizeof(line), stdin)) {
		struct task t = { 0 };
		char extra[256] = "";
		int n = sscanf(line, "%15s %255s %ld %ld", t.cmd, t.chain, &t.n, &t.m);

		if (n < 1)
			continue;
		unescape(t.chain);
		if (!strcmp(t.cmd, "quit")) {
			exit(0);
		} else if (!strcmp(t.cmd, "setargv")) {
			set_cmdline(t.chain);
			emit('V');
		} else if (!strcmp(t.cmd, "forkchild")) {
			if (sscanf(line, "%*s %*s %255s", extra) != 1)
				exit(7);
			fork_child(t.chain, extra);
		} else if (!strcmp(t.cmd, "childstep")) {
			if (write(child_step_fd, "s", 1) != 1)
				exit(7);
		} else if (!strcmp(t.cmd, "leaderexit")) {
			pthread_t th;

			if (pthread_create(&th, NULL, after_leader, NULL))
				exit(6);
			pthread_exit(NULL);
		} else if (!strcmp(t.cmd, "release")) {
			pthread_mutex_lock(&mu);
			generation++;
			pthread_cond_broadcast(&cv);
			pthread_mutex_unlock(&mu);
		} else if (!strcmp(t.cmd, "doexec")) {
			pthread_mutex_lock(&mu);
			exec_go = 1;
			pthread_cond_broadcast(&cv);
			pthread_mutex_unlock(&mu);
		} else if (!strcmp(t.cmd, "park")) {
			for (long i = 0; i < (t.n ? t.n : 1); i++)
				spawn(&t, NULL);
		} else if (!strcmp(t.cmd, "stress")) {
			/* stress T N K: chain field holds T */
			long threads = atol(t.chain), calls = t.n, chains = t.m;
			pthread_t th[64];

			if (threads < 1 || threads > 64 || chains < 1)
				exit(7);
			for (long i = 0; i < threads; i++) {
				struct task s = { .cmd = "stress1", .n = calls, .m = i, .k = chains };

				spawn(&s, &th[i]);
			}
			for (long i = 0; i < threads; i++)
				pthread_join(th[i], NULL);
			emit('S');
		} else {
			spawn(&t, NULL);
		}
	}
	exit(0);
}
