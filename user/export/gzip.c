// SPDX-License-Identifier: MIT
#include <errno.h>
#include <string.h>
#include "export/gzip.h"

int gzipper_compress(struct gzipper *g, const struct buf *in, struct buf *out)
{
	uLong bound;
	uint8_t *dst;
	int rc;

	if (!g->ready) {
		memset(&g->z, 0, sizeof(g->z));
		/* 15 + 16: a gzip header and trailer rather than zlib's */
		if (deflateInit2(&g->z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8,
				 Z_DEFAULT_STRATEGY) != Z_OK)
			return -ENOMEM; /* its only failure with these constant arguments */
		g->ready = true;
	} else if (deflateReset(&g->z) != Z_OK) {
		return -EINVAL;
	}
	buf_reset(out);
	bound = deflateBound(&g->z, (uLong)in->len);
	dst = buf_reserve(out, bound);
	if (!dst)
		return -ENOMEM;
	g->z.next_in = in->data;
	g->z.avail_in = (uInt)in->len;
	g->z.next_out = dst;
	g->z.avail_out = (uInt)bound;
	rc = deflate(&g->z, Z_FINISH);
	if (rc != Z_STREAM_END)
		return -EIO;
	out->len += g->z.total_out;
	return 0;
}

void gzipper_free(struct gzipper *g)
{
	if (g->ready)
		deflateEnd(&g->z);
	g->ready = false;
}
