#!/usr/bin/env python3
"""tests/bench/report.py - the benchmark report from a results file.

    report.py RESULTS [--doc FILE] [--no-doc] [--targets FILE]
              [--plots DIR] [--no-plots] [--out FILE]

RESULTS is the results.txt that tests/bench/run.sh collects: "# key: value"
lines about the run, then for each part a "# part: NAME" line followed by
the part's RESULT and NOTE lines:

    RESULT bench=<part> workload=<id> impl=<id> metric=<id> value=<number>
           unit=<unit> better=<higher|lower> runs=<N>     (one line)
    NOTE <free text>

The report is one Markdown block: the run (date, mode, machine, commit),
one table per bench with a row per workload/metric/impl and, for each
egressjail implementation, its ratio to every peer measured on the same
workload and metric (oriented so that > 1 means egressjail is ahead), the
targets of tests/bench/targets.txt with met / NOT met / no data, and the
notes.  It replaces what lies between "<!-- bench:begin -->" and
"<!-- bench:end -->" in the doc (docs/BENCHMARKS.md; the prose around the
markers is kept), is written to --out (default: report.md next to
RESULTS), and the targets table is printed on stdout.  Plots (gnuplot,
tests/bench/plot.gp) go to --plots (default: docs/bench next to the doc).

Only the standard library; no timing of its own.
"""

import argparse
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile

BEGIN = "<!-- bench:begin -->"
END = "<!-- bench:end -->"

# Implementations that are egressjail's own; every other impl is a peer.
EJ_IMPLS = ("connectd", "connectd-log", "connectd-squid", "dohd", "netjaild",
            "libegress")

NUM = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
RESULT_RE = re.compile(
    r"^RESULT bench=(?P<bench>\S+) workload=(?P<workload>\S+) "
    r"impl=(?P<impl>\S+) metric=(?P<metric>\S+) value=(?P<value>" + NUM +
    r") unit=(?P<unit>\S+) better=(?P<better>higher|lower) "
    r"runs=(?P<runs>\d+)$")
HEADER_RE = re.compile(r"^#\s*([A-Za-z][\w-]*):\s*(.*?)\s*$")
OPS = {
    ">=": lambda a, b: a >= b,
    ">": lambda a, b: a > b,
    "<=": lambda a, b: a <= b,
    "<": lambda a, b: a < b,
}


def is_ej(impl):
    return impl in EJ_IMPLS


class Results:
    """Everything read from one results file."""

    def __init__(self):
        self.meta = {}          # run-wide "# key: value"
        self.parts = []         # part names in order
        self.rows = []          # dicts, in order of appearance
        self.index = {}         # (workload, metric, impl) -> row
        self.notes = []         # (part, text)
        self.problems = []      # lines that did not parse, duplicates

    def add(self, row, lineno):
        key = (row["workload"], row["metric"], row["impl"])
        if key in self.index:
            self.problems.append(
                "line %d: second RESULT for workload=%s metric=%s impl=%s "
                "(the later one is used)" % ((lineno,) + key))
            old = self.index[key]
            self.rows[self.rows.index(old)] = row
        else:
            self.rows.append(row)
        self.index[key] = row

    def value(self, workload, metric, impl):
        row = self.index.get((workload, metric, impl))
        return None if row is None else row["value"]


def parse_results(path):
    res = Results()
    part = ""
    with open(path, encoding="utf-8", errors="replace") as f:
        for lineno, line in enumerate(f, 1):
            line = line.rstrip("\n").rstrip("\r")
            if not line.strip():
                continue
            if line.startswith("#"):
                m = HEADER_RE.match(line)
                if m is None:
                    continue
                key, val = m.group(1).lower(), m.group(2)
                if key == "part":
                    part = val
                    if val not in res.parts:
                        res.parts.append(val)
                else:
                    res.meta[key] = val
                continue
            if line.startswith("NOTE "):
                res.notes.append((part, line[5:].strip()))
                continue
            if line.startswith("RESULT "):
                m = RESULT_RE.match(line.strip())
                if m is None:
                    res.problems.append("line %d: malformed RESULT: %s" %
                                        (lineno, line.strip()))
                    continue
                row = m.groupdict()
                row["value"] = float(row["value"])
                row["runs"] = int(row["runs"])
                row["part"] = part
                if not math.isfinite(row["value"]):
                    res.problems.append("line %d: value is not a finite "
                                        "number" % lineno)
                    continue
                res.add(row, lineno)
                continue
            res.problems.append("line %d: neither RESULT nor NOTE: %s" %
                                (lineno, line.strip()))
    return res


