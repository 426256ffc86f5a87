// SPDX-License-Identifier: MIT
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "util/clock.h"
#include "util/grow.h"
#include "util/log.h"
#include "probe/proc_match.h"
#include "util/proc_mem.h"
#include "python/py_call_set.h"
#include "python/py_defaults.h"
#include "python/py_observer.h"
#include "python/py_walk.h"
#include "util/utf8.h"

#define STR_(x) #x
#define TO_STR(x) STR_(x)

/* Chain ids as the BPF side numbers them: 0 overflow, names from 2. */
#define FIRST_ID 2
#define UNREADABLE_NAME "(unreadable)"
/*
 * Remote reads one process may cost per reading: a conserver worker (tens
 * of threads, frames tens deep) needs hundreds to a few thousand; a forged
 * frame list could otherwise ask for 64 x 4096 x 2048.
 */
#define READS_PER_PROCESS 100000
/* Distinct chains one process may show in one reading (a worker shows its few) */
#define CHAINS_PER_PROCESS 64

struct tracked {
	struct py_process proc;
	struct py_code_cache cache;
	int status;   /* py_process_open's result */
	uint64_t cgroup; /* its cgroup's key, when split by cgroup */
	bool seen;    /* found again in this reading's scan */
	bool said_budget, said_chains; /* warned once */
	unsigned readings;
	struct py_first_seen calls; /* when each of its calls in flight was first seen */
};

/* A call the walk found, kept until the process's walk is whole. */
struct found_call {
	char chain[INFLIGHT_CHAIN_LEN];
	struct py_call_key key;
};

struct py_observer {
	struct py_target target;
	pid_t *pids;
	size_t npids;
	char *pattern;
	bool pattern_glob;
	bool has_match;          /* --match-exe / --match-cmdline, instead of a pattern */
	struct proc_match match;
	unsigned max_chains;
	struct tracked *procs;
	size_t nprocs, cap;
	char **names;          /* by id - FIRST_ID */
	uint64_t *cgroups;     /* by id - FIRST_ID: the series' cgroup key, or 0 */
	size_t nnames;
	uint64_t (*cgroup_key)(void *ctx, const char *path);
	void *cgroup_ctx;
	uint64_t *counts;      /* by id, this reading */
	bool overflow_seen;
	uint64_t overflow_count;
	uint64_t dropped;
	/*
	 * The process being read: its calls' chains, counted once its walk is
	 * whole, and what tells each call from others at the next reading.
	 */
	struct found_call *pending;
	size_t npending, cappending;
	uint64_t over_budget[2]; /* readings given up: reads spent, a loop */
	uint64_t chains_capped;  /* calls put under overflow by CHAINS_PER_PROCESS */
	struct py_observer_cost cost;
	/* by id, this reading: the age of the chain's oldest call (ns), NO_AGE if none */
	uint64_t *oldest;
	size_t noldest;
};

#define NO_AGE UINT64_MAX

static struct tracked *find_tracked(struct py_observer *o, pid_t pid)
{
	for (size_t i = 0; i < o->nprocs; i++)
		if (o->procs[i].proc.pid == pid)
			return &o->procs[i];
	return NULL;
}

/*
 * The key of `pid`'s cgroup v2 path ("0::PATH" in /proc/PID/cgroup), read
 * once: containers do not move their processes. 0 if there is none.
 */
static uint64_t cgroup_of(struct py_observer *o, pid_t pid)
{
	char path[64], line[4096];
	uint64_t key = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "0::", 3))
			continue;
		line[strcspn(line, "\n")] = '\0';
		key = o->cgroup_key(o->cgroup_ctx, line + 3);
		break;
	}
	fclose(f);
	return key;
}

/* Starts tracking `pid` (or re-opens it if the pid was reused). */
static struct tracked *track(struct py_observer *o, pid_t pid, bool explicit_pid)
{
	struct tracked *t = find_tracked(o, pid);
	uint64_t start = proc_start_time(pid);
	char why[512];

