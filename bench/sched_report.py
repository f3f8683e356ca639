#!/usr/bin/env python3
"""bench/sched.sh's report: DIR/<paths>/<workload>/<row>/run-<i>/summary.json ->
DIR/report.md, DIR/report.json and DIR/cdf-<paths>.png (rr completion-time CDFs of
run 1, one line per row; needs gnuplot, skipped with a note without it).

Per row: runs verified / runs; bulk goodput (Mbit/s); rr completion time p50, p95,
p99 (ms); stream one-way chunk delay p50, p95, p99 (ms) and stalls.  Medians over
the verified runs with min-max; a failed run is counted, listed, never averaged."""
import json
import os
import shutil
import statistics
import subprocess
import sys

ROW_LABEL = {"kernel-kernel": "kernel -> kernel (Linux's scheduler)"}
WORKLOADS = ["bulk", "rr", "stream"]
PATHS_TEXT = {
    "asym-rtt": "20 Mbit/s 10 ms RTT + 5 Mbit/s 100 ms RTT",
    "rtt-10-200": "10 Mbit/s 10 ms RTT + 10 Mbit/s 200 ms RTT",
    "lossy": "20 Mbit/s 10 ms RTT 1 % loss + 20 Mbit/s 30 ms RTT",
}


def label(row):
    if row in ROW_LABEL:
        return ROW_LABEL[row]
    if row.startswith("mpt-kernel-"):
        return f"libmpt {row[len('mpt-kernel-'):]} -> kernel"
    if row.startswith("mpt-mpt-"):
        return f"libmpt {row[len('mpt-mpt-'):]} -> libmpt"
    return row


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def spread(xs, nd=1):
    xs = [x for x in xs if x is not None]
    if not xs:
        return "–", None
    m = statistics.median(xs)
    s = f"{m:.{nd}f}"
    if len(xs) > 1 and min(xs) != max(xs):
        s += f" ({min(xs):.{nd}f}–{max(xs):.{nd}f})"
    return s, m


def run_stats(rundir):
    s = load(os.path.join(rundir, "summary.json"))
    if not s or not s.get("apps"):
        return None, "no summary.json"
    a = s["apps"][0]
    if not a.get("verified") or a.get("status") not in (None, "ok"):
        return None, f"not verified (status {a.get('status')}, exit {a.get('exit')})"
    st = {"goodput_mbps": a.get("goodput_mbps")}
    rr, stream = a.get("rr") or {}, a.get("stream") or {}
    for k in ("p50_ms", "p95_ms", "p99_ms"):
        st["rr_" + k] = rr.get(k)
        st["stream_" + k] = stream.get(k)
    st["stream_stalls"] = stream.get("stalls")
    st["cdf"] = a.get("cdf")
    return st, None


def main(root):
    report = {"paths": {}}
    L = ["# libmpt schedulers (make bench-sched)", ""]
    L.append("Data flows server -> client; the server schedules (a libmpt server with the "
             "named scheduler, or Linux's).  Medians over verified runs, min–max in "
             "brackets.  bulk: 5 s download; rr: 40 exchanges of 100 B up / 64 KiB down, "
             "completion time; stream: 4 Mbit/s in 20 KiB chunks for 5 s, one-way delay "
             "per chunk, stalls = chunks later than p50 + 2 periods.")
    L.append("")
    failures = []
    for paths in sorted(os.listdir(root)):
        pdir = os.path.join(root, paths)
        if not os.path.isdir(pdir) or paths not in PATHS_TEXT:
            continue
        rows = sorted({r for w in WORKLOADS if os.path.isdir(os.path.join(pdir, w))
                       for r in os.listdir(os.path.join(pdir, w))},
                      key=lambda r: (r != "kernel-kernel", r))
        L.append(f"## {paths}: {PATHS_TEXT[paths]}")
        L.append("")
        hdr = ["row", "runs ok (all workloads)", "bulk Mbit/s", "rr p50 ms", "rr p95 ms", "rr p99 ms",
               "stream p50 ms", "stream p95 ms", "stream p99 ms", "stream stalls"]
        L.append("| " + " | ".join(hdr) + " |")
        L.append("|" + "---|" * len(hdr))
        report["paths"][paths] = {}
        cdfs = []
        for row in rows:
            per = {}
            ok = total = 0
            for w in WORKLOADS:
                d = os.path.join(pdir, w, row)
                runs = sorted(x for x in os.listdir(d) if x.startswith("run-") and os.path.isdir(os.path.join(d, x))) if os.path.isdir(d) else []
                per[w] = []
                for r in runs:
                    total += 1
                    st, why = run_stats(os.path.join(d, r))
                    if st is None:
                        failures.append(f"{paths} {w} {label(row)} {r}: {why}")
                        continue
                    ok += 1
                    per[w].append(st)
                    if w == "rr" and r == "run-1" and st.get("cdf"):
                        cdfs.append((label(row), os.path.join(d, r, st["cdf"])))
            cells = [label(row), f"{ok}/{total}"]
            js = {}
            for w, key, nd in (("bulk", "goodput_mbps", 1), ("rr", "rr_p50_ms", 0), ("rr", "rr_p95_ms", 0),
                               ("rr", "rr_p99_ms", 0), ("stream", "stream_p50_ms", 0),
                               ("stream", "stream_p95_ms", 0), ("stream", "stream_p99_ms", 0),
                               ("stream", "stream_stalls", 0)):
                xs = [s.get(key) for s in per[w]]
                text, m = spread(xs, nd)
                cells.append(text)
                js[key] = {"median": m, "runs": xs}
            report["paths"][paths][row] = js
            L.append("| " + " | ".join(cells) + " |")
        L.append("")
        if cdfs and shutil.which("gnuplot"):
            png = f"cdf-{paths}.png"
            gp = ["set terminal pngcairo size 900,500 noenhanced", f"set output '{os.path.join(root, png)}'",
                  f"set title 'rr completion time, {paths} (run 1)'", "set logscale x",
                  "set xlabel 'completion time (ms)'", "set ylabel 'fraction'", "set key bottom right",
                  "set datafile separator ','", "plot " + ", ".join(
                      f"'{f}' every ::1 using 1:2 with steps title \"{t}\"" for t, f in cdfs)]
            if subprocess.run(["gnuplot"], input="\n".join(gp), text=True,
                              capture_output=True).returncode == 0:
                L.append(f"![rr completion-time CDF]({png})")
                L.append("")
        elif cdfs:
            L.append("(no gnuplot: CDF plot skipped)")
            L.append("")
    if failures:
        L.append("Failed runs: " + "; ".join(failures) + ".")
        L.append("")
    report["failed"] = failures
    with open(os.path.join(root, "report.md"), "w") as f:
        f.write("\n".join(L))
    with open(os.path.join(root, "report.json"), "w") as f:
        json.dump(report, f, indent=1)
    print("\n".join(L))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print("usage: bench/sched_report.py DIR", file=sys.stderr)
        sys.exit(2)
    main(sys.argv[1])
