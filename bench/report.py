#!/usr/bin/env python3
"""Render a bench/suite.sh results tree into report.md and report.json.

    bench/report.py DIR

DIR holds meta.json, orchestrator/orchestrator.json and cases/<case>/case.json,
cases/<case>/<pairing>/run-<i>/ (mpnet run directories: summary.json and
apps/*.json) with run-<i>.rc (mpnet's exit status).  A run is ok when mpnet
exited 0, the app's bytes are verified and both mpt-perf processes exited 0;
anything else is a failed run, listed as such (never dropped).
"""
import json
import os
import re
import statistics
import sys
from report_common import load

PAIR_LABEL = {
    "mpt-kernel": "libmpt -> kernel",
    "kernel-mpt": "kernel -> libmpt",
    "kernel-kernel": "kernel -> kernel",
    "mpt-mpt": "libmpt -> libmpt",
    "tcp-best": "TCP, best single path",
}
HO_FIELDS = ["interruption_ms", "detection_ms", "t90_ms", "deficit_bytes"]


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def spread(xs):
    xs = [x for x in xs if x is not None]
    return (min(xs), max(xs)) if xs else None


def fmt(x, nd=1):
    if x is None:
        return "–"
    if isinstance(x, float) and nd == 0:
        return str(int(round(x)))
    return f"{x:.{nd}f}"


def fmt_ms(xs, nd=0):
    m, s = med(xs), spread(xs)
    out = fmt(m, nd)
    if s and s[0] != s[1]:
        out += f" ({fmt(s[0], nd)}–{fmt(s[1], nd)})"
    nulls = sum(1 for x in xs if x is None)
    if nulls:
        out += f" [{nulls} null]"
    return out


def one_run(d, rc_path):
    """Numbers of one mpnet run directory."""
    r = {"dir": d, "ok": False, "why": None}
    try:
        r["rc"] = int(open(rc_path).read().strip())
    except (OSError, ValueError):
        r["rc"] = None
    s = load(os.path.join(d, "summary.json"))
    if not s or not s.get("apps"):
        r["why"] = f"no summary.json (mpnet exit {r['rc']})"
        return r
    a = s["apps"][0]
    ex = a.get("exit") or {}
    r.update(
        goodput_mbps=a.get("goodput_mbps"),
        seconds=a.get("seconds"),
        verified=a.get("verified"),
        bytes=a.get("bytes"),
        status=a.get("status"),
        exit=ex,
        handover=a.get("handover") or [],
        direction=a.get("direction", "upload"),
    )
    why = []
    if a.get("status") not in (None, "ok"):
        why.append(str(a.get("status")))
    if r["rc"] != 0:
        why.append(f"mpnet exit {r['rc']}")
    if a.get("verified") is not True:
        why.append("not verified")
    for k in ("client", "server"):
        if k in ex and ex[k] != 0:
            why.append(f"{k} exit {ex.get(k)}")
    r["ok"] = not why
    r["why"] = ", ".join(why) or None
    # CPU and RSS from both mpt-perf outputs; the sender is the client on upload
    cj = load(os.path.join(d, a.get("client_json") or "apps/x"), {}) or {}
    sj = load(os.path.join(d, a.get("server_json") or "apps/x"), {}) or {}
    snd, rcv = (cj, sj) if r["direction"] == "upload" else (sj, cj)
    gb = (a.get("bytes") or 0) / 1e9

    def cpu(j):
        c = j.get("cpu") or {}
        if "user_s" not in c or gb <= 0:
            return None
        return (c["user_s"] + c.get("sys_s", 0)) / gb

    r["cpu_snd_s_per_gb"] = cpu(snd)
    r["cpu_rcv_s_per_gb"] = cpu(rcv)
    r["maxrss_kb_client"] = (cj.get("cpu") or {}).get("maxrss_kb")
    r["maxrss_kb_server"] = (sj.get("cpu") or {}).get("maxrss_kb")
    return r


def runs_of(pdir):
    out = []
    if not os.path.isdir(pdir):
        return out
    names = [n for n in os.listdir(pdir) if re.fullmatch(r"run-\d+", n)]
    for n in sorted(names, key=lambda n: int(n[4:])):
        out.append(one_run(os.path.join(pdir, n), os.path.join(pdir, n + ".rc")))
    return out