	if (t && t->proc.start_time == start) {
		t->seen = true;
		return t;
	}
	/* a reused pid: its frames are another process's */
	if (t)
		py_first_seen_free(&t->calls);
	if (!t) {
		struct tracked *v = grow_array(o->procs, &o->cap, o->nprocs + 1, sizeof(*v));

		if (!v)
			return NULL;
		o->procs = v;
		t = &o->procs[o->nprocs++];
	}
	memset(t, 0, sizeof(*t));
	py_code_cache_reset(&t->cache);
	t->status = py_process_open(pid, &t->proc, why, sizeof(why));
	t->proc.pid = pid;
	t->seen = true;
	if (o->cgroup_key && t->status == 0)
		t->cgroup = cgroup_of(o, pid);
	if (t->status == 0)
		log_info("python: pid %d: %s, CPython %s", (int)pid, t->proc.image, t->proc.version);
	else if (t->status > 0)
		log_warn("python: pid %d: %s: not read", (int)pid, why);
	else if (explicit_pid)
		log_warn("python: pid %d: %s", (int)pid, why);
	else
		log_debug("python: pid %d: %s", (int)pid, why);
	return t;
}

/*
 * 1 if `pid` matches the pattern, 0 if not, -ENOENT if it has no executable:
 * a kernel thread, or a process that has exited (a zombie its parent has
 * not reaped yet), which is no worker any more.
 */
static int matches(struct py_observer *o, pid_t pid)
{
	char path[64], exe[PATH_MAX], cmd[4096];
	ssize_t n;
	const char *base;

	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	n = readlink(path, exe, sizeof(exe) - 1);
	if (n <= 0)
		return -ENOENT;
	exe[n] = '\0';
	proc_cmdline(pid, cmd, sizeof(cmd));
	if (o->has_match)
		return proc_match_text(&o->match, exe, cmd);
	base = strrchr(exe, '/');
	base = base ? base + 1 : exe;
	if (o->pattern_glob)
		return !fnmatch(o->pattern, exe, 0) || !fnmatch(o->pattern, base, 0) ||
		       !fnmatch(o->pattern, cmd, 0);
	return strstr(exe, o->pattern) || strstr(cmd, o->pattern);
}

/*
 * Every process matching the pattern, and every process below one: a
 * multiprocessing "spawn" worker's command line names only Python.
 */
static void scan(struct py_observer *o)
{
	pid_t self = getpid(), *matched = NULL;
	size_t nmatched = 0, cap = 0;
	struct {
		pid_t pid, ppid;
	} *all = NULL;
	void *v;
	int m;
	size_t nall = 0, allcap = 0;
	struct dirent *d;
	DIR *dir = opendir("/proc");

	if (!dir)
		return;
	while ((d = readdir(dir))) {
		pid_t pid;

		if (!isdigit((unsigned char)d->d_name[0]))
			continue;
		pid = (pid_t)atoi(d->d_name);
		if (pid == self)
			continue;
		v = grow_array(all, &allcap, nall + 1, sizeof(*all));
		if (!v)
			break;
		all = v;
		m = matches(o, pid);
		if (m < 0)
			continue; /* not a process that can be a worker */
		all[nall].pid = pid;
		all[nall].ppid = proc_parent(pid);
		nall++;
		if (m) {
			v = grow_array(matched, &cap, nmatched + 1, sizeof(*matched));
			if (!v)
				break;
			matched = v;
			matched[nmatched++] = pid;
		}
	}
	closedir(dir);
	/* add descendants until nothing changes (bounded: a few levels) */
	for (int round = 0; round < 4; round++) {
		size_t before = nmatched;

		for (size_t i = 0; i < nall; i++) {
			bool in = false, parent_in = false;

			for (size_t j = 0; j < nmatched; j++) {
				in |= matched[j] == all[i].pid;
				parent_in |= matched[j] == all[i].ppid;
			}
			if (in || !parent_in)
				continue;
			v = grow_array(matched, &cap, nmatched + 1, sizeof(*matched));
			if (!v)
				goto done;
			matched = v;
			matched[nmatched++] = all[i].pid;
		}
		if (nmatched == before)
			break;
	}
done:
	for (size_t i = 0; i < nmatched; i++)
		track(o, matched[i], false);
	free(matched);
	free(all);
}

