#!/usr/bin/env python3
"""Summarise sidebyside.sh results: per client and mode, client CPU per
call (min, median, max over rounds) and the ratio to Python measured in
the same round."""
import json, statistics, sys
from collections import defaultdict

rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
by = defaultdict(dict)  # (mode, round) -> client -> cpu
for r in rows:
    by[(r["mode"], r["round"])][r["client"]] = r["cpu_us_per_call"]
clients = list(dict.fromkeys(r["client"] for r in rows))
print("| mode | client | CPU µs/call min / median / max | ratio to python, same round: min / median / max |")
print("|---|---|---:|---:|")
for mode in ("single", "page"):
    rounds = sorted(k[1] for k in by if k[0] == mode)
    for c in clients:
        cpu = [by[(mode, r)][c] for r in rounds if c in by[(mode, r)]]
        if not cpu:
            continue
        ratio = [by[(mode, r)][c] / by[(mode, r)]["python"] for r in rounds if c in by[(mode, r)]]
        f = lambda xs, fmt: " / ".join(fmt % x for x in (min(xs), statistics.median(xs), max(xs)))
        print(f"| {mode} | {c} | {f(cpu, '%.0f')} | {f(ratio, '%.3f')} |")
print(f"\n{len(rows)} measurements, {len(set(r['round'] for r in rows))} rounds")
