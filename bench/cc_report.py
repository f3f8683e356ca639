#!/usr/bin/env python3
"""bench/cc.sh's report: DIR/vt/seed-<i>.jsonl (cc-bottleneck --json),
DIR/vt-balance/seed-<i>.jsonl (cc-bottleneck --balance --json) and
DIR/<harm|balance>/<row>/run-<i>/ (mpnet run directories) -> DIR/report.md,
DIR/report.json and DIR/ratio.png, DIR/balance.png (gnuplot; skipped with a note
without it).

Namespace runs: goodput of each app over [started + W, started + T] s from the
receiver's verified bytes (timeseries.csv rx_bytes), the MPTCP app's per-link share
from its subflows' acknowledged bytes (subflow_acked) over the same window.  Medians
over the runs whose apps all verified, min-max in brackets; a failed run is
counted, listed, never averaged.  The last section sets the medians against what
RFC 6356, Khalili et al. (OLIA) and Peng et al. (BALIA) lead one to expect, and says
plainly where they differ."""
import csv
import json
import os
import shutil
import statistics
import subprocess
import sys
from report_common import load, median_range

ROWS = ["mpt-lia", "mpt-olia", "mpt-balia", "mpt-cubic", "kernel"]
VT_CCS = ["lia", "olia", "balia", "cubic"]
LABEL = {
    "mpt-lia": "libmpt lia",
    "mpt-olia": "libmpt olia",
    "mpt-balia": "libmpt balia",
    "mpt-cubic": "libmpt cubic (uncoupled)",
    "kernel": "Linux MPTCP (cubic per subflow)",
}
SHORT = {"mpt-lia": "lia", "mpt-olia": "olia", "mpt-balia": "balia", "mpt-cubic": "cubic",
         "kernel": "Linux"}
HARM_LINKS = ["wifi", "lte"]
BAL_LINKS = ["ma", "mb"]


def spread(xs, nd=2):
    return median_range(xs, nd)


def window_stats(rundir, T, W):
    """Per app: Mbit/s over [started + W, started + T]; the MPTCP app's acked
    bytes per link over the same window.  None and a reason when the run failed."""
    s = load(os.path.join(rundir, "summary.json"))
    if not s or not s.get("apps"):
        return None, "no summary.json"
    bad = [a["name"] for a in s["apps"] if not a.get("verified")]
    if bad:
        return None, "not verified: " + ", ".join(
            f"{a['name']} ({a.get('status')})" for a in s["apps"] if a["name"] in bad)
    lo = {a["name"]: (a.get("started_s") or 0.0) + W for a in s["apps"]}
    hi = {a["name"]: (a.get("started_s") or 0.0) + T for a in s["apps"]}
    rx = {a["name"]: 0 for a in s["apps"]}
    acked = {}
    try:
        with open(os.path.join(rundir, "timeseries.csv")) as f:
            for r in csv.reader(f):
                if len(r) != 5 or r[1] not in rx:
                    continue
                try:
                    t, v = float(r[0]), float(r[4])
                except ValueError:
                    continue
                if not lo[r[1]] <= t < hi[r[1]]:
                    continue
                if r[2] == "rx_bytes":
                    rx[r[1]] += v
                elif r[2] == "subflow_acked" and r[1] == "mptcp":
                    acked[r[3]] = acked.get(r[3], 0) + v
    except OSError:
        return None, "no timeseries.csv"
    span = T - W
    st = {"mbps": {k: v * 8 / span / 1e6 for k, v in rx.items()},
          "acked_mbps": {k: v * 8 / span / 1e6 for k, v in acked.items()},
          "whole_mbps": {a["name"]: a.get("goodput_mbps") for a in s["apps"]},
          "subflows": {a["name"]: len(a.get("subflows") or []) for a in s["apps"]}}
    return st, None


