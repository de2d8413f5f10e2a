#!/bin/sh
# short.sh: the short tier of the crash torture (docs/RELIABILITY.md), run
# by make check: tests/torture/run with its defaults (waves of 8 durable
# sessions of 8 activities, 14 kills of autokittehd and of its workers,
# each failpoint first when the build has them, then SIGSTOP of a worker
# past workers.session_timeout). AK_TORTURE_SEED=N replays a seed.
: "${top_srcdir:?top_srcdir must be set (run through make check)}"
: "${top_builddir:?top_builddir must be set (run through make check)}"

if [ ! -x /usr/bin/python3 ]; then
	echo "SKIP: short.sh: /usr/bin/python3 is not installed"
	exit 77
fi
exec /usr/bin/python3 "$top_srcdir/tests/torture/run" \
    --builddir "$top_builddir" --max-minutes 5 \
    ${AK_TORTURE_SEED:+--seed "$AK_TORTURE_SEED"}