/* The id of a chain name (and cgroup), assigned on first sight; 0 past the cap. */
static uint32_t chain_id(struct py_observer *o, const char *raw, uint64_t cgroup)
{
	char name[UTF8_SANITIZED_MAX(INFLIGHT_CHAIN_LEN)];
	char **grown_names;
	uint64_t *grown_counts, *grown_cgroups;

	size_t free_slot = SIZE_MAX;

	utf8_sanitize(raw, strlen(raw), name, sizeof(name));
	for (size_t i = 0; i < o->nnames; i++) {
		if (!o->names[i]) {
			if (free_slot == SIZE_MAX)
				free_slot = i;
		} else if (o->cgroups[i] == cgroup && !strcmp(o->names[i], name)) {
			return (uint32_t)(i + FIRST_ID);
		}
	}
	/* a retired series' slot first: pods come and go, the cap stays */
	if (free_slot != SIZE_MAX) {
		o->names[free_slot] = strdup(name);
		if (!o->names[free_slot])
			return 0;
		o->cgroups[free_slot] = cgroup;
		o->counts[free_slot + FIRST_ID] = 0;
		return (uint32_t)(free_slot + FIRST_ID);
	}
	if (o->nnames >= o->max_chains) {
		o->overflow_seen = true;
		o->dropped++;
		return 0;
	}
	grown_names = realloc(o->names, (o->nnames + 1) * sizeof(*grown_names));
	if (!grown_names)
		return 0;
	o->names = grown_names;
	grown_cgroups = realloc(o->cgroups, (o->nnames + 1) * sizeof(*grown_cgroups));
	if (!grown_cgroups)
		return 0;
	o->cgroups = grown_cgroups;
	o->cgroups[o->nnames] = cgroup;
	grown_counts = realloc(o->counts, (o->nnames + 1 + FIRST_ID) * sizeof(*grown_counts));
	if (!grown_counts)
		return 0;
	o->counts = grown_counts;
	o->counts[o->nnames + FIRST_ID] = 0;
	o->names[o->nnames] = strdup(name);
	if (!o->names[o->nnames])
		return 0;
	return (uint32_t)(o->nnames++ + FIRST_ID);
}

/* A call found: kept until the process's walk ends (a walk given up counts nothing). */
static void on_found(void *ctx, const char *chain, const struct py_call_key *call)
{
	struct py_observer *o = ctx;

	void *v = grow_array(o->pending, &o->cappending, o->npending + 1, sizeof(*o->pending));

	if (!v)
		return;
	o->pending = v;
	o->pending[o->npending].key = *call;
	snprintf(o->pending[o->npending].chain, sizeof(o->pending[0].chain), "%s",
		 chain ? chain : UNREADABLE_NAME);
	o->npending++;
}

/*
 * Call `i` of the walk of `t`, counted under chain `id`: its age (since its
 * first sighting) at `now`, the chain's oldest so far in this reading or not.
 * Out of memory: the chain's age is left unknown.
 */
static void note_age(struct py_observer *o, struct tracked *t, uint64_t now, size_t i, uint32_t id)
{
	uint64_t age = now - py_first_seen_mark(&t->calls, &o->pending[i].key, now);

	if (id >= o->noldest) {
		size_t n = (size_t)id + 64;
		uint64_t *v = realloc(o->oldest, n * sizeof(*v));

		if (!v)
			return;
		for (size_t k = o->noldest; k < n; k++)
			v[k] = NO_AGE;
		o->oldest = v;
		o->noldest = n;
	}
	if (o->oldest[id] == NO_AGE || age > o->oldest[id])
		o->oldest[id] = age;
}

/*
 * Counts a whole walk's calls. Past CHAINS_PER_PROCESS distinct chains,
 * the process's calls go under the overflow series: one forged process
 * cannot fill the chain table shared with the real workers unnoticed.
 */