def pairing_stats(runs):
    ok = [r for r in runs if r["ok"]]
    g = [r["goodput_mbps"] for r in ok]
    st = {
        "runs": len(runs),
        "ok": len(ok),
        "failed": [{"run": os.path.basename(r["dir"]), "why": r["why"]} for r in runs if not r["ok"]],
        "goodput_mbps": {"median": med(g), "min": (spread(g) or [None])[0], "max": (spread(g) or [None, None])[1], "runs": [r.get("goodput_mbps") for r in runs]},
        "seconds": med([r.get("seconds") for r in ok]),
        "cpu_snd_s_per_gb": med([r["cpu_snd_s_per_gb"] for r in ok]),
        "cpu_rcv_s_per_gb": med([r["cpu_rcv_s_per_gb"] for r in ok]),
        "maxrss_kb_client": max([r["maxrss_kb_client"] for r in runs if r.get("maxrss_kb_client")] or [0]) or None,
        "maxrss_kb_server": max([r["maxrss_kb_server"] for r in runs if r.get("maxrss_kb_server")] or [0]) or None,
    }
    # handover: the first record of every run that has one (failed runs too:
    # their numbers are what happened), per field
    hos = [r["handover"][0] for r in runs if r.get("handover")]
    if hos:
        st["handover"] = {
            "event": "%s %s" % (hos[0]["event"]["action"], hos[0]["event"]["link"]),
            "records": len(hos),
        }
        for k in HO_FIELDS:
            xs = [h.get(k) for h in hos]
            st["handover"][k] = {"median": med(xs), "runs": xs}
        # the goodput in the second after the path came back / the surviving
        # paths' just before it (results/README.md, handover[].restore)
        xs = [(h.get("restore") or {}).get("ratio") for h in hos]
        st["handover"]["restore_ratio"] = {"median": med(xs), "runs": xs}
    return st


