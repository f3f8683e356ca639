#!/usr/bin/env python3
"""bench/sched.sh's report: DIR/<buf>/<paths>/<workload>/<row>/run-<i>/summary.json
-> DIR/report.md, DIR/report.json and DIR/cdf-<buf>-<paths>.png (rr completion-time
CDFs of run 1, one line per row; needs gnuplot, skipped with a note without it).
<buf> is the receive-buffer level, large (the stacks' defaults) and/or small
(DIR/<buf>/buffer.txt says which); a tree without it (DIR/<paths>/...) is read as
one level, large.  With both levels, a small-vs-large table of the bulk goodput and
rr p95 medians.

Per row: runs verified / runs; bulk goodput (Mbit/s); rr completion time p50, p95,
p99 (ms); stream one-way chunk delay p50, p95, p99 (ms) and stalls.  Medians over
the verified runs with min-max; a failed run is counted, listed, never averaged."""
import json
import os
import shutil
import subprocess
import sys
from report_common import load, median_range

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


def spread(xs, nd=1):
    return median_range(xs, nd)


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
    rb = (a.get("rcvbuf") or {}).get("client") or {}
    st["rcvbuf_eff"] = rb.get("effective")
    return st, None


BUF_TEXT = {
    "large": "the stacks' defaults (kernel receive autotuning, libmpt 4 MiB)",
    "small": "a small receive buffer on both ends",
}


def levels(root):
    """The buffer levels of a results tree: [(name, dir)]; a tree from before the
    buffer level (DIR/<paths>/...) is one level, the defaults ("large")."""
    out = [(b, os.path.join(root, b)) for b in ("large", "small")
           if os.path.isdir(os.path.join(root, b))]
    if not out and any(os.path.isdir(os.path.join(root, p)) for p in PATHS_TEXT):
        out = [("large", root)]
    return out


def buf_text(name, bdir):
    try:
        with open(os.path.join(bdir, "buffer.txt")) as f:
            return f.read().strip() or BUF_TEXT[name]
    except OSError:
        return BUF_TEXT[name]


def effective_rcvbuf(per):
    """The receiver's (client's) effective receive buffer over a level's runs, in
    KiB as text: "128" or "128-6144" (autotuning); "" when unknown."""
    xs = sorted({s["rcvbuf_eff"] for w in per.values() for s in w if s.get("rcvbuf_eff")})
    if not xs:
        return ""
    k = [x / 1024 for x in (xs[0], xs[-1])]
    return f"{k[0]:.0f}" if xs[0] == xs[-1] else f"{k[0]:.0f}–{k[1]:.0f}"


def level_tables(root, buf, bdir, L, failures, plots):
    """One buffer level's tables (a section per path set); returns its JSON."""
    out = {}
    for paths in sorted(os.listdir(bdir)):
        pdir = os.path.join(bdir, paths)
        if not os.path.isdir(pdir) or paths not in PATHS_TEXT:
            continue
        wls = [w for w in WORKLOADS if os.path.isdir(os.path.join(pdir, w))]
        rows = sorted({r for w in wls for r in os.listdir(os.path.join(pdir, w))
                       if os.path.isdir(os.path.join(pdir, w, r))},
                      key=lambda r: (r != "kernel-kernel", r))
        L.append(f"### {buf} buffers, {paths}: {PATHS_TEXT[paths]}")
        L.append("")
        hdr = ["row", f"runs ok ({', '.join(wls)})", "client rcvbuf KiB"]
        cols = []
        for w, key, nd, title in (("bulk", "goodput_mbps", 1, "bulk Mbit/s"),
                                  ("rr", "rr_p50_ms", 0, "rr p50 ms"),
                                  ("rr", "rr_p95_ms", 0, "rr p95 ms"),
                                  ("rr", "rr_p99_ms", 0, "rr p99 ms"),
                                  ("stream", "stream_p50_ms", 0, "stream p50 ms"),
                                  ("stream", "stream_p95_ms", 0, "stream p95 ms"),
                                  ("stream", "stream_p99_ms", 0, "stream p99 ms"),
                                  ("stream", "stream_stalls", 0, "stream stalls")):
            if w in wls:
                cols.append((w, key, nd))
                hdr.append(title)
        L.append("| " + " | ".join(hdr) + " |")
        L.append("|" + "---|" * len(hdr))
        out[paths] = {}
        cdfs = []
        for row in rows:
            per = {}
            ok = total = 0
            for w in wls:
                d = os.path.join(pdir, w, row)
                runs = sorted(x for x in os.listdir(d) if x.startswith("run-") and os.path.isdir(os.path.join(d, x))) if os.path.isdir(d) else []
                per[w] = []
                for r in runs:
                    total += 1
                    st, why = run_stats(os.path.join(d, r))
                    if st is None:
                        failures.append(f"{buf} {paths} {w} {label(row)} {r}: {why}")
                        continue
                    ok += 1
                    per[w].append(st)
                    if w == "rr" and r == "run-1" and st.get("cdf"):
                        cdfs.append((label(row), os.path.join(d, r, st["cdf"])))
            cells = [label(row), f"{ok}/{total}", effective_rcvbuf(per) or "–"]
            js = {}
            for w, key, nd in cols:
                xs = [s.get(key) for s in per[w]]
                text, m = spread(xs, nd)
                cells.append(text)
                js[key] = {"median": m, "runs": xs}
            out[paths][row] = js
            L.append("| " + " | ".join(cells) + " |")
        L.append("")
        if cdfs and shutil.which("gnuplot"):
            png = f"cdf-{buf}-{paths}.png"
            gp = ["set terminal pngcairo size 900,500 noenhanced", f"set output '{os.path.join(root, png)}'",
                  f"set title 'rr completion time, {paths}, {buf} receive buffers (run 1)'",
                  "set logscale x",
                  "set xlabel 'completion time (ms)'", "set ylabel 'fraction'", "set key bottom right",
                  "set datafile separator ','", "plot " + ", ".join(
                      f"'{f}' every ::1 using 1:2 with steps title \"{t}\"" for t, f in cdfs)]
            if subprocess.run(["gnuplot"], input="\n".join(gp), text=True,
                              capture_output=True).returncode == 0:
                L.append(f"![rr completion-time CDF, {buf} buffers]({png})")
                L.append("")
                plots.append(png)
        elif cdfs:
            L.append("(no gnuplot: CDF plot skipped)")
            L.append("")
    return out


