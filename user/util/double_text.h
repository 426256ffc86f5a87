/* SPDX-License-Identifier: MIT */
/*
 * A double as the shortest decimal text that reads back as the same
 * double ("0", "1.5", "0.1", "1234.000000001"), for exports that carry
 * floating-point values (OTLP JSON's asDouble, Prometheus samples). The C
 * locale's decimal point: the program never sets another.
 */
#ifndef INFLIGHT_DOUBLE_TEXT_H
#define INFLIGHT_DOUBLE_TEXT_H

#include <stddef.h>

/* Longest text: sign, 17 digits, point, exponent. */
#define DOUBLE_TEXT_MAX 32

/* Finite values only (NaN and infinities have no JSON form): written as "0". */
void double_text(double v, char *out, size_t size);

#endif