def render(root):
    meta = load(os.path.join(root, "meta.json"), {})
    orch = load(os.path.join(root, "orchestrator", "orchestrator.json"))
    pairings = meta.get("pairings") or list(PAIR_LABEL)
    cdir = os.path.join(root, "cases")
    case_ids = sorted(n for n in os.listdir(cdir) if os.path.isfile(os.path.join(cdir, n, "case.json"))) if os.path.isdir(cdir) else []
    cases = []
    for cid in case_ids:
        c = load(os.path.join(cdir, cid, "case.json"))
        c["pairings"] = {}
        for p in pairings:
            c["pairings"][p] = pairing_stats(runs_of(os.path.join(cdir, cid, p)))
        kk = c["pairings"].get("kernel-kernel", {}).get("goodput_mbps", {}).get("median")
        for p, st in c["pairings"].items():
            gm = st["goodput_mbps"]["median"]
            st["ratio_vs_kernel_kernel"] = (gm / kk) if (gm is not None and kk) else None
        cases.append(c)
    report = {"meta": meta, "orchestrator": orch, "cases": cases}
    with open(os.path.join(root, "report.json"), "w") as f:
        json.dump(report, f, indent=1)
        f.write("\n")

    L = []
    mode = "quick" if meta.get("quick") else "full"
    L.append(f"# mpnet bench suite ({mode}), {meta.get('started', '?')}")
    L.append("")
    L.append(
        f"{meta.get('cores', '?')} cores, kernel {meta.get('kernel', '?')}, commit {meta.get('commit', '?')}; "
        f"{meta.get('runs', '?')} run(s) per case and pairing (fewer where a case says so); transfers of "
        f"{(meta.get('durations') or {}).get('steady', '?')} (handover cases "
        f"{(meta.get('durations') or {}).get('handover', '?')}); "
        f"**measured total time {fmt(meta.get('total_s'), 0)} s**."
    )
    L.append("")
    L.append("Notes:")
    L.append("")
    L.append(
        "- **libmpt is multipath MPTCP** (MP_CAPABLE, MP_JOIN from the case's endpoints, "
        "ADD_ADDR, a lowest-RTT scheduler with backups, reinjection): its pairings open "
        "the same subflows as the kernel's; without DSS checksums a subflow's segments carry "
        "their whole map (up to 64 KiB), so its bursts leave as GSO super-frames."
    )
    L.append(
        "- Every case pins both ends to CUBIC (`congestion: cubic` on the hosts; this "
        "machine's kernel default is BBR), so the pairings compare like for like."
    )
    L.append(
        "- Baseline: plain Linux TCP (`stack: tcp` both ends) on a topology with only the best "
        "access link (the template's `# alt` lines dropped; events on the remaining link kept)."
    )
    L.append(
        "- Goodput: median over the ok runs, (min–max) when they differ; ratio: median / median of "
        "kernel -> kernel. CPU: user + sys seconds of each mpt-perf process per GB (1e9 bytes) "
        "delivered, medians; for the kernel stacks that excludes the kernel's softirq work done "
        "outside the process. RSS: peak `maxrss` of the mpt-perf process (libmpt's stack lives in "
        "it), the maximum over runs. Duration: the app's `seconds` (connect to verdict), median; "
        "a time-limited transfer that lasts well past its time is a sender draining a large send "
        "buffer at the path's rate."
    )
    L.append(
        "- A run **fails** when mpnet exits non-zero, the bytes are not verified or an mpt-perf "
        "exits non-zero (a transfer still running 5 s after its time is killed: timed out); "
        "failed runs are counted in the `ok` column and listed under the table."
    )
    for s in meta.get("skipped") or []:
        L.append(f"- **Skipped** `{s['id']}` ({s['title']}): {s['reason']}.")
    L.append("")

    if orch:
        def med_s(xs, unit):
            m = med(xs)
            nd = 3 if unit == "s" else 1
            return (f"{fmt(m, nd)} {unit}", " ".join(fmt(float(x), nd) for x in xs))

        L.append("## Orchestrator (as bench/run.sh)")
        L.append("")
        L.append(f"| what | median of {orch.get('runs')} | runs |")
        L.append("|---|---|---|")
        for label, key, unit in (
            ("`mpnet up`, 64-host chain (63 links), cold", "up64_cold_s", "s"),
            ("`mpnet up`, same, right after a `down`", "up64_after_down_s", "s"),
            ("`mpnet down`, same", "down64_s", "s"),
            ("kernel <-> kernel MPTCP, two-path.yaml (50 + 20 Mbit/s, 64 MiB)", "two_path_kernel_mbps", "Mbit/s"),
        ):
            m, runs = med_s(orch.get(key) or [], unit)
            L.append(f"| {label} | {m} | {runs} |")
        L.append("")

    if cases:
        L.append("## Goodput overview (Mbit/s, median; ratio to kernel -> kernel)")
        L.append("")
        L.append("| case | " + " | ".join(PAIR_LABEL.get(p, p) for p in pairings) + " |")
        L.append("|---|" + "---|" * len(pairings))
        for c in cases:
            cells = []
            for p in pairings:
                st = c["pairings"][p]
                if st["ok"] == 0:
                    cells.append("FAILED" if st["runs"] else "not run")
                    continue
                cell = fmt(st["goodput_mbps"]["median"])
                if st["ratio_vs_kernel_kernel"] is not None and p != "kernel-kernel":
                    cell += f" ({st['ratio_vs_kernel_kernel']:.2f}x)"
                if st["ok"] < st["runs"]:
                    cell += f" [{st['runs'] - st['ok']} failed]"
                cells.append(cell)
            L.append(f"| [{c['id']}](#{c['id']}) | " + " | ".join(cells) + " |")
        L.append("")

    for c in cases:
        L.append(f"## {c['id']}")
        L.append("")
        extra = ""
        if c.get("kind") == "handover":
            extra = f"; event at {c.get('event_at')}, path back at {c.get('restore_at')}"
        runs = f", {c['runs']} run(s)" if c.get("runs") else ""
        L.append(f"{c['title']}; transfer {c.get('time')}{runs}{extra}. Topologies: " + ", ".join(f"[{p}](cases/{c['id']}/{p}.yaml)" for p in pairings) + ".")
        L.append("")
        ho = c.get("kind") in ("handover", "trace")
        hdr = ["pairing", "ok", "goodput Mbit/s (min–max)", "vs k->k", "duration s", "snd CPU s/GB", "rcv CPU s/GB", "peak RSS client/server MiB"]
        if ho:
            hdr += ["handover", "interruption ms", "detection ms", "t90 ms", "deficit kB", "after restore x"]
        hdr.append("plot")
        L.append("| " + " | ".join(hdr) + " |")
        L.append("|" + "---|" * len(hdr))
        failures = []
        for p in pairings:
            st = c["pairings"][p]
            g = st["goodput_mbps"]
            if st["ok"] == 0:
                gp = "**FAILED**" if st["runs"] else "not run"
            else:
                gp = fmt(g["median"])
                if g["min"] is not None and g["min"] != g["max"]:
                    gp += f" ({fmt(g['min'])}–{fmt(g['max'])})"
            ratio = f"{st['ratio_vs_kernel_kernel']:.2f}" if st["ratio_vs_kernel_kernel"] is not None else "–"
            rss = "/".join(fmt(x / 1024.0) if x else "–" for x in (st["maxrss_kb_client"], st["maxrss_kb_server"]))
            row = [PAIR_LABEL.get(p, p), f"{st['ok']}/{st['runs']}", gp, ratio, fmt(st["seconds"]),
                   fmt(st["cpu_snd_s_per_gb"], 2), fmt(st["cpu_rcv_s_per_gb"], 2), rss]
            if ho:
                h = st.get("handover")
                if h:
                    row += [h["event"]] + [fmt_ms(h[k]["runs"]) for k in HO_FIELDS[:3]]
                    row.append(fmt_ms([x / 1000.0 if x is not None else None for x in h["deficit_bytes"]["runs"]]))
                    rr = [x for x in (h.get("restore_ratio") or {}).get("runs", []) if x is not None]
                    row.append(f"{med(rr):.2f} ({min(rr):.2f}–{max(rr):.2f})" if rr else "–")
                else:
                    row += ["none"] + ["–"] * 5
            plot = os.path.join("cases", c["id"], p, "run-1", "plot.png")
            row.append(f"[plot]({plot})" if os.path.exists(os.path.join(root, plot)) else "–")
            L.append("| " + " | ".join(row) + " |")
            for fl in st["failed"]:
                failures.append(f"{PAIR_LABEL.get(p, p)} {fl['run']}: {fl['why']}")
        L.append("")
        if failures:
            L.append("Failed runs: " + "; ".join(failures) + ".")
            L.append("")
    with open(os.path.join(root, "report.md"), "w") as f:
        f.write("\n".join(L))
    return report


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: bench/report.py DIR")
    render(sys.argv[1])
