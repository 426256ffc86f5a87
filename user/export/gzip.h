/* SPDX-License-Identifier: MIT */
/*
 * gzip for OTLP request bodies (Content-Encoding: gzip). One deflate state
 * is kept and reset between exports: setting one up costs more than
 * compressing a small export.
 */
#ifndef INFLIGHT_GZIP_H
#define INFLIGHT_GZIP_H

#include <stdbool.h>
#include <zlib.h>
#include "util/buf.h"

struct gzipper {
	z_stream z;
	bool ready;
};

/* Replaces `out` with `in` gzip-compressed. 0, -ENOMEM, or -EINVAL/-EIO from zlib. */
int gzipper_compress(struct gzipper *g, const struct buf *in, struct buf *out);
void gzipper_free(struct gzipper *g);

#endif