static void commit_pending(struct py_observer *o, struct tracked *t)
{
	const char *distinct[CHAINS_PER_PROCESS];
	size_t ndistinct = 0, cap = o->max_chains < CHAINS_PER_PROCESS ? o->max_chains
									  : CHAINS_PER_PROCESS;
	uint64_t capped = 0;
	/* after the walk: no call it found began later (its age is a lower bound) */
	uint64_t now = clock_mono_ns();

	py_first_seen_begin(&t->calls);
	for (size_t i = 0; i < o->npending; i++) {
		const char *name = o->pending[i].chain;
		bool known = false;
		uint32_t id;

		for (size_t k = 0; k < ndistinct && !known; k++)
			known = !strcmp(distinct[k], name);
		if (!known && ndistinct == cap) {
			o->overflow_seen = true;
			o->overflow_count++;
			capped++;
			note_age(o, t, now, i, INFLIGHT_OVERFLOW_ID);
			continue;
		}
		if (!known)
			distinct[ndistinct++] = name;
		id = chain_id(o, name, t->cgroup);
		if (id)
			o->counts[id]++;
		else
			o->overflow_count++;
		note_age(o, t, now, i, id);
	}
	/* the calls not found in this walk have ended: forgotten */
	py_first_seen_end(&t->calls);
	o->chains_capped += capped;
	if (capped && !t->said_chains)
		log_warn("python: pid %d shows more than %zu distinct chains in one reading: %llu calls counted under the overflow series (inflight.chains.capped)",
			 (int)t->proc.pid, cap, (unsigned long long)capped);
	t->said_chains = t->said_chains || capped;
}

struct py_observer *py_observer_start(const struct py_observer_config *cfg, char *err,
				      size_t errlen)
{
	struct py_observer *o = calloc(1, sizeof(*o));

	if (!o) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	snprintf(o->target.func, sizeof(o->target.func), "%s", cfg->func ? cfg->func : PY_DEFAULT_FUNC);
	snprintf(o->target.file_suffix, sizeof(o->target.file_suffix), "%s", cfg->file ? cfg->file : "");
	if (py_chain_spec_parse(cfg->chain ? cfg->chain : PY_DEFAULT_CHAIN, &o->target, err,
				errlen))
		goto fail;
	o->max_chains = cfg->max_chains ? cfg->max_chains : 1024;
	o->cgroup_key = cfg->cgroup_key;
	o->cgroup_ctx = cfg->cgroup_ctx;
	if (cfg->exe_pattern) {
		o->pattern = strdup(cfg->exe_pattern);
		if (!o->pattern)
			goto oom;
		o->pattern_glob = strpbrk(o->pattern, "*?[") != NULL;
	}
	if (cfg->match_exe || cfg->match_cmdline) {
		if (proc_match_init(&o->match, cfg->match_exe, cfg->match_cmdline, err, errlen))
			goto fail;
		o->has_match = true;
		/* the description and the scan go by the pattern's presence */
		o->pattern = strdup(cfg->match_exe ? cfg->match_exe : cfg->match_cmdline);
		if (!o->pattern)
			goto oom;
	}
	if (cfg->npids) {
		o->pids = calloc(cfg->npids, sizeof(*o->pids));
		if (!o->pids)
			goto oom;
		memcpy(o->pids, cfg->pids, cfg->npids * sizeof(*o->pids));
		o->npids = cfg->npids;
	}
	if (!o->npids && !o->pattern) {
		snprintf(err, errlen, "--python needs --pid PID or --python-exe PATTERN");
		goto fail;
	}
	/* an explicit pid must be a CPython we read, now */
	for (size_t i = 0; i < o->npids; i++) {
		struct tracked *t = track(o, o->pids[i], true);
		char why[512];

		if (!t)
			goto oom;
		if (t->status != 0) {
			struct py_process tmp;

			py_process_open(o->pids[i], &tmp, why, sizeof(why));
			snprintf(err, errlen, "--pid %d: %s", (int)o->pids[i], why);
			goto fail;
		}
	}
	if (o->pattern) {
		scan(o);
		if (!o->nprocs)
			log_info("python: no process matches '%s' yet: looking again at every reading",
				 o->pattern);
	}
	return o;
oom:
	snprintf(err, errlen, "out of memory");
fail:
	py_observer_stop(o);
	return NULL;
}

