#!/bin/sh
# Runs every test binary given, shows their CMocka output, and ends with one
# line "N passed, N failed" over all of them. A binary that dies without a
# CMocka summary (a crash) counts as one failure. Exit status 1 on any failure.
# TEST_RUNNER, when set, prefixes each binary (qemu-aarch64 for a cross build).
passed=0
failed=0
for t in "$@"; do
    out=$($TEST_RUNNER "$t" 2>&1)
    rc=$?
    printf '%s\n' "$out"
    p=$(printf '%s\n' "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' | awk '{s+=$1} END {print s+0}')
    f=$(printf '%s\n' "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' | awk '{s+=$1} END {print s+0}')
    passed=$((passed + p))
    failed=$((failed + f))
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        echo "$t: exited with status $rc without a CMocka failure summary"
        failed=$((failed + 1))
    fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
