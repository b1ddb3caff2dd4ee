#!/usr/bin/env python3
"""Unit test of tests/bench/report.py against fabricated results
(tests/bench/fixtures/): ratios and their direction, the targets (met, NOT
met, no data, bounds), malformed lines, and the doc splice that keeps the
prose.  No timing anywhere.

    test_report.py [SRCDIR]
"""

import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

SRC = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else
                      os.path.join(os.path.dirname(__file__), "..", "..",
                                   ".."))
BENCH = os.path.join(SRC, "tests", "bench")
REPORT = os.path.join(BENCH, "report.py")
RESULTS = os.path.join(BENCH, "fixtures", "results-sample.txt")
TARGETS = os.path.join(BENCH, "fixtures", "targets-sample.txt")

spec = importlib.util.spec_from_file_location("report", REPORT)
report = importlib.util.module_from_spec(spec)
spec.loader.exec_module(report)


def run_report(*args):
    p = subprocess.run([sys.executable, REPORT] + list(args),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True)
    if p.returncode != 0:
        raise AssertionError("report.py failed: %s" % p.stderr)
    return p.stdout


class Ratios(unittest.TestCase):
    def test_higher_is_better(self):
        self.assertAlmostEqual(report.ratio(1200, 800, "higher"), 1.5)
        self.assertAlmostEqual(report.ratio(1200, 2400, "higher"), 0.5)

    def test_lower_is_better(self):
        # 4 ms against 20 ms: egressjail five times better, so 5, not 0.2
        self.assertAlmostEqual(report.ratio(4, 20, "lower"), 5.0)
        self.assertAlmostEqual(report.ratio(4, 3, "lower"), 0.75)

    def test_zero_denominator(self):
        self.assertIsNone(report.ratio(5, 0, "higher"))
        self.assertIsNone(report.ratio(0, 5, "lower"))

    def test_egressjail_impls(self):
        for i in ("connectd", "connectd-log", "connectd-squid", "dohd",
                  "netjaild", "libegress"):
            self.assertTrue(report.is_ej(i), i)
        for i in ("direct", "squid", "tinyproxy", "unbound", "dnsmasq",
                  "iperf3", "haproxy"):
            self.assertFalse(report.is_ej(i), i)


class Parse(unittest.TestCase):
    def setUp(self):
        self.res = report.parse_results(RESULTS)

    def test_meta_and_parts(self):
        self.assertEqual(self.res.meta["nproc"], "2")
        self.assertEqual(self.res.meta["cpu"], "Test CPU")
        self.assertEqual(self.res.parts,
                         ["connectd", "dohd", "netjaild", "rig"])

    def test_values(self):
        self.assertEqual(self.res.value("relay-1hop", "throughput",
                                        "connectd"), 1200.0)
        self.assertEqual(self.res.value("idle-9000", "rss_per_tunnel",
                                        "connectd"), 12.5)
        self.assertIsNone(self.res.value("connrate-c64", "rate",
                                         "connectd"))

    def test_malformed_lines_are_reported_not_used(self):
        bad = [p for p in self.res.problems if "malformed RESULT" in p]
        self.assertEqual(len(bad), 2)
        # value=oops and better=sideways did not replace the good figure
        self.assertEqual(self.res.value("relay-1hop", "throughput",
                                        "connectd"), 1200.0)

    def test_notes_keep_their_part(self):
        self.assertIn(("dohd", "dohd: dnsperf was the limit"),
                      self.res.notes)

    def test_duplicate_later_wins(self):
        with tempfile.NamedTemporaryFile("w", suffix=".txt",
                                         delete=False) as f:
            f.write("RESULT bench=a workload=w impl=x metric=m value=1 "
                    "unit=u better=higher runs=1\n"
                    "RESULT bench=a workload=w impl=x metric=m value=2 "
                    "unit=u better=higher runs=1\n"
                    "garbage line\n")
        try:
            res = report.parse_results(f.name)
        finally:
            os.unlink(f.name)
        self.assertEqual(res.value("w", "m", "x"), 2.0)
        self.assertEqual(len(res.rows), 1)
        self.assertEqual(len(res.problems), 2)