/* The age of chain `c`'s oldest call in this reading, if it has one. */
static void oldest_of(const struct py_observer *o, struct chain_stat *c)
{
	uint64_t age = c->id < o->noldest ? o->oldest[c->id] : NO_AGE;

	c->oldest_known = c->inflight > 0 && age != NO_AGE;
	c->oldest_age_ns = c->oldest_known ? age : 0;
}

int py_observer_read(struct py_observer *o, struct snapshot *out)
{
	uint64_t start = clock_mono_ns(), walk_start;
	struct chain_stat *chains;
	size_t n = 0, keep = 0;

	out->ts_ns = clock_realtime_ns();
	out->gauge_only = true;
	memset(out->stats, 0, sizeof(out->stats));

	/* who is there now: explicit pids, the pattern's processes */
	for (size_t i = 0; i < o->nprocs; i++)
		o->procs[i].seen = false;
	for (size_t i = 0; i < o->npids; i++)
		if (proc_start_time(o->pids[i]))
			track(o, o->pids[i], true);
	if (o->pattern)
		scan(o);
	for (size_t i = 0; i < o->nprocs; i++) {
		if (o->procs[i].seen) {
			o->procs[keep++] = o->procs[i];
			continue;
		}
		py_first_seen_free(&o->procs[i].calls);
		if (o->procs[i].status == 0)
			log_info("python: pid %d exited", (int)o->procs[i].proc.pid);
	}
	o->nprocs = keep;

	for (size_t i = 0; i < o->nnames + FIRST_ID && o->counts; i++)
		o->counts[i] = 0;
	o->overflow_count = 0;
	for (size_t i = 0; i < o->noldest; i++)
		o->oldest[i] = NO_AGE;
	memset(&o->cost, 0, sizeof(o->cost));
	walk_start = clock_mono_ns();
	for (size_t i = 0; i < o->nprocs; i++) {
		struct tracked *t = &o->procs[i];
		struct py_walk_stats st;
		enum proc_budget_state budget;
		uint64_t reads = 0;
		int rc;

		if (t->status != 0)
			continue;
		/* code objects can be freed and their addresses reused: forget now and then */
		if (++t->readings % 64 == 0)
			py_code_cache_reset(&t->cache);
		o->npending = 0;
		proc_budget_start(READS_PER_PROCESS);
		rc = py_walk(&t->proc, &o->target, &t->cache, on_found, o, &st, &reads);
		budget = proc_budget_end();
		o->cost.reads += reads;
		if (budget != PROC_BUDGET_OK) {
			/* what was found is not trusted: the reading leaves this process out */
			o->over_budget[budget == PROC_BUDGET_CYCLE]++;
			if (!t->said_budget)
				log_warn("python: pid %d: %s: its calls are left out of this reading (inflight.processes.over_budget)",
					 (int)t->proc.pid,
					 budget == PROC_BUDGET_CYCLE ? "a frame or thread list loops"
								     : "more than " TO_STR(READS_PER_PROCESS) " remote reads");
			t->said_budget = true;
			continue;
		}
		if (rc == 0) {
			o->cost.processes++;
			o->cost.frames += st.frames;
		}
		commit_pending(o, t);
	}

	o->cost.walk_ns = clock_mono_ns() - walk_start;

	/* every chain once seen, at its count now (0 when idle) */
	chains = realloc(out->chains, (o->nnames + 1) * sizeof(*chains));
	if (!chains)
		return -ENOMEM;
	out->chains = chains;
	for (size_t i = 0; i < o->nnames; i++) {
		uint64_t c = o->counts[i + FIRST_ID];

		if (!o->names[i])
			continue; /* retired */
		chains[n++] = (struct chain_stat){
			.id = (uint32_t)(i + FIRST_ID),
			.name = o->names[i],
			.cgroup = o->cgroups[i],
			.entered = c,
			.inflight = (int64_t)c,
		};
		oldest_of(o, &chains[n - 1]);
	}
	if (o->overflow_seen) {
		chains[n++] = (struct chain_stat){ .id = INFLIGHT_OVERFLOW_ID, .name = "(overflow)",
						   .overflow = true, .entered = o->overflow_count,
						   .inflight = (int64_t)o->overflow_count };
		oldest_of(o, &chains[n - 1]);
	}
	out->n = n;
	snapshot_sort(out);
	out->stats[INFLIGHT_STAT_OVERFLOW] = o->dropped;
	out->py_stats[PY_STAT_OVER_BUDGET_READS] = o->over_budget[0];
	out->py_stats[PY_STAT_OVER_BUDGET_CYCLE] = o->over_budget[1];
	out->py_stats[PY_STAT_CHAINS_CAPPED] = o->chains_capped;
	o->cost.ns = clock_mono_ns() - start;
	log_debug("python: read %zu process%s: %llu reads, %llu frames, walk %llu us, total %llu us",
		  o->cost.processes, o->cost.processes == 1 ? "" : "es",
		  (unsigned long long)o->cost.reads, (unsigned long long)o->cost.frames,
		  (unsigned long long)(o->cost.walk_ns / 1000),
		  (unsigned long long)(o->cost.ns / 1000));
	return 0;
}

