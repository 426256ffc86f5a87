// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "run/k8s_meta.h"
#include "observe/observer.h"
#include "probe/pin.h"
#include "util/clock.h"
#include "util/errmsg.h"
#include "util/privileges.h"
#include "run/run_targets.h"
#include "util/array_size.h"

/* the keys of a [target] section beyond the target options */
static const char *const run_keys[] = {
	"metric-name", "metric-unit", "metric-description", "attribute-key", "pin-dir",
	"k8s-attributes",
};

static int known_key(const char *key)
{
	for (size_t i = 0; i < ARRAY_SIZE(run_keys); i++)
		if (!strcmp(run_keys[i], key))
			return 1;
	return target_option_known(key);
}

static int repeatable_key(const char *key)
{
	return !strcmp(key, "pid");
}

int run_targets_from_cli(struct run_targets *rt, struct target_options *opt, const char *pin_dir)
{
	memset(rt, 0, sizeof(*rt));
	rt->v = calloc(1, sizeof(*rt->v));
	if (!rt->v)
		return -ENOMEM;
	rt->n = 1;
	rt->v[0].opt = opt;
	rt->v[0].pin_dir = pin_dir;
	return 0;
}

/* A run key of a [target] section: 0, or -EINVAL with `err` set. */
static int set_run_key(struct run_target *t, const struct config_entry *e, const char *src,
		       char *err, size_t errlen)
{
	if (!strcmp(e->key, "k8s-attributes")) {
		if (strcmp(e->value, "true") && strcmp(e->value, "false")) {
			snprintf(err, errlen, "%s=%s: expected true or false", src, e->value);
			return -EINVAL;
		}
		t->k8s = !strcmp(e->value, "true") ? 1 : -1;
		return 0;
	}

	const char **slot = !strcmp(e->key, "metric-name")	  ? &t->metric_name
			    : !strcmp(e->key, "metric-unit")	  ? &t->metric_unit
			    : !strcmp(e->key, "metric-description") ? &t->metric_description
			    : !strcmp(e->key, "attribute-key")	  ? &t->attribute_key
								  : &t->pin_dir;

	if (slot == &t->pin_dir && e->value[0] != '/') {
		snprintf(err, errlen, "%s '%s': expected an absolute path on a bpf filesystem", src,
			 e->value);
		return -EINVAL;
	}
	*slot = e->value;
	return 0;
}

int run_targets_from_file(struct run_targets *rt, const char *path, char *err, size_t errlen)
{
	int rc;

	memset(rt, 0, sizeof(*rt));
	if (errlen)
		err[0] = '\0';
	rc = config_load(path, &rt->file, known_key, repeatable_key, err, errlen);
	if (rc)
		return rc;
	rt->v = calloc(rt->file.n, sizeof(*rt->v));
	if (!rt->v)
		return errmsg_errno(err, errlen, ENOMEM, "out of memory");
	for (size_t i = 0; i < rt->file.n; i++) {
		const struct config_target *ct = &rt->file.targets[i];
		struct run_target *t = &rt->v[rt->n++];

		t->opt = calloc(1, sizeof(*t->opt));
		if (!t->opt)
			return errmsg_errno(err, errlen, ENOMEM, "out of memory");
		t->own_opt = true;
		snprintf(t->name, sizeof(t->name), "%s", ct->name);
		snprintf(t->where, sizeof(t->where), "%s:%d [target %s]: ", path, ct->line, ct->name);
		t->opt->from_file = true;
		t->opt->where = t->where;
		for (size_t j = 0; j < ct->n; j++) {
			const struct config_entry *e = &ct->entries[j];
			char src[600];

			snprintf(src, sizeof(src), "%s:%d: %s", path, e->line, e->key);
			rc = target_option_known(e->key)
				     ? target_option_set(t->opt, e->key, e->value, src, err, errlen)
				     : set_run_key(t, e, src, err, errlen);
			if (rc)
				return rc;
		}
		/* it prints its error itself (see target_options.h): `err` stays empty */
		if (target_options_finish(t->opt))
			return -EINVAL;
	}
	return 0;
}

/* Whether `name` is `of` with ".handled" after it. */
static bool is_handled_of(const char *name, const char *of)
{
	size_t n = strlen(of);

	return !strncmp(name, of, n) && !strcmp(name + n, ".handled");
}

int run_targets_check_metrics(const struct run_targets *rt, const char *dflt, bool handled,
			      char *err, size_t errlen)
{
	for (size_t i = 0; handled && i < rt->n; i++) {
		const char *a = rt->v[i].metric_name ? rt->v[i].metric_name : dflt;

		for (size_t j = 0; j < rt->n; j++) {
			const char *b = rt->v[j].metric_name ? rt->v[j].metric_name : dflt;

			/* a gauge under another target's handled calls: one name, two metrics */
			if (i != j && is_handled_of(b, a))
				return errmsg(err, errlen,
					      "%starget '%s' exports %s, the name of the handled calls of target '%s' (%s): give it another metric-name, or --no-handled",
					      rt->v[j].where, rt->v[j].name, b, rt->v[i].name,
					      rt->v[i].where);
		}
	}
	for (size_t i = 0; i < rt->n; i++) {
		const char *a = rt->v[i].metric_name ? rt->v[i].metric_name : dflt;

		for (size_t j = i + 1; j < rt->n; j++) {
			const char *b = rt->v[j].metric_name ? rt->v[j].metric_name : dflt;

			if (strcmp(a, b))
				continue;
			/* two sources of one series would overwrite each other */
			return errmsg(err, errlen,
				      "%starget '%s' exports %s too (%s): give each target its own metric-name",
				      rt->v[j].where, rt->v[i].name, a, rt->v[i].where);
		}
	}
	return 0;
}

