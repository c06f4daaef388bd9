#!/usr/bin/env python3
"""Self time per operator from a LibTorch legacy-profiler Chrome trace.

Events nest (aten::conv2d -> aten::convolution -> aten::mkldnn_convolution);
an operator's self time is its duration minus that of its direct children,
so the table adds up to the profiled wall time of the main thread.
"""
import collections
import json
import sys


def main(path):
    with open(path) as f:
        events = json.load(f)
    if isinstance(events, dict):
        events = events.get("traceEvents", [])
    spans = sorted(
        (e for e in events if e.get("ph") == "X"),
        key=lambda e: (e.get("tid"), float(e["ts"]), -float(e["dur"])),
    )
    self_us = collections.Counter()
    calls = collections.Counter()
    stack = []  # (end, name)
    total = 0.0
    for e in spans:
        ts, dur = float(e["ts"]), float(e["dur"])
        while stack and stack[-1][0] <= ts:
            stack.pop()
        if stack:
            self_us[stack[-1][1]] -= dur
        else:
            total += dur
        self_us[e["name"]] += dur
        calls[e["name"]] += 1
        stack.append((ts + dur, e["name"]))
    print(f"{'operator':40s} {'self s':>8s} {'share':>6s} {'calls':>6s}")
    for name, us in self_us.most_common(25):
        print(f"{name:40s} {us / 1e6:8.3f} {100 * us / total:5.1f}% {calls[name]:6d}")
    print(f"{'total (top-level)':40s} {total / 1e6:8.3f}")


if __name__ == "__main__":
    main(sys.argv[1])
