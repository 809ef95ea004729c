#!/usr/bin/env bash
# `make run`: interprets every example (each kernel, the default target and
# each scheduled target) at one set of sizes, checked against the reference,
# and prints a table: kernel, target, sizes, time, worst error ratio, result.
#
#   usage: bash tests/run/examples-table.sh ACCL
#
# Exits 1 when any run fails. The full suite is tests/run/correctness.sh.
set -u
if [ $# -ne 1 ]; then
    echo "usage: $0 ACCL" >&2
    exit 2
fi
exec bash "$(dirname "$0")/correctness.sh" --table "$1"
