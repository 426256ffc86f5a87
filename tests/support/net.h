/* SPDX-License-Identifier: MIT */
/* Loopback TCP for the tests: a free port, a connection that does not wait. */
#ifndef INFLIGHT_TEST_NET_H
#define INFLIGHT_TEST_NET_H

/* A free TCP port on 127.0.0.1 (bound, then released: for a server started later). */
int free_port(void);
/*
 * A non-blocking connection under way to 127.0.0.1:port (connected, or
 * EINPROGRESS); `rcvbuf` > 0 sets SO_RCVBUF first (a slow reader's window).
 */
int connect_nb(int port, int rcvbuf);

#endif
