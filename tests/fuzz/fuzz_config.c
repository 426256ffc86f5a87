// SPDX-License-Identifier: MIT
/* libFuzzer: the --config targets file, with the collector's real key rules. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "run/target_options.h"
#include "run/config_file.h"

static int known(const char *key)
{
	return target_option_known(key) || !strcmp(key, "metric-name") || !strcmp(key, "pin-dir");
}

static int repeatable(const char *key)
{
	return !strcmp(key, "pid");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config_file c;
	char err[512] = "";

	if (!config_parse("fuzz.conf", (const char *)data, size, &c, known, repeatable, err,
			  sizeof(err))) {
		if (!c.n || c.n > CONFIG_MAX_TARGETS)
			abort(); /* a parsed file has targets, within the limit */
		for (size_t i = 0; i < c.n; i++) {
			if (!c.targets[i].n || !c.targets[i].name[0])
				abort();
			for (size_t j = 0; j < c.targets[i].n; j++)
				if (!known(c.targets[i].entries[j].key) ||
				    !c.targets[i].entries[j].value[0])
					abort();
		}
		config_free(&c);
	} else if (strncmp(err, "fuzz.conf:", 10)) {
		abort(); /* every error names the file and line */
	}
	return 0;
}
