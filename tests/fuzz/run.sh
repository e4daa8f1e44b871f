#!/bin/sh
# Runs every fuzz target built by `make fuzz` (build-fuzz/fuzz/fuzz_*) for
# SECONDS seconds each from its committed seeds (tests/fuzz/corpus/NAME/,
# copied: the repository is never written) with its dictionary
# (tests/fuzz/NAME.dict) when there is one. One target at a time. Exits 1
# if any target finds a crash, a leak, a timeout or an excessive
# allocation; prints one line per target with its executions and coverage.
#
#   sh tests/fuzz/run.sh 20            # what CI runs
#   sh tests/fuzz/run.sh 3600 wav      # a campaign of one target
set -u
seconds=${1:-20}
shift 2>/dev/null || true
cd "$(dirname "$0")/../.."
work=$(mktemp -d /tmp/meld-fuzz-XXXXXX)
status=0
targets=${*:-$(ls build-fuzz/fuzz 2>/dev/null | sed -n 's/^fuzz_//p')}
[ -n "$targets" ] || { echo "no fuzz targets: run make fuzz first"; exit 1; }
for name in $targets; do
    bin=build-fuzz/fuzz/fuzz_$name
    mkdir -p "$work/$name" "$work/$name.artifacts"
    [ -d tests/fuzz/corpus/$name ] && cp -R tests/fuzz/corpus/$name/. "$work/$name/"
    dict=
    [ -f tests/fuzz/$name.dict ] && dict=-dict=tests/fuzz/$name.dict
    "$bin" $dict -max_total_time="$seconds" -timeout=10 -rss_limit_mb=1024 -max_len=16384 -print_final_stats=1 \
        -artifact_prefix="$work/$name.artifacts/" "$work/$name" >"$work/$name.log" 2>&1
    rc=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/$name.log")
    cov=$(grep -o 'cov: [0-9]* ft: [0-9]*' "$work/$name.log" | tail -1)
    if [ $rc -ne 0 ]; then
        echo "fuzz_$name: FAILED (exit $rc) after ${runs:-?} runs; $cov"
        grep -E 'ERROR|SUMMARY|Test unit written' "$work/$name.log" | head -5
        status=1
    else
        echo "fuzz_$name: ${runs:-?} runs in ${seconds} s, $cov, no crash"
    fi
done
[ $status -eq 0 ] && rm -rf "$work" || echo "logs and inputs kept in $work"
exit $status
