/* SPDX-License-Identifier: MIT */
/*
 * Where the harnesses that play a "remote" process (read back through
 * process_vm_readv on themselves) map its memory, and the values their
 * seeds (gen_seeds.c) point at: above ASan's shadow (which ends at
 * 0x10007fff8000), below its heap (0x600000000000).
 */
#ifndef INFLIGHT_FUZZ_ADDRS_H
#define INFLIGHT_FUZZ_ADDRS_H

/* fuzz_stack_walk: the thread's stack (anonymous, rw) and code (a memfd, r-x) */
#define FUZZ_STACK 0x300000000000ull
#define FUZZ_STACK_SIZE 0x4000
#define FUZZ_CODE 0x300000100000ull
#define FUZZ_CODE_SIZE 0x4000
#define FUZZ_STACK_HDR 28

/* fuzz_py_frame_info: code object, strs and location table (anonymous, rw) */
#define FUZZ_PY 0x300000200000ull
#define FUZZ_PY_SIZE 0x10000
#define FUZZ_CODE_TYPE 0x300000300000ull
#define FUZZ_STR_TYPE 0x300000300100ull
#define FUZZ_PY_HDR 12

#endif
