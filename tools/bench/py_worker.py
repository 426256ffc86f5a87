# SPDX-License-Identifier: MIT
"""A CPython worker for measuring what observation costs it.

THREADS threads call _handle_vcon(worker_name, ingress_list, vcon_id,
chain_details) back to back for SECONDS, each call a little work under a
stack of a few frames, like a conserver link would; prints the calls per
second. Run it alone and under `inflight top --python` to compare.
usage: py_worker.py SECONDS THREADS
"""
import sys
import threading
import time

CHAINS = [{"name": "transcribe", "links": ["a", "b"]}, {"name": "summarize", "links": ["c"]}]


def run_link(link, vcon_id):
    return sum(ord(ch) for ch in link + vcon_id)


def _handle_vcon(worker_name, ingress_list, vcon_id, chain_details):
    total = 0
    for link in chain_details["links"]:
        total += run_link(link, vcon_id)
    return total


def loop(seconds, counts, i):
    n = 0
    until = time.monotonic() + seconds
    while time.monotonic() < until:
        for _ in range(100):
            _handle_vcon("w", "in", "vcon-%d" % n, CHAINS[n & 1])
            n += 1
    counts[i] = n


def main():
    seconds, threads = float(sys.argv[1]), int(sys.argv[2])
    counts = [0] * threads
    ts = [threading.Thread(target=loop, args=(seconds, counts, i)) for i in range(threads)]
    start = time.monotonic()
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    print("%.0f" % (sum(counts) / (time.monotonic() - start)))


if __name__ == "__main__":
    main()
