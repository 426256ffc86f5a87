/* SPDX-License-Identifier: MIT */
/*
 * What --python counts when --py-func / --py-chain are not given: the vCon
 * server's worker function and the chain name it is handed. One place, for
 * the reader, the label the observer shows, and the options' help text
 * (string literals, so the help can splice them in).
 */
#ifndef INFLIGHT_PY_DEFAULTS_H
#define INFLIGHT_PY_DEFAULTS_H

#define PY_DEFAULT_FUNC "_handle_vcon"
#define PY_DEFAULT_CHAIN "chain_details[\"name\"]"

#endif
