#!/usr/bin/env python3
"""Renders results.jsonl (from run_queries.py / run_patch.py) as the Markdown tables of
docs/benchmarks.md.

    report.py [/tmp/scimd-bench/results.jsonl]

When a (label, query) was measured more than once, the last run counts.
"""

import json
import sys

SIZES = [1000, 100000, 1000000]
NAMES = {1000: "1k", 100000: "100k", 1000000: "1M"}


def fmt(x, digits=1):
    if x is None:
        return "–"
    if x >= 100:
        return "{:,.0f}".format(x)
    return "{:.{}f}".format(x, digits)


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else "/tmp/scimd-bench/results.jsonl"
    rows = [json.loads(line) for line in open(path) if line.strip()]
    queries, alone, keep, walks, pmembers, rss, targets = {}, {}, {}, {}, {}, {}, {}
    order = []
    for r in rows:
        if r["kind"] == "query" and r.get("conns") == 1:
            alone[(r["db"], r["users"], r["query"])] = r
        elif r["kind"] == "query":
            queries[(r["db"], r["users"], r["query"])] = r
            if r["query"] not in order:
                order.append(r["query"])
        elif r["kind"] == "keepalive":
            keep[(r["db"], r["users"], r["header"])] = r
        elif r["kind"] == "walk":
            walks[(r["db"], r["users"])] = r
        elif r["kind"] == "patch_members":
            pmembers[(r["db"], r["group_size"])] = r
        elif r["kind"] == "target":
            targets[(r["label"], r["query"])] = r
        elif r["kind"] == "rss":
            rss[(r["db"], r["users"])] = r["rss_kb"]

    for db in ("sqlite", "postgresql"):
        print("\n#### %s: filters and sorting\n" % db)
        head = "| query | " + " | ".join("%s req/s | %s p50 ms | %s p99 ms | %s CPU ms/req" % ((NAMES[n],) * 4) for n in SIZES)
        print(head + " | CPU 1M/1k | p50 1M/1k |")
        print("|" + "---|" * (2 + 4 * len(SIZES) + 1))
        for qn in order:
            cells = []
            for n in SIZES:
                r = queries.get((db, n, qn))
                if r is None:
                    cells += ["–"] * 4
                    continue
                if r.get("rps") is None:
                    if r.get("timed_out"):
                        cells += ["no answer in %d s ⁽ᵗ⁾" % r["probe_timeout_s"], "–", "–", "–"]
                    else:
                        cpu = r.get("cpu_ms_scimd", 0) + r.get("cpu_ms_pg", 0)
                        cells += ["one at a time ⁽¹⁾", fmt(r["single_ms"], 0), "–", fmt(cpu, 0)]
                    continue
                mark = " ⁽ˢ⁾" if r.get("slow") else ""
                err = "" if not r["non2xx"] and not any(r["errors"]) else " (%d non-2xx, errors %s)" % (r["non2xx"], r["errors"])
                cpu = r.get("cpu_ms_scimd", 0) + r.get("cpu_ms_pg", 0)
                cells += [fmt(r["rps"]) + mark + err, fmt(r["p50_ms"], 2), fmt(r["p99_ms"], 2), fmt(cpu, 2)]
            a, b = queries.get((db, 1000, qn)), queries.get((db, 1000000, qn))
            if a and b and a.get("p50_ms") and b.get("p50_ms"):
                ca = a.get("cpu_ms_scimd", 0) + a.get("cpu_ms_pg", 0)
                cb = b.get("cpu_ms_scimd", 0) + b.get("cpu_ms_pg", 0)
                ratio = "%.2fx" % (cb / ca) if ca else "–"
                pratio = "%.2fx" % (b["p50_ms"] / a["p50_ms"]) if a["p50_ms"] else "–"
            else:
                ratio = pratio = "–"
            print("| %s | %s | %s | %s |" % (qn, " | ".join(cells), ratio, pratio))

    if alone:
        print("\n#### One request at a time (wrk -t1 -c1 -d10s): latency = cost\n")
        print("| db | query | " + " | ".join("%s req/s | %s p50 ms | %s p99 ms | %s CPU ms/req" % ((NAMES[n],) * 4) for n in SIZES)
              + " | p50 1M/1k | CPU 1M/1k |")
        print("|" + "---|" * (2 + 4 * len(SIZES) + 2))
        for db in ("sqlite", "postgresql"):
            for qn in order:
                if not any((db, n, qn) in alone for n in SIZES):
                    continue
                cells = []
                for n in SIZES:
                    r = alone.get((db, n, qn))
                    if r is None:
                        cells += ["–"] * 4
                        continue
                    cpu = r.get("cpu_ms_scimd", 0) + r.get("cpu_ms_pg", 0)
                    cells += [fmt(r["rps"]), fmt(r["p50_ms"], 2), fmt(r["p99_ms"], 2), fmt(cpu, 2)]
                a, b = alone.get((db, 1000, qn)), alone.get((db, 1000000, qn))
                if a and b:
                    ca = a.get("cpu_ms_scimd", 0) + a.get("cpu_ms_pg", 0)
                    cb = b.get("cpu_ms_scimd", 0) + b.get("cpu_ms_pg", 0)
                    ratios = "%.2fx | %.2fx" % (b["p50_ms"] / a["p50_ms"], cb / ca if ca else float("nan"))
                else:
                    ratios = "– | –"
                print("| %s | %s | %s | %s |" % (db, qn, " | ".join(cells), ratios))

    if targets:
        print("\n#### Target check: one request at a time, sizes interleaved (median of the rounds)\n")
        print("| db | query | small p50 ms | large p50 ms | p50 ratio | small CPU ms/req | large CPU ms/req | CPU ratio | within 1.5x |")
        print("|---|---|---|---|---|---|---|---|---|")
        for (label, qn), r in targets.items():
            ok = "yes" if r["ratio_p50"] <= 1.5 and r["ratio_cpu"] <= 1.5 else ("p50 only" if r["ratio_p50"] <= 1.5 else ("CPU only" if r["ratio_cpu"] <= 1.5 else "**no**"))
            print("| %s (%s → %s users, %d rounds) | %s | %.2f | %.2f | %.2fx | %.2f | %.2f | %.2fx | %s |" % (
                label, "{:,}".format(r["small_users"]), "{:,}".format(r["large_users"]), r["rounds"], qn,
                r["small"]["p50_ms"], r["large"]["p50_ms"], r["ratio_p50"], r["small"]["cpu_ms"],
                r["large"]["cpu_ms"], r["ratio_cpu"], ok))

    print("\n#### Keep-alive (userName eq, -t2 -c16 -d10s)\n")
    print("| db | users | header | req/s | p50 ms | p99 ms | CPU ms/req | non-2xx | TIME-WAIT sockets before → after |")
    print("|---|---|---|---|---|---|---|---|---|")
    for (db, n, header), r in sorted(keep.items()):
        print("| %s | %s | %s | %s | %s | %s | %s | %d | %d → %d |" % (
            db, NAMES.get(n, n), "`Connection: keep-alive`" if header else "none (HTTP/1.1 default)",
            fmt(r["rps"]), fmt(r["p50_ms"], 2), fmt(r["p99_ms"], 2),
            fmt(r.get("cpu_ms_scimd", 0) + r.get("cpu_ms_pg", 0), 2), r["non2xx"],
            r["time_wait_before"], r["time_wait_after"]))

    print("\n#### Cursor walk (count=100)\n")
    print("| db | users | pages walked | users seen | complete | seconds | pages/s | p50 ms | p99 ms |")
    print("|---|---|---|---|---|---|---|---|---|")
    for (db, n), w in sorted(walks.items()):
        print("| %s | %s | %d of %d | %d | %s | %.1f | %.1f | %.1f | %.1f |" % (
            db, NAMES.get(n, n), w["pages"], w["expected_pages"], w["items"],
            "yes" if w["complete"] else "no (time budget %d s)" % w["budget"], w["seconds"],
            w["pages_per_s"], w["p50_ms"], w["p99_ms"]))

    if pmembers:
        print("\n#### PATCH one member add / remove (run_patch.py; latencies pooled over the rounds)\n")
        for db in ("sqlite", "postgresql"):
            rows = sorted((r for (d, _), r in pmembers.items() if d == db), key=lambda r: r["group_size"])
            if not rows:
                continue
            r0 = rows[0]
            print("%s (%s; %d client(s), %d rounds x %g s per size, load %.1f–%.1f)\n" % (
                db, r0.get("settings_note", ""), r0["clients"], r0["rounds"], r0["duration"],
                min(r["load"][0] for r in rows), max(r["load"][1] for r in rows)))
            print("| members | add ops | remove ops | req/s | add p50 ms | add p99 ms | remove p50 ms | remove p99 ms | CPU ms/PATCH | non-2xx |")
            print("|---|---|---|---|---|---|---|---|---|---|")
            for r in rows:
                print("| %s | %d | %d | %s | %s | %s | %s | %s | %.2f | %d |" % (
                    "{:,}".format(r["group_size"]), r["add"]["n"], r["remove"]["n"], fmt(r["rps"]),
                    fmt(r["add"]["p50_ms"], 2), fmt(r["add"]["p99_ms"], 2), fmt(r["remove"]["p50_ms"], 2),
                    fmt(r["remove"]["p99_ms"], 2), r["cpu_ms_scimd"] + r["cpu_ms_pg"], r["bad"]))
            lo, hi = rows[0], rows[-1]
            print("\nratio %s/%s: add p50 %.2fx, add p99 %.2fx, remove p50 %.2fx, remove p99 %.2fx (target <= 1.5x)\n" % (
                "{:,}".format(hi["group_size"]), "{:,}".format(lo["group_size"]),
                hi["add"]["p50_ms"] / lo["add"]["p50_ms"], hi["add"]["p99_ms"] / lo["add"]["p99_ms"],
                hi["remove"]["p50_ms"] / lo["remove"]["p50_ms"], hi["remove"]["p99_ms"] / lo["remove"]["p99_ms"]))

    if rss:
        print("\nServer RSS after the query runs: " + ", ".join(
            "%s %s: %d MB" % (db, NAMES.get(n, n), kb // 1024) for (db, n), kb in sorted(rss.items()) if kb))


if __name__ == "__main__":
    main()