void py_observer_cost(const struct py_observer *o, struct py_observer_cost *out)
{
	*out = o->cost;
}

size_t py_observer_retire(struct py_observer *o, uint32_t *ids, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < o->nnames && n < max; i++) {
		bool alive = false;

		/* idle at the last reading, in a cgroup none of the processes is in */
		if (!o->names[i] || !o->cgroups[i] || o->counts[i + FIRST_ID])
			continue;
		for (size_t p = 0; p < o->nprocs && !alive; p++)
			alive = o->procs[p].status == 0 && o->procs[p].cgroup == o->cgroups[i];
		if (alive)
			continue;
		log_debug("python: retiring the series of chain %s (no process left in its cgroup)",
			  o->names[i]);
		free(o->names[i]);
		o->names[i] = NULL;
		ids[n++] = (uint32_t)(i + FIRST_ID);
	}
	return n;
}

void py_observer_stop(struct py_observer *o)
{
	if (!o)
		return;
	for (size_t i = 0; i < o->nnames; i++)
		free(o->names[i]);
	for (size_t i = 0; i < o->nprocs; i++)
		py_first_seen_free(&o->procs[i].calls);
	free(o->oldest);
	free(o->names);
	free(o->cgroups);
	free(o->counts);
	free(o->procs);
	free(o->pending);
	free(o->pids);
	free(o->pattern);
	proc_match_free(&o->match);
	free(o);
}

int py_observer_calls(struct py_observer *o, py_observer_call_fn fn, void *ctx)
{
	struct py_call_set set = { 0 };
	int rc = 0;

	for (size_t i = 0; i < o->nprocs && !rc; i++) {
		struct tracked *t = &o->procs[i];
		struct py_walk_stats st;
		uint64_t reads = 0;
		size_t n;

		if (t->status != 0)
			continue;
		py_call_set_clear(&set);
		proc_budget_start(READS_PER_PROCESS);
		py_walk_calls(&t->proc, &o->target, &t->cache, py_call_set_add, &set, &st, &reads);
		/* as in a reading: a walk given up counts none of what it found */
		if (proc_budget_end() != PROC_BUDGET_OK)
			continue;
		if (set.oom) {
			rc = -ENOMEM;
			break;
		}
		n = py_call_set_finish(&set);
		/* what the caller reads of the process (naming frames) is bounded too */
		proc_budget_start(READS_PER_PROCESS);
		for (size_t k = 0; k < n; k++)
			fn(ctx, &t->proc, py_call_set_get(&set, k));
		proc_budget_end();
	}
	py_call_set_free(&set);
	return rc;
}