def ratio(ej_value, peer_value, better):
    """egressjail's advantage over a peer: > 1 means egressjail is ahead.

    higher is better: ej / peer; lower is better: peer / ej.  None when the
    ratio has no meaning (a zero or negative denominator)."""
    if better == "higher":
        num, den = ej_value, peer_value
    else:
        num, den = peer_value, ej_value
    if den <= 0 or num < 0:
        return None
    return num / den


def fmt(v):
    """A figure for a table: enough digits to compare, no more."""
    if v is None:
        return "-"
    a = abs(v)
    if a >= 1000:
        return "{:,.0f}".format(v)
    if a >= 100:
        return "{:.1f}".format(v)
    if a >= 1:
        return "{:.2f}".format(v)
    if a == 0:
        return "0"
    return "{:.3g}".format(v)


def fmt_ratio(r):
    return "n/a" if r is None else "{:.2f}".format(r)


def cell(text):
    return str(text).replace("|", "\\|").replace("\n", " ")


def grouped(res):
    """bench -> [(workload, metric, [rows ej first, then peers])]."""
    benches = {}
    order = []
    for row in res.rows:
        b = row["bench"]
        if b not in benches:
            benches[b] = {}
            order.append(b)
        key = (row["workload"], row["metric"])
        benches[b].setdefault(key, []).append(row)
    first = ("connectd", "dohd", "netjaild", "libegress")
    order = [b for b in first if b in order] + \
        [b for b in order if b not in first]
    out = []
    for b in order:
        groups = []
        for (w, m), rows in benches[b].items():
            rows = [r for r in rows if is_ej(r["impl"])] + \
                   [r for r in rows if not is_ej(r["impl"])]
            groups.append((w, m, rows))
        out.append((b, groups))
    return out


def peers_of(res, workload, metric):
    return [r for r in res.rows
            if r["workload"] == workload and r["metric"] == metric and
            not is_ej(r["impl"])]


def results_tables(res):
    lines = []
    for bench, groups in grouped(res):
        lines.append("### %s" % bench)
        lines.append("")
        lines.append("| workload | metric | impl | value | runs | "
                     "ratio to each peer (> 1: egressjail ahead) |")
        lines.append("|---|---|---|---:|---:|---|")
        for workload, metric, rows in groups:
            peers = peers_of(res, workload, metric)
            for r in rows:
                if is_ej(r["impl"]):
                    parts = []
                    for p in peers:
                        x = ratio(r["value"], p["value"], r["better"])
                        parts.append("**%s** × %s" % (fmt_ratio(x),
                                                      p["impl"]))
                    rel = ", ".join(parts) if parts else "no peer"
                    impl = "**%s**" % r["impl"]
                else:
                    rel = ""
                    impl = r["impl"]
                lines.append("| %s | %s | %s | %s %s | %d | %s |" % (
                    cell(workload), cell(metric), cell(impl),
                    fmt(r["value"]), cell(r["unit"]), r["runs"], rel))
        lines.append("")
    return lines


class Target:
    def __init__(self, lineno, workload, metric, impl, op, factor, ref):
        self.lineno = lineno
        self.workload = workload
        self.metric = metric
        self.impl = impl
        self.op = op
        self.factor = factor
        self.ref = ref


def parse_targets(path):
    """Targets and a list of problems with the file."""
    targets, problems = [], []
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            w = line.split()
            if len(w) != 6:
                problems.append("%s:%d: want 6 fields (workload metric impl "
                                "op factor reference), got %d" %
                                (path, lineno, len(w)))
                continue
            if w[3] not in OPS:
                problems.append("%s:%d: unknown operator %r" %
                                (path, lineno, w[3]))
                continue
            try:
                factor = float(w[4])
            except ValueError:
                problems.append("%s:%d: factor %r is not a number" %
                                (path, lineno, w[4]))
                continue
            targets.append(Target(lineno, w[0], w[1], w[2], w[3], factor,
                                  w[5]))
    return targets, problems


