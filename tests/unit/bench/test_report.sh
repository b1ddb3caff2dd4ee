#!/bin/sh
# tests/unit/bench/test_report.sh SRCDIR - runs test_report.py (a .sh, so
# test.sh's valgrind pass leaves this Python test alone).
exec python3 "$(dirname "$0")/test_report.py" "${1:-$(dirname "$0")/../../..}"