def vt_runs(d, what, failures, need=None):
    """cc-bottleneck --json lines of every DIR/*.jsonl, per controller: the runs
    that verified with two subflows (and have `need`); the others are failures."""
    runs = {cc: [] for cc in VT_CCS}
    for fn in sorted(os.listdir(d)) if os.path.isdir(d) else []:
        if not fn.endswith(".jsonl"):
            continue
        with open(os.path.join(d, fn)) as f:
            for line in f:
                try:
                    r = json.loads(line)
                except ValueError:
                    continue
                if r.get("cc") not in runs:
                    continue
                if not r.get("verified") or r.get("subflows") != 2 or (need and need not in r):
                    failures.append(f"{what} {r['cc']} seed {r.get('seed')}: "
                                    f"verified {r.get('verified')}, {r.get('subflows')} subflows")
                    continue
                runs[r["cc"]].append(r)
    return runs


def runs_of(d):
    if not os.path.isdir(d):
        return []
    return sorted((x for x in os.listdir(d) if x.startswith("run-") and os.path.isdir(os.path.join(d, x))),
                  key=lambda x: int(x[4:]))


def table(L, hdr, rows):
    L.append("| " + " | ".join(hdr) + " |")
    L.append("|" + "---|" * len(hdr))
    for r in rows:
        L.append("| " + " | ".join(r) + " |")
    L.append("")


def gnuplot(root, png, script, L, alt):
    if not shutil.which("gnuplot"):
        L.append(f"(no gnuplot: {png} skipped)")
        L.append("")
        return
    gp = ["set terminal pngcairo size 1000,500 noenhanced", "set bmargin 7", "set rmargin 6", f"set output '{os.path.join(root, png)}'"] + script
    if subprocess.run(["gnuplot"], input="\n".join(gp), text=True, capture_output=True).returncode == 0:
        L.append(f"![{alt}]({png})")
        L.append("")


