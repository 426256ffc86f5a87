# SPDX-License-Identifier: MIT
"""A stand-in for vcon-server's conserver, for inflight's CPython tests.

Same shape as conserver: worker processes (multiprocessing, fork or spawn)
BLPOP a vCon id from Redis ingress lists and run
_handle_vcon(worker_name, ingress_list, vcon_id, chain_details), directly
from worker_loop or through a ThreadPoolExecutor when
CONSERVER_VCON_CONCURRENCY > 1. _handle_vcon catches the chain's exceptions
itself and sends the vCon to the dead-letter queue.

Links the tests use: "park" (RPUSH entered, then BLPOP release: the call
stays inside _handle_vcon until the test releases it), "raise", "noop".
A vCon id starting with "skip" returns early from before_processing; one
named "churn-MS" makes calls back to back for MS milliseconds (frames pushed
and popped as fast as the interpreter can, for the torn-read test). After each item the
worker RPUSHes its id to "done".

Configuration (environment): REDIS_PORT, CHAINS (JSON list of
{"name", "ingress", "links"}), WORKERS, START (fork|spawn),
CONSERVER_VCON_CONCURRENCY. Standard library only, so every interpreter
under test runs it as it is.
"""
import json
import multiprocessing
import os
import socket
import sys
import time
from concurrent.futures import ThreadPoolExecutor


class Redis:
    """Just enough RESP for BLPOP and RPUSH."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.buf = b""

    def _line(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("redis closed the connection")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _reply(self):
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind == b"-":
            raise RuntimeError(rest.decode())
        if kind in (b"+", b":"):
            return rest
        if kind == b"$":
            n = int(rest)
            if n < 0:
                return None
            while len(self.buf) < n + 2:
                self.buf += self.sock.recv(65536)
            data, self.buf = self.buf[:n], self.buf[n + 2:]
            return data
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [self._reply() for _ in range(n)]
        raise RuntimeError("bad reply %r" % line)

    def command(self, *args):
        out = b"*%d\r\n" % len(args)
        for a in args:
            a = a if isinstance(a, bytes) else str(a).encode()
            out += b"$%d\r\n%s\r\n" % (len(a), a)
        self.sock.sendall(out)
        return self._reply()


_local = {}


def redis():
    """One connection per thread: BLPOP blocks its connection."""
    import threading
    key = (os.getpid(), threading.get_ident())
    if key not in _local:
        _local[key] = Redis(int(os.environ["REDIS_PORT"]))
    return _local[key]


def before_processing(vcon_id, chain_details):
    return not vcon_id.startswith("skip")


def run_link(link, vcon_id, *, chain):
    """chain is keyword-only: --py-func run_link --py-chain chain reads it."""
    if link == "park":
        redis().command("RPUSH", "entered", vcon_id)
        redis().command("BLPOP", "release", 0)
    elif link == "raise":
        raise RuntimeError("link failed for " + vcon_id)


def _handle_vcon(worker_name, ingress_list, vcon_id, chain_details):
    try:
        if not before_processing(vcon_id, chain_details):
            return
        for link in chain_details["links"]:
            run_link(link, vcon_id, chain=chain_details["name"])
    except Exception:
        redis().command("RPUSH", "dlq:" + ingress_list, vcon_id)


def handle_and_report(worker_name, ingress_list, vcon_id, chain_details):
    if vcon_id.startswith("churn-"):
        until = time.monotonic() + int(vcon_id.split("-")[1]) / 1000
        while time.monotonic() < until:
            for _ in range(100):
                _handle_vcon(worker_name, ingress_list, vcon_id, chain_details)
    else:
        _handle_vcon(worker_name, ingress_list, vcon_id, chain_details)
    redis().command("RPUSH", "done", vcon_id)


def die_with_parent():
    """A worker must not outlive the test that killed its parent."""
    import ctypes
    import signal
    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def worker_loop(worker_name, chains):
    die_with_parent()
    by_ingress = {c["ingress"]: c for c in chains}
    concurrency = int(os.environ.get("CONSERVER_VCON_CONCURRENCY", "1"))
    executor = ThreadPoolExecutor(max_workers=concurrency) if concurrency > 1 else None
    redis().command("RPUSH", "workers", os.getpid())
    while True:
        item = redis().command("BLPOP", *by_ingress.keys(), 0)
        ingress_list, vcon_id = item[0].decode(), item[1].decode()
        chain_details = by_ingress[ingress_list]
        if executor:
            executor.submit(handle_and_report, worker_name, ingress_list, vcon_id, chain_details)
        else:
            handle_and_report(worker_name, ingress_list, vcon_id, chain_details)


def main():
    chains = json.loads(os.environ["CHAINS"])
    ctx = multiprocessing.get_context(os.environ.get("START", "fork"))
    workers = [ctx.Process(target=worker_loop, args=("worker-%d" % i, chains))
               for i in range(int(os.environ.get("WORKERS", "1")))]
    for w in workers:
        w.start()
    # the parent waits for stdin to close, then takes the workers down
    sys.stdin.read()
    for w in workers:
        w.kill()
        w.join()


if __name__ == "__main__":
    main()
