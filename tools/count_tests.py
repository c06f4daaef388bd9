#!/usr/bin/env python3
"""Counts test cases from a `bazel test --test_summary=short` log.

Each passed or failed target's test.xml gives its cases; a target that did
not build or run counts as one failed case. Prints "N passed, N failed".
"""
import os
import re
import sys
import xml.etree.ElementTree as ET

LINE = re.compile(r"^(//\S+)\s+(?:\(cached\)\s+)?(PASSED|FAILED|TIMEOUT|FLAKY|NO STATUS|FAILED TO BUILD|INCOMPLETE|SKIPPED)\b")


def cases(target):
    pkg, name = target[2:].split(":")
    path = os.path.join("bazel-testlogs", pkg, name, "test.xml")
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError):
        return None
    passed = failed = 0
    for case in root.iter("testcase"):
        if case.find("failure") is not None or case.find("error") is not None:
            failed += 1
        elif case.get("status", "run") == "run" and case.get("result", "completed") != "skipped":
            passed += 1
    return passed, failed


def main():
    passed = failed = 0
    seen = set()
    with open(sys.argv[1], errors="replace") as log:
        for line in log:
            m = LINE.match(line.strip())
            if not m or m.group(1) in seen:
                continue
            target, status = m.group(1), m.group(2)
            seen.add(target)
            counted = cases(target) if status in ("PASSED", "FAILED", "FLAKY") else None
            if counted is None or counted == (0, 0):
                ok = status in ("PASSED", "FLAKY")
                counted = (1, 0) if ok else (0, 1)
            elif status not in ("PASSED", "FLAKY") and counted[1] == 0:
                counted = (counted[0], 1)  # crashed or timed out after its cases
            passed += counted[0]
            failed += counted[1]
    if not seen:
        failed += 1
        print("no test results found in the log", file=sys.stderr)
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
