#!/usr/bin/env python3
"""Simulated participants for trying a survey end to end (demo, docs).

Each one joins through the participant API exactly as the page does
(join -> consent -> pairs -> answers), and answers with a simple, seeded
"taste": it prefers the more detailed picture (the larger PNG) with
probability --taste, the other one with a third of the rest, "neither"
otherwise, and answers "neither" to two identical pictures (the attention
check) unless it is careless. Careless participants (--careless) click "A"
on everything. Honours 429 (the page's rate limits) by waiting and retrying.

  tools/survey_simulate.py --url http://127.0.0.1:8080 --survey shots-v1 \\
      --participants 12 --careless 1 --seed 1
"""
import argparse
import json
import random
import sys
import time
import urllib.error
import urllib.request


def call(url, method="GET", body=None, token=None, raw=False):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = "Bearer " + token
    data = json.dumps(body).encode() if body is not None else (b"" if method == "POST" else None)
    for _ in range(600):
        request = urllib.request.Request(url, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                payload = response.read()
                return payload if raw else json.loads(payload or b"{}")
        except urllib.error.HTTPError as e:
            if e.code != 429:
                sys.exit(f"survey_simulate: {method} {url}: HTTP {e.code}: {e.read().decode(errors='replace')}")
            time.sleep(float(e.headers.get("Retry-After") or 0.5))
    sys.exit(f"survey_simulate: {method} {url}: still rate limited after 600 tries")


def participate(api, rng, careless, taste, questions):
    token = call(api + "/join", "POST")["token"]
    call(api + "/consent", "POST", token=token)
    session = call(api + "/session", token=token)
    total = int(session.get("total", 0))
    for position in range(int(session.get("nextPosition", 0)), total):
        pair = call(f"{api}/pairs/{position}", token=token)
        host = api.split("/api/")[0]
        a = call(host + pair["imageA"], token=token, raw=True)
        b = call(host + pair["imageB"], token=token, raw=True)
        answers = []
        for _ in range(questions):
            if careless:
                answers.append("A")
            elif a == b:
                answers.append("neither")
            else:
                detailed, plain = ("A", "B") if len(a) >= len(b) else ("B", "A")
                r = rng.random()
                answers.append(detailed if r < taste else plain if r < taste + (1 - taste) / 3 else "neither")
        call(api + "/answers", "POST", token=token,
             body={"position": position, "answers": answers, "idempotencyKey": f"sim-{position}",
                   "elapsedMs": int(rng.uniform(2500, 12000))})


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="the survey pages' address, e.g. http://127.0.0.1:8080")
    parser.add_argument("--survey", required=True)
    parser.add_argument("--participants", type=int, default=10)
    parser.add_argument("--careless", type=int, default=0, help="how many of them click 'A' on everything")
    parser.add_argument("--taste", type=float, default=0.6)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    api = f"{args.url.rstrip('/')}/api/s/{args.survey}"
    questions = len(call(api + "/info").get("questions", [])) or 3
    rng = random.Random(args.seed)
    for i in range(args.participants):
        participate(api, rng, i < args.careless, args.taste, questions)
    print(f"{args.participants} simulated participants answered ({args.careless} careless)")


if __name__ == "__main__":
    main()
