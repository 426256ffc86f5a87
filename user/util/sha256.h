/* SPDX-License-Identifier: MIT */
/* SHA-256 (FIPS 180-4), for deriving a stable instance id without exposing
 * the machine id it comes from. */
#ifndef INFLIGHT_SHA256_H
#define INFLIGHT_SHA256_H

#include <stddef.h>
#include <stdint.h>

void sha256(const void *data, size_t len, uint8_t out[32]);
/* The first `nbytes` (at most 32) of the digest of a string, as 2 * nbytes hex digits. */
void sha256_hex(const char *text, size_t nbytes, char *out);

#endif
