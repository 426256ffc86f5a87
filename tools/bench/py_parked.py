# SPDX-License-Identifier: MIT
"""A CPython worker for measuring what one reading of it costs inflight.

THREADS threads each descend DEPTH Python frames, then park inside
_handle_vcon(worker_name, ingress_list, vcon_id, chain_details) until stdin
closes. Prints "ready PID" once every thread is parked.
usage: py_parked.py THREADS DEPTH
"""
import os
import sys
import threading

CHAIN = {"name": "transcribe", "links": ["a"]}
release = threading.Event()


def _handle_vcon(worker_name, ingress_list, vcon_id, chain_details, parked):
    parked.release()
    release.wait()


def descend(n, parked):
    if n <= 1:
        return _handle_vcon("w", "in", "vcon", CHAIN, parked)
    return descend(n - 1, parked)


def main():
    threads, depth = int(sys.argv[1]), int(sys.argv[2])
    sys.setrecursionlimit(depth + 100)
    parked = threading.Semaphore(0)
    ts = [threading.Thread(target=descend, args=(depth, parked)) for _ in range(threads)]
    for t in ts:
        t.start()
    for _ in ts:
        parked.acquire()
    print("ready", os.getpid(), flush=True)
    sys.stdin.read()
    release.set()
    for t in ts:
        t.join()


if __name__ == "__main__":
    main()
