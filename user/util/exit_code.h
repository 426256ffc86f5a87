/* SPDX-License-Identifier: MIT */
/* Exit codes: bad input or cannot attach is 2, as the brief fixes; a failure at run time 1. */
#ifndef INFLIGHT_EXIT_CODE_H
#define INFLIGHT_EXIT_CODE_H

#define EXIT_USAGE 2
#define EXIT_RUNTIME 1

#endif