def check_target(res, t):
    """(status, value, bound, reference text, actual factor or None)."""
    row = res.index.get((t.workload, t.metric, t.impl))
    value = row["value"] if row else None
    shown = "%s %s" % (fmt(value), row["unit"]) if row else None
    if t.ref == "abs":
        bound, reftext, actual = t.factor, "absolute", None
    else:
        ref = res.index.get((t.workload, t.metric, t.ref))
        if ref is None:
            return ("no data", shown, None, "%s: no figure" % t.ref, None)
        bound = t.factor * ref["value"]
        reftext = "%s %s %s" % (t.ref, fmt(ref["value"]), ref["unit"])
        actual = value / ref["value"] if (value is not None and
                                          ref["value"] > 0) else None
    if value is None:
        return ("no data", None, bound, reftext, None)
    status = "met" if OPS[t.op](value, bound) else "NOT met"
    return (status, shown, bound, reftext, actual)


def targets_table(res, targets):
    lines = ["| workload | metric | impl | target | value | reference | "
             "value ÷ reference | status |",
             "|---|---|---|---|---:|---|---:|---|"]
    counts = {"met": 0, "NOT met": 0, "no data": 0}
    for t in targets:
        status, value, bound, reftext, actual = check_target(res, t)
        counts[status] += 1
        if t.ref == "abs":
            want = "%s %g" % (t.op, t.factor)
        else:
            want = "%s %g × %s" % (t.op, t.factor, t.ref)
        st = {"met": "met", "NOT met": "**NOT met**",
              "no data": "no data"}[status]
        lines.append("| %s | %s | %s | %s | %s | %s | %s | %s |" % (
            cell(t.workload), cell(t.metric), cell(t.impl), cell(want),
            cell(value if value is not None else "-"), cell(reftext),
            "-" if actual is None else "%.3f" % actual, st))
    return lines, counts


def targets_text(res, targets):
    """The targets table for a terminal."""
    out = []
    for t in targets:
        status, value, bound, reftext, actual = check_target(res, t)
        want = ("%s %g" % (t.op, t.factor) if t.ref == "abs" else
                "%s %g x %s" % (t.op, t.factor, t.ref))
        out.append((t.workload, t.metric, t.impl, want,
                    value if value is not None else "-",
                    "-" if actual is None else "%.3f" % actual, status))
    head = ("workload", "metric", "impl", "target", "value", "ratio",
            "status")
    widths = [max(len(str(r[i])) for r in out + [head])
              for i in range(len(head))]
    lines = ["  ".join(str(c).ljust(widths[i]) for i, c in enumerate(r))
             .rstrip() for r in [head] + out]
    return lines


# ---------------------------------------------------------------- plots

# What each plot shows: (file, [(workload, metric, column title)])
PLOT_DATA = {
    "throughput": [("relay-1hop", "throughput", "one hop"),
                   ("relay-2hop", "throughput", "two hops")],
    "ttfb": [("connrate-c32", "ttfb_p50", "c32 p50"),
             ("connrate-c32", "ttfb_p99", "c32 p99"),
             ("connrate-c64", "ttfb_p50", "c64 p50"),
             ("connrate-c64", "ttfb_p99", "c64 p99")],
    "dnslat": [("dns-cached", "lat_avg", "cached"),
               ("dns-denied", "lat_avg", "denied"),
               ("dns-miss", "lat_avg", "miss (DoH)")],
    "rate": [("connrate-c32", "rate", "32 clients"),
             ("connrate-c64", "rate", "64 clients")],
    "qps": [("dns-cached", "qps", "cached"),
            ("dns-denied", "qps", "denied"),
            ("dns-miss", "qps", "miss (DoH)")],
}


def plot_table(res, cols):
    """(columns with any figure, rows (impl, [value or None])) for the impls
    with any figure, egressjail first; None when there is nothing."""
    cols = [c for c in cols
            if any(r["workload"] == c[0] and r["metric"] == c[1]
                   for r in res.rows)]
    impls = []
    for r in res.rows:
        for w, m, _ in cols:
            if r["workload"] == w and r["metric"] == m and \
                    r["impl"] not in impls:
                impls.append(r["impl"])
    if not impls:
        return None
    impls = [i for i in impls if is_ej(i)] + [i for i in impls
                                                if not is_ej(i)]
    return cols, [(i, [res.value(w, m, i) for w, m, _ in cols])
                  for i in impls]


def write_dat(path, cols, table):
    with open(path, "w", encoding="utf-8") as f:
        f.write("impl " + " ".join('"%s"' % c[2] for c in cols) + "\n")
        for impl, vals in table:
            f.write('"%s" ' % impl + " ".join(
                "-" if v is None else repr(v) for v in vals) + "\n")


