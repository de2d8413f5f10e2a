#!/bin/bash
# replay.sh: run the fuzz targets' seed corpora (and kept crash inputs)
# through the replay builds of the targets, so `make check` catches a
# regression without clang or libFuzzer.
set -eu

: "${top_srcdir:?run from make check, or set top_srcdir}"
: "${top_builddir:?run from make check, or set top_builddir}"

rc=0
"$top_builddir/tests/fuzz/replay-config" "$top_srcdir/tests/fuzz/corpus/config" || rc=1
"$top_builddir/tests/fuzz/replay-connect" "$top_srcdir/tests/fuzz/corpus/connect" || rc=1
"$top_builddir/tests/fuzz/replay-frame" "$top_srcdir/tests/fuzz/corpus/frame" || rc=1
"$top_builddir/tests/fuzz/replay-manifest" "$top_srcdir/tests/fuzz/corpus/manifest" || rc=1
"$top_builddir/tests/fuzz/replay-cron" "$top_srcdir/tests/fuzz/corpus/cron" || rc=1
"$top_builddir/tests/fuzz/replay-cel" "$top_srcdir/tests/fuzz/corpus/cel" || rc=1
"$top_builddir/tests/fuzz/replay-webhook" "$top_srcdir/tests/fuzz/corpus/webhook" || rc=1
"$top_builddir/tests/fuzz/replay-http-head" "$top_srcdir/tests/fuzz/corpus/http-head" || rc=1
exit "$rc"