class Targets(unittest.TestCase):
    def setUp(self):
        self.res = report.parse_results(RESULTS)
        self.targets, problems = report.parse_targets(TARGETS)
        self.assertEqual(problems, [])

    def status(self, workload, metric, impl, ref):
        for t in self.targets:
            if (t.workload, t.metric, t.impl, t.ref) == (workload, metric,
                                                         impl, ref):
                return report.check_target(self.res, t)[0]
        raise AssertionError("no such target")

    def test_met_and_not_met(self):
        # 1200 >= 0.6 * 2400 = 1440? no
        self.assertEqual(self.status("relay-1hop", "throughput",
                                     "connectd", "direct"), "NOT met")
        # 1200 >= 1.25 * 800 = 1000
        self.assertEqual(self.status("relay-1hop", "throughput",
                                     "connectd", "squid"), "met")

    def test_lower_is_better_targets(self):
        self.assertEqual(self.status("connrate-c32", "ttfb_p99", "connectd",
                                     "tinyproxy"), "met")       # 4 < 20
        self.assertEqual(self.status("connrate-c32", "ttfb_p99", "connectd",
                                     "squid"), "NOT met")       # 4 < 3
        self.assertEqual(self.status("idle-9000", "rss_per_tunnel",
                                     "connectd", "abs"), "met")  # 12.5

    def test_egressjail_as_reference(self):
        # connectd-log 8500 >= 0.9 * connectd 10000 = 9000? no
        self.assertEqual(self.status("connrate-c32", "rate", "connectd-log",
                                     "connectd"), "NOT met")

    def test_absolute(self):
        self.assertEqual(self.status("dns-miss", "qps", "dohd", "abs"),
                         "NOT met")                             # 4000
        self.assertEqual(self.status("install-10k", "time", "netjaild",
                                     "abs"), "met")             # 150

    def test_bounds(self):
        # equal is enough for >=, not for <
        self.assertEqual(self.status("relay-2hop", "throughput",
                                     "connectd-squid", "squid"), "met")
        self.assertEqual(self.status("connrate-c32", "ttfb_p50", "connectd",
                                     "tinyproxy"), "NOT met")

    def test_missing_is_no_data(self):
        # neither figure
        self.assertEqual(self.status("connrate-c64", "rate", "connectd",
                                     "tinyproxy"), "no data")
        # dohd has a dns-miss figure, unbound has none
        self.assertEqual(self.status("dns-miss", "qps", "dohd", "unbound"),
                         "no data")

    def test_empty_results_are_all_no_data(self):
        with tempfile.NamedTemporaryFile("w", suffix=".txt",
                                         delete=False) as f:
            f.write("# date: now\n")
        try:
            res = report.parse_results(f.name)
        finally:
            os.unlink(f.name)
        for t in self.targets:
            self.assertEqual(report.check_target(res, t)[0], "no data")

    def test_bad_target_lines(self):
        with tempfile.NamedTemporaryFile("w", suffix=".txt",
                                         delete=False) as f:
            f.write("a b c => 1 abs\na b c >= x abs\na b c >= 1\n"
                    "a b c >= 1 abs # fine\n")
        try:
            targets, problems = report.parse_targets(f.name)
        finally:
            os.unlink(f.name)
        self.assertEqual(len(targets), 1)
        self.assertEqual(len(problems), 3)

    def test_shipped_targets_parse(self):
        targets, problems = report.parse_targets(os.path.join(
            BENCH, "targets.txt"))
        self.assertEqual(problems, [])
        self.assertGreaterEqual(len(targets), 16)


