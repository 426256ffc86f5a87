// SPDX-License-Identifier: MIT
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "probe/follow.h"
#include "probe/named_target.h"
#include "probe/pin.h"
#include "probe/pin_state.h"
#include "probe/preflight.h"
#include "probe/resolve.h"
#include "util/errmsg.h"
#include "util/log.h"

struct named_target {
	struct target_info *info;
	struct probe *probe;
	struct probe_links links;
	struct follow follow;
};

/* The pinned state of the same target, picked up: its probes never stopped counting. */
static int adopt_pinned(struct named_target *t, const char *identity, char *err, size_t errlen)
{
	const char *dir = t->info->pin_dir;
	int rc = probe_adopt(&t->probe, dir, identity, &t->links, &t->info->pinned_since_ns, err,
			     errlen);

	if (rc == 0) {
		t->info->reused = true;
		t->info->probes = t->links.n;
	}
	return rc;
}

struct named_target *named_target_start(const struct target_spec *spec, struct target_info *info,
					char *err, size_t errlen)
{
	struct named_target *t = calloc(1, sizeof(*t));
	struct resolved r = { 0 };
	struct target_spec s = *spec;
	bool usdt = spec->usdt != NULL;
	char why[256], identity[65] = "";
	uint32_t slots;
	uint64_t created;
	int rc;

	if (!t) {
		errmsg(err, errlen, "out of memory");
		return NULL;
	}
	t->info = info;
	if (!!s.func == usdt) {
		errmsg(err, errlen, "give exactly one of --func SYMBOL or --usdt PROVIDER:ENTRY,PROVIDER:RETURN");
		goto fail;
	}
	if (target_spec_check_chain(&s, err, errlen))
		goto fail;
	if (s.fetch && !usdt && s.fetch->base == INFLIGHT_BASE_USDT) {
		errmsg(err, errlen, "--chain: a USDT argument was parsed for a function target");
		goto fail;
	}
	if (preflight_check(why, sizeof(why))) {
		errmsg(err, errlen, "%s", why);
		goto fail;
	}
	if (usdt ? resolve_usdt(&s, &r, info, err, errlen) : resolve_target(&s, &r, info, err, errlen))
		goto fail;

	/* only someone else's state, as it is: none here means none made */
	if (s.pin_dir && s.adopt_only && !pin_exists(s.pin_dir))
		s.pin_dir = NULL;
	if (s.pin_dir) {
		if (usdt) {
			log_warn("USDT probes cannot be pinned: a restart of the collector restarts the counts");
			s.pin_dir = NULL;
		} else {
			pin_identity(&s, &r, info->mode, identity);
			if (pin_prepare_dir(s.pin_dir, err, errlen))
				goto fail;
			snprintf(info->pin_dir, sizeof(info->pin_dir), "%s", s.pin_dir);
			if (pin_exists(s.pin_dir)) {
				rc = adopt_pinned(t, identity, err, errlen);
				if (rc == 0) {
					/* a replaced file is said, though not followed */
					follow_init(&t->follow, &s, &r, info->mode);
					resolved_free(&r);
					return t;
				}
				if (s.adopt_only) {
					/* it is another's state: left alone, probes of our own instead */
					log_warn("%s: %s: not picked up; attaching probes of this process's own",
						 s.pin_dir, rc < 0 ? err : "pinned state of another target or layout");
					info->pin_dir[0] = '\0';
					s.pin_dir = NULL;
				} else if (rc < 0 || pin_replace(s.pin_dir, err, errlen)) {
					goto fail;
				}
			}
		}
	}
	slots = follow_exit_slots(&t->follow, &s, &r, info->mode, usdt);
	t->probe = probe_open(&s, &r, info->mode, usdt, slots, err, errlen);
	if (!t->probe || probe_load(t->probe, s.chain_name, err, errlen))
		goto fail;
	if (probe_attach_tracepoints(t->probe, &t->links, false, err, errlen) ||
	    (usdt ? probe_attach_usdt(t->probe, &t->links, s.pid, &r, info, err, errlen)
		  : probe_attach_file(t->probe, &t->links, s.func, s.pid, &r, info->mode, 0, info,
				      err, errlen)))
		goto fail;

	snprintf(info->mode_label, sizeof(info->mode_label), "return=%s",
		 usdt ? "usdt" : return_mode_name(info->mode));
	if (s.pin_dir) {
		if (probe_pin(t->probe, s.pin_dir, false, &t->links, identity, &created, err, errlen))
			goto fail;
		info->pinned_since_ns = created;
	}
	if (probe_start_reading(t->probe, err, errlen))
		goto fail;
	if (!usdt)
		follow_init(&t->follow, &s, &r, info->mode);
	resolved_free(&r);
	return t;
fail:
	resolved_free(&r);
	named_target_stop(t);
	return NULL;
}

void named_target_stop(struct named_target *t)
{
	if (!t)
		return;
	probe_links_destroy(&t->links, t->probe && probe_pinned(t->probe));
	probe_free(t->probe);
	free(t);
}

struct probe *named_target_probe(const struct named_target *t)
{
	return t->probe;
}

uint64_t named_target_attach_failures(const struct named_target *t)
{
	return t->follow.failures;
}

void named_target_poll(struct named_target *t)
{
	follow_poll(&t->follow, t->probe, &t->links, t->info);
}

uint64_t named_target_poll_in_ms(const struct named_target *t)
{
	return follow_poll_in_ms(&t->follow);
}