def make_plots(res, plotdir, script, mode):
    """Run gnuplot for the plots that have data; return [(file, alt)]."""
    gp = shutil.which("gnuplot")
    if gp is None:
        print("report: gnuplot not found, no plots", file=sys.stderr)
        return []
    if not os.path.exists(script):
        print("report: %s missing, no plots" % script, file=sys.stderr)
        return []
    os.makedirs(plotdir, exist_ok=True)
    made = []
    with tempfile.TemporaryDirectory(prefix="benchplot.") as tmp:
        have = {}
        for name, cols in PLOT_DATA.items():
            got = plot_table(res, cols)
            if got:
                write_dat(os.path.join(tmp, name + ".dat"), got[0], got[1])
                have[name] = got
        rig = res.value("rig", "throughput", "iperf3")
        jobs = []
        if "throughput" in have:
            jobs.append(("throughput", "throughput.png",
                         "Relay throughput, one bulk stream"))
        if "ttfb" in have or "dnslat" in have:
            jobs.append(("latency", "latency.png",
                         "Latency: time to first byte through a CONNECT "
                         "tunnel; DNS answer time"))
        if "rate" in have or "qps" in have:
            jobs.append(("rates", "rates.png",
                         "Connection rate and DNS queries per second"))
        for plot, png, alt in jobs:
            out = os.path.join(plotdir, png)
            var = ("plot='%s'; datadir='%s'; out='%s'; rig=%s; mode='%s'" % (
                plot, tmp, out, repr(rig) if rig else "0",
                mode.replace("'", "")))
            for name in ("throughput", "ttfb", "dnslat", "rate", "qps"):
                var += "; has_%s=%d" % (name, 1 if name in have else 0)
                got = have.get(name)
                var += "; log_%s=%d" % (name, wants_log(got[1] if got
                                                         else None))
                var += "; ncol_%s=%d" % (name, len(got[0]) if got else 0)
                var += "; max_%s=%r" % (name, max(
                    [v for _, vs in got[1] for v in vs if v is not None] +
                    [0.0]) if got else 0.0)
            p = subprocess.run([gp, "-e", var, script],
                               stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
            if p.returncode != 0 or not os.path.exists(out):
                print("report: gnuplot failed for %s:\n%s" %
                      (png, p.stderr), file=sys.stderr)
                continue
            made.append((png, alt))
    return made


def wants_log(table):
    """A log scale when the bars span more than 30x (p99 next to p50)."""
    if not table:
        return 0
    vals = [v for _, vs in table for v in vs if v is not None and v > 0]
    if len(vals) < 2:
        return 0
    return 1 if max(vals) / min(vals) > 30 else 0


# ---------------------------------------------------------------- report

def run_line(res):
    m = res.meta
    bits = []
    date = m.get("date", "unknown date")
    mode = m.get("mode", "")
    bits.append("**Run:** %s%s" % (date, " (%s)" % mode if mode else ""))
    machine = ", ".join(x for x in (
        "%s cores" % m["nproc"] if "nproc" in m else "",
        "kernel %s" % m["kernel"] if "kernel" in m else "",
        m.get("cpu", ""),
        "load average %s at start" % m["load"] if "load" in m else "")
        if x)
    if machine:
        bits.append("**Machine:** %s" % machine)
    if "commit" in m:
        bits.append("**Commit:** %s" % m["commit"])
    if "build" in m:
        bits.append("**Build:** %s" % m["build"])
    return bits


def build_block(res, targets, tproblems, plots, relpng,
                tname="tests/bench/targets.txt"):
    out = ["<!-- generated by tests/bench/report.py from %s; edit the prose "
           "outside the markers, not this block -->" %
           res.meta.get("source", "results.txt"), ""]
    for b in run_line(res):
        out.append(b + "  ")
    out.append("")
    if "quick" in res.meta.get("mode", ""):
        out.append("> This table comes from a `--quick` run (short runs, "
                   "fewer rounds): indicative only.")
        out.append("")
    out.append("Ratios: for each egressjail implementation (in bold), "
               "egressjail ÷ peer where higher is better and peer ÷ "
               "egressjail where lower is better, so **a ratio above 1 "
               "always means egressjail is ahead**.  Values are medians "
               "over the rounds (`runs`).")
    out.append("")
    out.append("## Results")
    out.append("")
    if res.rows:
        out.extend(results_tables(res))
    else:
        out.append("No RESULT lines in this run.")
        out.append("")
    if plots:
        out.append("## Plots")
        out.append("")
        for png, alt in plots:
            out.append("![%s](%s)" % (alt, relpng + "/" + png))
            out.append("")
    out.append("## Targets")
    out.append("")
    if targets:
        lines, counts = targets_table(res, targets)
        out.append("From `%s`: the value must satisfy "
                   "*value op factor × reference* (`absolute`: the factor "
                   "is the bound).  A missing figure is *no data*, never "
                   "met.  %d met, %d NOT met, %d no data." % (
                       tname, counts["met"], counts["NOT met"],
                       counts["no data"]))
        out.append("")
        out.extend(lines)
        out.append("")
    else:
        out.append("No targets file.")
        out.append("")
    for p in tproblems:
        out.append("- targets: %s" % p)
    if tproblems:
        out.append("")
    if res.notes or res.problems:
        out.append("## Notes from the run")
        out.append("")
        for part, text in res.notes:
            out.append("- %s%s" % ("[%s] " % part if part else "",
                                   cell(text)))
        for p in res.problems:
            out.append("- results file: %s" % cell(p))
        out.append("")
    return out


def splice_doc(path, block):
    """Replace the text between the markers; keep everything else."""
    text = ""
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            text = f.read()
    body = BEGIN + "\n" + "\n".join(block).rstrip("\n") + "\n" + END
    b, e = text.find(BEGIN), text.find(END)
    if b >= 0 and e > b:
        text = text[:b] + body + text[e + len(END):]
    else:
        if b >= 0 or e >= 0:
            print("report: %s: markers out of order, appending a new block"
                  % path, file=sys.stderr)
        text = text.rstrip("\n") + ("\n\n" if text else "") + body + "\n"
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


def main(argv):
    here = os.path.dirname(os.path.abspath(__file__))
    src = os.path.dirname(os.path.dirname(here))
    ap = argparse.ArgumentParser(description="benchmark report")
    ap.add_argument("results")
    ap.add_argument("--doc", default=os.path.join(src, "docs",
                                                  "BENCHMARKS.md"))
    ap.add_argument("--no-doc", action="store_true",
                    help="leave the doc alone")
    ap.add_argument("--targets", default=os.path.join(here, "targets.txt"))
    ap.add_argument("--plots", help="directory for the PNGs "
                    "(default: bench/ next to the doc)")
    ap.add_argument("--no-plots", action="store_true")
    ap.add_argument("--plot-script", default=os.path.join(here, "plot.gp"))
    ap.add_argument("--out", help="the report alone (default: report.md "
                    "next to RESULTS)")
    a = ap.parse_args(argv)

    res = parse_results(a.results)
    res.meta.setdefault("source", os.path.basename(
        os.path.dirname(os.path.abspath(a.results))) + "/" +
        os.path.basename(a.results))
    targets, tproblems = [], []
    if a.targets and os.path.exists(a.targets):
        targets, tproblems = parse_targets(a.targets)
    elif a.targets:
        tproblems.append("%s not found" % a.targets)

    docdir = os.path.dirname(os.path.abspath(a.doc))
    plotdir = a.plots or os.path.join(docdir, "bench")
    relpng = os.path.relpath(os.path.abspath(plotdir), docdir)
    plots = [] if a.no_plots else make_plots(res, plotdir, a.plot_script,
                                             res.meta.get("mode", ""))
    tname = os.path.relpath(os.path.abspath(a.targets), src) \
        if a.targets else ""
    out = a.out or os.path.join(os.path.dirname(os.path.abspath(
        a.results)), "report.md")
    # image paths relative to the file that shows them
    outpng = os.path.relpath(os.path.abspath(plotdir),
                             os.path.dirname(os.path.abspath(out)))
    with open(out, "w", encoding="utf-8") as f:
        f.write("\n".join(build_block(res, targets, tproblems, plots,
                                       outpng, tname)) + "\n")
    if not a.no_doc:
        splice_doc(a.doc, build_block(res, targets, tproblems, plots,
                                      relpng, tname))

    print("results: %d figures from %d part(s); report: %s%s" % (
        len(res.rows), len(res.parts), out,
        "" if a.no_doc else "; doc: " + a.doc))
    for p in res.problems + tproblems:
        print("warning: " + p)
    if targets:
        print("targets (%s):" % a.targets)
        for line in targets_text(res, targets):
            print("  " + line)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