class Doc(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="test_report.")
        self.doc = os.path.join(self.tmp, "B.md")
        self.out = os.path.join(self.tmp, "report.md")

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def generate(self, *extra):
        return run_report(RESULTS, "--doc", self.doc, "--targets", TARGETS,
                          "--out", self.out, "--no-plots", *extra)

    def read(self):
        with open(self.doc, encoding="utf-8") as f:
            return f.read()

    def test_splice_keeps_prose_and_is_idempotent(self):
        with open(self.doc, "w", encoding="utf-8") as f:
            f.write("# Title\n\nbefore\n\n%s\nstale table\n%s\n\nafter\n" %
                    (report.BEGIN, report.END))
        self.generate()
        first = self.read()
        self.assertTrue(first.startswith("# Title\n\nbefore\n\n" +
                                         report.BEGIN))
        self.assertTrue(first.endswith(report.END + "\n\nafter\n"))
        self.assertNotIn("stale table", first)
        self.assertEqual(first.count(report.BEGIN), 1)
        self.generate()
        self.assertEqual(self.read(), first)

    def test_no_markers_appends_a_block(self):
        with open(self.doc, "w", encoding="utf-8") as f:
            f.write("# Only prose\n")
        self.generate()
        text = self.read()
        self.assertTrue(text.startswith("# Only prose\n\n" + report.BEGIN))
        self.assertTrue(text.rstrip().endswith(report.END))

    def test_table_rows(self):
        self.generate()
        text = self.read()
        lines = text.splitlines()

        def row(workload, metric, impl):
            for ln in lines:
                cells = [c.strip() for c in ln.strip("|").split("|")]
                if cells[:3] == [workload, metric, impl]:
                    return cells
            raise AssertionError("no row %s %s %s" % (workload, metric,
                                                      impl))
        r = row("relay-1hop", "throughput", "**connectd**")
        self.assertEqual(r[3], "1,200 MiB/s")
        self.assertEqual(r[5], "**1.50** × squid, **2.00** × tinyproxy, "
                               "**0.50** × direct")
        # lower is better: peer / egressjail
        r = row("connrate-c32", "ttfb_p99", "**connectd**")
        self.assertEqual(r[5], "**5.00** × tinyproxy, **0.75** × squid")
        # an egressjail impl is never a peer of another one
        r = row("connrate-c32", "rate", "**connectd-log**")
        self.assertNotIn("connectd", r[5].replace("connectd-log", ""))
        # peers get no ratio; an egressjail impl alone says so
        self.assertEqual(row("relay-1hop", "throughput", "squid")[5], "")
        self.assertEqual(row("dns-miss", "qps", "**dohd**")[5], "no peer")
        # the run and the machine are in the header
        self.assertIn("2026-01-01T00:00:00Z", text)
        self.assertIn("kernel 6.1.0-test", text)
        self.assertIn("0000000 (fixture)", text)
        self.assertIn("above 1 always means egressjail is ahead", text)

    def test_targets_in_doc_and_stdout(self):
        out = self.generate()
        text = self.read()
        self.assertIn("5 met, 5 NOT met, 2 no data", text)
        self.assertIn("From `tests/bench/fixtures/targets-sample.txt`", text)
        self.assertIn("| dns-miss | qps | dohd | >= 1 × unbound | 4,000 q/s "
                      "| unbound: no figure | - | no data |", text)
        self.assertIn("| relay-1hop | throughput | connectd | >= 0.6 × "
                      "direct | 1,200 MiB/s | direct 2,400 MiB/s | 0.500 | "
                      "**NOT met** |", text)
        relay = [ln for ln in out.splitlines()
                 if ln.startswith("  relay-1hop")]
        self.assertEqual(len(relay), 2)
        self.assertTrue(relay[0].endswith("  NOT met"), relay[0])
        self.assertTrue(relay[1].endswith("  met"), relay[1])
        self.assertIn("NOT met", out)
        self.assertIn("no data", out)
        with open(self.out, encoding="utf-8") as f:
            self.assertIn("## Targets", f.read())

    def test_no_doc_leaves_doc_alone(self):
        with open(self.doc, "w", encoding="utf-8") as f:
            f.write("untouched\n")
        self.generate("--no-doc")
        self.assertEqual(self.read(), "untouched\n")
        self.assertTrue(os.path.exists(self.out))

    @unittest.skipIf(shutil.which("gnuplot") is None, "no gnuplot")
    def test_plots(self):
        plots = os.path.join(self.tmp, "png")
        run_report(RESULTS, "--doc", self.doc, "--targets", TARGETS,
                   "--out", self.out, "--plots", plots)
        for name in ("throughput.png", "latency.png", "rates.png"):
            with open(os.path.join(plots, name), "rb") as f:
                self.assertEqual(f.read(8), b"\x89PNG\r\n\x1a\n", name)
        self.assertIn("![Relay throughput, one bulk stream]"
                      "(png/throughput.png)", self.read())


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0]], verbosity=2)
