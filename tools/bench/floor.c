// SPDX-License-Identifier: MIT
/*
 * The benchmark's floor: the same probes inflight attaches (an entry uprobe,
 * and a uretprobe or a uprobe on each exit), running empty BPF programs.
 *
 *   floor BINARY FUNC uretprobe|insn      (prints "attached", runs until SIGTERM)
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "probe/elf_file.h"
#include "probe/exit_sites.h"
#include "floor.skel.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

int main(int argc, char **argv)
{
	struct bpf_link *links[64];
	struct floor_bpf *skel = NULL;
	struct exit_site *sites = NULL;
	struct elf_file *ef = NULL;
	struct elf_func f;
	struct code_part part;
	uint8_t *code = NULL;
	char err[256];
	int nlinks = 0, nsites = 0, rc = 1;
	bool insn;

	if (argc != 4 || (strcmp(argv[3], "uretprobe") && strcmp(argv[3], "insn"))) {
		fprintf(stderr, "usage: %s BINARY FUNC uretprobe|insn\n", argv[0]);
		return 2;
	}
	insn = !strcmp(argv[3], "insn");
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	ef = elf_file_open(argv[1], err, sizeof(err));
	if (!ef || elf_file_find_func(ef, argv[2], &f)) {
		fprintf(stderr, "floor: %s: no function %s\n", argv[1], argv[2]);
		goto cleanup;
	}
	skel = floor_bpf__open_and_load();
	if (!skel)
		goto cleanup;
	if (insn) {
		code = malloc(f.size);
		part = (struct code_part){ .addr = f.addr, .offset = f.offset, .size = f.size };
		if (!code || elf_file_read(ef, f.offset, code, f.size))
			goto cleanup;
		part.bytes = code;
		nsites = exit_sites_find(&part, 1, &sites, err, sizeof(err));
		if (nsites < 0) {
			fprintf(stderr, "floor: %s\n", err);
			goto cleanup;
		}
		for (int i = 0; i < nsites && nlinks < 63; i++) {
			links[nlinks] = bpf_program__attach_uprobe(skel->progs.floor_entry, false, -1,
								   argv[1], sites[i].offset);
			if (!links[nlinks++])
				goto cleanup;
		}
	} else {
		links[nlinks] = bpf_program__attach_uprobe(skel->progs.floor_return, true, -1, argv[1],
							   f.offset);
		if (!links[nlinks++])
			goto cleanup;
	}
	links[nlinks] = bpf_program__attach_uprobe(skel->progs.floor_entry, false, -1, argv[1], f.offset);
	if (!links[nlinks++])
		goto cleanup;
	fprintf(stderr, "floor: attached %d probes\n", nlinks);
	while (!stop)
		pause();
	rc = 0;
cleanup:
	while (nlinks > 0)
		bpf_link__destroy(links[--nlinks]);
	floor_bpf__destroy(skel);
	free(sites);
	free(code);
	elf_file_close(ef);
	return rc;
}