int run_targets_check_suffixed(const struct run_targets *rt, const char *dflt, const char *suffix,
			       const char *flag, char *err, size_t errlen)
{
	for (size_t i = 0; i < rt->n; i++) {
		const char *a = rt->v[i].metric_name ? rt->v[i].metric_name : dflt;
		size_t n = strlen(a);

		for (size_t j = 0; j < rt->n; j++) {
			const char *b = rt->v[j].metric_name ? rt->v[j].metric_name : dflt;

			/* a gauge under another target's NAME.SUFFIX: one name, two metrics */
			if (i != j && !strncmp(b, a, n) && b[n] == '.' && !strcmp(b + n + 1, suffix))
				return errmsg(err, errlen,
					      "%starget '%s' exports %s, the name of the %s metric of target '%s' (%s): give it another metric-name, or %s",
					      rt->v[j].where, rt->v[j].name, b, suffix, rt->v[i].name,
					      rt->v[i].where, flag);
		}
	}
	return 0;
}

/* Undoes a failed start: nothing half-attached stays behind. */
static void stop_all(struct run_targets *rt)
{
	for (size_t i = 0; i < rt->n; i++) {
		struct run_target *t = &rt->v[i];

		observer_stop(t->obs);
		t->obs = NULL;
		if (t->created_pins)
			pin_remove(t->opt->cfg.target.pin_dir);
		t->created_pins = false;
	}
}

bool run_targets_want_k8s(const struct run_targets *rt, bool k8s)
{
	for (size_t i = 0; i < rt->n; i++)
		if (rt->v[i].k8s ? rt->v[i].k8s > 0 : k8s)
			return true;
	return false;
}

static uint64_t cgroup_path_key(void *ctx, const char *path)
{
	return k8s_meta_path_key(ctx, path);
}

int run_targets_start(struct run_targets *rt, bool no_pin, bool k8s, struct k8s_meta *meta,
		      char *err, size_t errlen)
{
	char why[1024];

	for (size_t i = 0; i < rt->n; i++) {
		struct run_target *t = &rt->v[i];
		struct observer_config *cfg = &t->opt->cfg;
		const struct target_info *info;

		/* the file's k8s-attributes, else the flag */
		cfg->target.by_cgroup = (t->k8s ? t->k8s > 0 : k8s) && meta;
		/* CPython processes are read from userspace: keyed by cgroup path */
		cfg->cgroup_key = cgroup_path_key;
		cfg->cgroup_ctx = meta;

		/* pinned by default: a collector restart must not lose entries or exits */
		if (!no_pin && observer_config_pins(cfg)) {
			if (!t->pin_dir) {
				observer_default_pin_dir(cfg, t->pin_buf, sizeof(t->pin_buf));
				t->pin_dir = t->pin_buf;
			}
			cfg->target.pin_dir = t->pin_dir;
		}
		t->obs = observer_start(cfg, why, sizeof(why));
		if (!t->obs) {
			errmsg(err, errlen, "%s%s", t->where, why);
			stop_all(rt);
			return -EINVAL; /* observer_start says why, not which errno */
		}
		info = observer_info(t->obs);
		t->created_pins = info->pin_dir[0] && !info->reused;
		/* pinned counters run on across collectors: their sums start with the pin */
		t->stats_since_ns = info->pinned_since_ns ? info->pinned_since_ns : clock_realtime_ns();
	}
	return 0;
}

uint64_t run_targets_caps_to_keep(const struct run_targets *rt)
{
	uint64_t keep = 0;

	for (size_t i = 0; i < rt->n; i++)
		keep |= observer_caps_needed(rt->v[i].obs);
	return keep;
}

int run_targets_share_pins(const struct run_targets *rt, const char *user, char *err,
			   size_t errlen)
{
	for (size_t i = 0; i < rt->n; i++) {
		int fd = observer_pin_dirfd(rt->v[i].obs);
		int rc = fd >= 0 ? privileges_share_dir(fd, user, err, errlen) : 0;

		if (rc)
			return rc;
	}
	return 0;
}

void run_targets_free(struct run_targets *rt)
{
	for (size_t i = 0; i < rt->n; i++) {
		struct run_target *t = &rt->v[i];

		observer_stop(t->obs);
		series_free(&t->series);
		snapshot_free(&t->snap);
		if (t->own_opt)
			free(t->opt);
	}
	free(rt->v);
	config_free(&rt->file);
	memset(rt, 0, sizeof(*rt));
}