def ratio(a, b, nd):
    if a is None or b is None:
        return "–"
    s = f"{b:.{nd}f}"
    return s + (f" ({b / a:.2f}x)" if a else "")


def compare(rep, L):
    """small vs large, per path set and row: bulk goodput and rr p95 (medians)."""
    if "large" not in rep or "small" not in rep:
        return
    L.append("## small vs large receive buffers")
    L.append("")
    L.append("Medians; the small buffer's value with its ratio to the large one's.  A "
             "bulk ratio well below 1 or an rr ratio well above 1 is head-of-line "
             "blocking at the receiver that the scheduler did not avoid.")
    L.append("")
    hdr = ["paths", "row", "bulk Mbit/s large", "bulk Mbit/s small", "rr p95 ms large",
           "rr p95 ms small"]
    L.append("| " + " | ".join(hdr) + " |")
    L.append("|" + "---|" * len(hdr))
    for paths in sorted(set(rep["large"]) & set(rep["small"])):
        lg, sm = rep["large"][paths], rep["small"][paths]
        for row in sorted(set(lg) & set(sm), key=lambda r: (r != "kernel-kernel", r)):
            def med(d, k):
                return (d.get(k) or {}).get("median")
            gl, gs = med(lg[row], "goodput_mbps"), med(sm[row], "goodput_mbps")
            pl, ps = med(lg[row], "rr_p95_ms"), med(sm[row], "rr_p95_ms")
            L.append("| " + " | ".join([
                paths, label(row), "–" if gl is None else f"{gl:.1f}", ratio(gl, gs, 1),
                "–" if pl is None else f"{pl:.0f}", ratio(pl, ps, 0)]) + " |")
    L.append("")


def main(root):
    report = {"buffers": {}}
    L = ["# libmpt schedulers (make bench-sched)", ""]
    L.append("Data flows server -> client; the server schedules (a libmpt server with the "
             "named scheduler, or Linux's).  Medians over verified runs, min–max in "
             "brackets.  bulk: 5 s download; rr: 40 exchanges of 100 B up / 64 KiB down, "
             "completion time; stream: 4 Mbit/s in 20 KiB chunks for 5 s, one-way delay "
             "per chunk, stalls = chunks later than p50 + 2 periods.  client rcvbuf: the "
             "receiving client's effective receive buffer at the end of the runs (Linux "
             "reports SO_RCVBUF doubled; a range when autotuning grew it).")
    L.append("")
    failures = []
    plots = []
    for buf, bdir in levels(root):
        L.append(f"## {buf} receive buffers: {buf_text(buf, bdir)}")
        L.append("")
        report["buffers"][buf] = level_tables(root, buf, bdir, L, failures, plots)
    compare(report["buffers"], L)
    if failures:
        L.append("Failed runs: " + "; ".join(failures) + ".")
        L.append("")
    report["failed"] = failures
    report["plots"] = plots
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