def main(root):
    meta = load(os.path.join(root, "meta.json")) or {}
    T, W = meta.get("transfer_s", 25), meta.get("window_from_s", 10)
    report = {"meta": meta, "vt": {}, "vt-balance": {}, "harm": {}, "harm-codel": {}, "balance": {},
              "failed": []}
    failures = report["failed"]
    L = ["# Coupled congestion control (make bench-cc)", ""]
    el = None
    try:
        with open(os.path.join(root, "elapsed_s")) as f:
            el = int(f.read().strip())
    except (OSError, ValueError):
        pass
    L.append(f"{meta.get('runs', '?')} run(s) per row, Linux {meta.get('kernel', '?')}, commit "
             f"{meta.get('commit', '?')}" + (f", {el // 60} min {el % 60} s" if el is not None else "")
             + ".  Medians over the runs whose transfers all verified their bytes, min–max in "
             "brackets.")
    L.append("")

    # --- 1. virtual time --------------------------------------------------------
    vt = vt_runs(os.path.join(root, "vt"), "virtual time", failures)
    L.append(f"## 1. Do no harm, virtual time (cc-bottleneck, {meta.get('vt_seconds', 120)} s, "
             "seeds 1..N)")
    L.append("")
    L.append("A two-subflow MPTCP connection and one TCP NewReno flow through one 10 Mbit/s "
             "drop-tail bottleneck (50 packets), 30 ms base RTT; goodput over the second half. "
             "RFC 6356 wants the coupled ones at about one TCP flow (cc-bottleneck's band "
             "0.7..1.3), uncoupled cubic at about two (>= 1.5).")
    L.append("")
    rows = []
    for cc in VT_CCS:
        rs = vt[cc]
        rt, m = spread([r["ratio"] for r in rs])
        mp, _ = spread([r["mp_mbps"] for r in rs])
        tc, _ = spread([r["tcp_mbps"] for r in rs])
        band = ">= 1.5" if cc == "cubic" else "0.7..1.3"
        inband = sum(1 for r in rs if r.get("pass"))
        rows.append([cc, f"{len(rs)}", rt, mp, tc, f"{inband}/{len(rs)} in {band}"])
        report["vt"][cc] = {"ratio": {"median": m, "runs": [r["ratio"] for r in rs]},
                            "seeds": [r.get("seed") for r in rs]}
    table(L, ["controller", "runs ok", "MPTCP/TCP", "MPTCP Mbit/s", "TCP Mbit/s", "band"], rows)

    # --- 1b. balance congestion in virtual time ------------------------------------
    vtb = vt_runs(os.path.join(root, "vt-balance"), "virtual time balance", failures, "path0_mbps")
    if any(vtb.values()):
        L.append(f"## 1b. Balance congestion, virtual time (cc-bottleneck --balance, "
                 f"{meta.get('vt_seconds', 120)} s, seeds 1..N)")
        L.append("")
        L.append("As 1, but the MPTCP connection's path 1 has a 10 Mbit/s bottleneck of its own; "
                 "the TCP flow shares only path 0.  RFC 6356 goal 3 wants the coupled ones to move "
                 "most of their traffic to the free path (cc-bottleneck: at most 4 Mbit/s on the "
                 "shared one; uncoupled cubic takes about half of it, 5) and all to fill the free "
                 "one (>= 8).")
        L.append("")
        rows = []
        for cc in VT_CCS:
            rs = vtb[cc]
            sh, m = spread([r["path0_mbps"] for r in rs])
            fr, _ = spread([r["path1_mbps"] for r in rs])
            tc, _ = spread([r["tcp_mbps"] for r in rs])
            ok = sum(1 for r in rs if r.get("pass"))
            rows.append([cc, f"{len(rs)}", sh, fr, tc, f"{ok}/{len(rs)}"])
            report["vt-balance"][cc] = {"shared_mbps": {"median": m, "runs": [r["path0_mbps"] for r in rs]},
                                        "seeds": [r.get("seed") for r in rs]}
        table(L, ["controller", "runs ok", "MPTCP on the shared path", "MPTCP on the free path",
                  "TCP Mbit/s", "pass"], rows)

    # --- 2. do no harm in namespaces (drop-tail, then CoDel) ---------------------
    def row_results(d, what):
        """A row's runs and the window statistics of those that verified; the
        others are listed as failures."""
        runs, ok = runs_of(d), []
        for r in runs:
            st, why = window_stats(os.path.join(d, r), T, W)
            if st is None:
                failures.append(f"{what} {r}: {why}")
                continue
            ok.append(st)
        return runs, ok

    def harm_section(exp, title, text):
        res = {}
        d0 = os.path.join(root, exp)
        if not os.path.isdir(d0):
            return res
        L.append(title)
        L.append("")
        L.append(text)
        L.append("")
        rows = []
        report[exp] = {}
        for row in ROWS:
            runs, ok = row_results(os.path.join(d0, row), f"{exp} {LABEL[row]}")
            if not runs:
                continue
            ratios = [s["mbps"]["mptcp"] / s["mbps"]["tcp"] if s["mbps"].get("tcp") else None for s in ok]
            whole = [s["whole_mbps"]["mptcp"] / s["whole_mbps"]["tcp"]
                     if s["whole_mbps"].get("tcp") and s["whole_mbps"].get("mptcp") is not None else None
                     for s in ok]
            shares = []
            for s in ok:
                tot = sum(s["acked_mbps"].get(k, 0) for k in HARM_LINKS)
                shares.append(s["acked_mbps"].get("lte", 0) / tot if tot else None)
            rt, m = spread(ratios)
            wt, _ = spread(whole)
            mp, _ = spread([s["mbps"]["mptcp"] for s in ok], 1)
            tc, _ = spread([s["mbps"]["tcp"] for s in ok], 1)
            sh, _ = spread([x * 100 if x is not None else None for x in shares], 0)
            sfs = sorted({s["subflows"].get("mptcp", 0) for s in ok})
            rows.append([LABEL[row], f"{len(ok)}/{len(runs)}", rt, wt, mp, tc, sh,
                         "/".join(str(x) for x in sfs) or "–"])
            res[row] = m
            report[exp][row] = {"ratio": {"median": m, "runs": ratios}, "ratio_whole_run": whole,
                                "mptcp_mbps": [s["mbps"]["mptcp"] for s in ok],
                                "tcp_mbps": [s["mbps"]["tcp"] for s in ok], "lte_share": shares}
        table(L, ["MPTCP sender", "runs ok", f"MPTCP/TCP {W}..{T} s", "MPTCP/TCP whole run",
                  "MPTCP Mbit/s", "TCP Mbit/s", "MPTCP % on lte", "subflows"], rows)
        return res

    harm = harm_section(
        "harm", f"## 2. Do no harm, namespaces (shared-bottleneck.yaml, {T} s uploads, goodput over {W}..{T} s)",
        "Client mp (wifi, lte) -> router r -> one 10 Mbit/s 10 ms bottleneck (100-packet drop-tail "
        "queue) -> a Linux MPTCP server, against one Linux TCP cubic flow from host tcp over the same "
        "bottleneck.  MPTCP % on lte: the MPTCP sender's acknowledged bytes on the lte access link "
        "over the window.")
    harm_codel = harm_section(
        "harm-codel", f"## 2b. Do no harm with CoDel at the bottleneck ({T} s uploads, goodput over {W}..{T} s)",
        "The same topology with CoDel (5 ms target, 100 ms interval) on the bottleneck's queue "
        "(limit 100 packets).  With the drop-tail queue the kernel's two subflows take more of the "
        "losses than the TCP flow; CoDel's drops follow each flow's share of the queue.")
    # --- 3. balance congestion ---------------------------------------------------
    bal = {}
    L.append(f"## 3. Balance congestion, namespaces (congestion-balance.yaml, {T} s uploads, "
             f"goodput over {W}..{T} s)")
    L.append("")
    L.append("Client m -> ra -> bottleneck a (10 Mbit/s) -> server k, and m -> rb -> bottleneck b "
             "(10 Mbit/s) -> k; two Linux TCP cubic flows from host t share bottleneck a.  A "
             "connection that balances congestion leaves a to the TCP flows (their sum -> 10 "
             "Mbit/s) and fills b; an uncoupled one takes about a third of a (TCP sum about 6.7).")
    L.append("")
    rows = []
    for row in ROWS:
        runs, ok = row_results(os.path.join(root, "balance", row), f"balance {LABEL[row]}")
        if not runs:
            continue
        tcp = [s["mbps"]["tcp1"] + s["mbps"]["tcp2"] for s in ok]
        pa = [s["acked_mbps"].get("ma", 0) for s in ok]
        pb = [s["acked_mbps"].get("mb", 0) for s in ok]
        mp = [s["mbps"]["mptcp"] for s in ok]
        cells = [LABEL[row], f"{len(ok)}/{len(runs)}"]
        js = {}
        for k, xs in (("tcp_sum_mbps", tcp), ("mptcp_path_a_mbps", pa), ("mptcp_path_b_mbps", pb),
                      ("mptcp_mbps", mp)):
            text, m = spread(xs, 1)
            cells.append(text)
            js[k] = {"median": m, "runs": xs}
        rows.append(cells)
        bal[row] = {k: v["median"] for k, v in js.items()}
        report["balance"][row] = js
    table(L, ["MPTCP sender", "runs ok", "TCP flows' sum Mbit/s (path a)", "MPTCP on path a",
              "MPTCP on path b (free)", "MPTCP goodput"], rows)

    # --- plots --------------------------------------------------------------------
    dat = os.path.join(root, "ratio.dat")
    with open(dat, "w") as f:
        x = 0
        for cc in VT_CCS:
            xs = report["vt"][cc]["ratio"]["runs"]
            if xs:
                f.write(f"{x} \"virtual {cc}\" {statistics.median(xs)} {min(xs)} {max(xs)}\n")
                x += 1
        for exp, tag in (("harm", "drop-tail"), ("harm-codel", "CoDel")):
            for row in ROWS:
                xs = [r for r in report.get(exp, {}).get(row, {}).get("ratio", {}).get("runs", []) if r is not None]
                if xs:
                    f.write(f"{x} \"{tag} {SHORT[row]}\" {statistics.median(xs)} {min(xs)} {max(xs)}\n")
                    x += 1
    gnuplot(root, "ratio.png", [
        "set title 'do no harm: MPTCP / TCP goodput at a shared bottleneck (median, min-max; virtual time, then namespaces)'",
        "set style fill solid 0.5", "set boxwidth 0.6", "set yrange [0:*]", "set xtics rotate by -40",
        "set ylabel 'MPTCP / TCP'", "set grid y", "unset key",
        "plot 1 lc rgb 'gray' dt 2, 2 lc rgb 'gray' dt 2, "
        f"'{dat}' using 1:3:xtic(2) with boxes, '' using 1:3:4:5 with yerrorbars pt 0 lc rgb 'black'"],
        L, "do-no-harm ratios")
    dat = os.path.join(root, "balance.dat")
    with open(dat, "w") as f:
        for x, row in enumerate(r for r in ROWS if r in bal):
            b = bal[row]
            f.write(f"{x} \"{LABEL[row].split(' (')[0]}\" {b['tcp_sum_mbps']} {b['mptcp_path_a_mbps']} "
                    f"{b['mptcp_path_b_mbps']}\n")
    if bal:
        gnuplot(root, "balance.png", [
            "set title 'balance congestion: medians, Mbit/s'", "set style data histogram",
            "set style histogram clustered gap 1", "set style fill solid 0.6", "set yrange [0:12]",
            "set ylabel 'Mbit/s'", "set grid y", "set key top right",
            f"plot '{dat}' using 3:xtic(2) title 'TCP flows (path a)', '' using 4 title 'MPTCP path a', "
            "'' using 5 title 'MPTCP path b'"], L, "balance congestion")

    # --- against the papers ------------------------------------------------------
    L.append("## Against the papers")
    L.append("")

    def fmt(x):
        return "–" if x is None else f"{x:.2f}"

    def verdict(ok):
        return "no result" if ok is None else ("matches" if ok else "**does not match**")

    vtm = {cc: report["vt"][cc]["ratio"]["median"] for cc in VT_CCS}
    claims = []
    for cc in ("lia", "olia", "balia"):
        v, h = vtm.get(cc), harm.get("mpt-" + cc)
        okv = None if v is None else 0.7 <= v <= 1.3
        okh = None if h is None else 0.7 <= h <= 1.3
        claims.append((f"RFC 6356 goal 2 (do no harm) for {cc}: a two-subflow connection takes "
                       "about one TCP flow's share (0.7..1.3)",
                       f"virtual time {fmt(v)} ({verdict(okv)}); namespaces vs Linux TCP {fmt(h)} ({verdict(okh)})"))
    for row, what in (("mpt-cubic", "libmpt's uncoupled cubic"), ("kernel", "Linux's MPTCP (uncoupled)")):
        h = harm.get(row)
        v = vtm.get("cubic") if row == "mpt-cubic" else None
        ok = None if h is None else h >= 1.5
        claims.append((f"{what}: two uncoupled subflows take about two TCP shares (>= 1.5), the "
                       "harm RFC 6356 sets out to prevent",
                       (f"virtual time {fmt(v)}; " if v is not None else "") + f"namespaces {fmt(h)} ({verdict(ok)})"))
    for res, where in ((harm, "drop-tail"), (harm_codel, "CoDel")):
        lia_h, ker_h, cub_h = res.get("mpt-lia"), res.get("kernel"), res.get("mpt-cubic")
        if lia_h is not None and ker_h is not None:
            claims.append((f"Linux's MPTCP (uncoupled) above libmpt's lia at the shared bottleneck ({where})",
                           f"{fmt(ker_h)} vs {fmt(lia_h)} ({verdict(ker_h > lia_h)})"))
        if where == "CoDel":
            for row in ("mpt-lia", "mpt-cubic", "kernel"):
                h = res.get(row)
                if h is None:
                    continue
                want = (0.7 <= h <= 1.3) if row == "mpt-lia" else h >= 1.5
                claims.append((f"{LABEL[row]} with CoDel: " + ("about one TCP share (0.7..1.3)" if row == "mpt-lia"
                                                                else "about two TCP shares (>= 1.5)"),
                               f"{fmt(h)} ({verdict(want)})"))

    def tcpsum(row):
        return bal.get(row, {}).get("tcp_sum_mbps")

    def pa(row):
        return bal.get(row, {}).get("mptcp_path_a_mbps")

    for cc in ("lia", "olia", "balia"):
        t, c = tcpsum("mpt-" + cc), tcpsum("mpt-cubic")
        ok = None if t is None or c is None else t > c
        claims.append((f"RFC 6356 goal 3 (balance congestion) for {cc}: the TCP flows on the shared "
                       "path get more than against uncoupled cubic",
                       f"TCP sum {fmt(t)} vs {fmt(c)} Mbit/s ({verdict(ok)})"))
    vbm = {cc: report["vt-balance"].get(cc, {}).get("shared_mbps", {}).get("median") for cc in VT_CCS}
    for cc in ("lia", "olia", "balia"):
        v, c = vbm.get(cc), vbm.get("cubic")
        ok = None if v is None or c is None else v < c
        claims.append((f"RFC 6356 goal 3 (balance congestion) for {cc}, virtual time: less on the "
                       "shared path than uncoupled cubic",
                       f"{fmt(v)} vs {fmt(c)} Mbit/s ({verdict(ok)})"))
    v_o, v_l = vbm.get("olia"), vbm.get("lia")
    if v_o is not None and v_l is not None:
        claims.append(("Khalili et al.: OLIA moves more traffic off the congested path than LIA "
                       "(virtual time)",
                       f"shared path olia {fmt(v_o)} vs lia {fmt(v_l)} Mbit/s ({verdict(v_o <= v_l)})"))
    t_o, t_l = tcpsum("mpt-olia"), tcpsum("mpt-lia")
    ok = None if t_o is None or t_l is None else t_o >= t_l
    claims.append(("Khalili et al. (CoNEXT 2012, ToN 2013): OLIA is Pareto-optimal and moves more "
                   "traffic off a congested path than LIA, so the TCP flows get at least as much as "
                   "with LIA",
                   f"TCP sum olia {fmt(t_o)} vs lia {fmt(t_l)} Mbit/s; MPTCP on path a olia "
                   f"{fmt(pa('mpt-olia'))} vs lia {fmt(pa('mpt-lia'))} ({verdict(ok)})"))
    t_b = tcpsum("mpt-balia")
    ok = None
    if None not in (t_b, t_o, t_l):
        ok = min(t_o, t_l) - 0.3 <= t_b <= max(t_o, t_l) + 0.3
    claims.append(("Peng et al. (ToN 2016): BALIA sits between LIA and OLIA in friendliness to "
                   "the TCP flows (here within 0.3 Mbit/s of the range they span)",
                   f"TCP sum balia {fmt(t_b)} vs lia {fmt(t_l)}, olia {fmt(t_o)} ({verdict(ok)})"))
    for row in ROWS:
        b = bal.get(row, {}).get("mptcp_path_b_mbps")
        if b is None:
            continue
        claims.append((f"{LABEL[row]} fills the free path b (>= 8 of 10 Mbit/s)",
                       f"{fmt(b)} Mbit/s ({verdict(b >= 8)})"))
    table(L, ["expectation", "measured (medians)"], [[a, b] for a, b in claims])
    report["claims"] = [{"expectation": a, "measured": b} for a, b in claims]

    if failures:
        L.append("Failed runs: " + "; ".join(failures) + ".")
        L.append("")
    with open(os.path.join(root, "report.md"), "w") as f:
        f.write("\n".join(L))
    with open(os.path.join(root, "report.json"), "w") as f:
        json.dump(report, f, indent=1)
    print("\n".join(L))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print("usage: bench/cc_report.py DIR", file=sys.stderr)
        sys.exit(2)
    main(sys.argv[1])
