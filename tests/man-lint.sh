#!/bin/bash
# man-lint.sh: the man pages must be clean under mandoc's linter.
#
# Lints the pages the build generated in $top_builddir/man (placeholders
# already substituted). When a page has not been built, it is substituted
# here from its .in template the way Makefile.am does, with the default
# prefix. Any message at warning level or above, or a non-zero exit from
# mandoc, fails the test.
set -eu

: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${top_builddir:=$top_srcdir}"

if ! command -v mandoc >/dev/null 2>&1; then
	echo "man-lint: SKIP: mandoc is not installed"
	exit 77
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ak-man-lint.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

subst() {
	sed -e 's|@sbindir@|/usr/local/sbin|g' \
	    -e 's|@bindir@|/usr/local/bin|g' \
	    -e 's|@sysconfdir@|/usr/local/etc|g' \
	    -e 's|@localstatedir@|/usr/local/var|g' \
	    -e 's|@runstatedir@|/usr/local/var/run|g' \
	    -e 's|@libexecdir@|/usr/local/libexec|g' \
	    -e 's|@VERSION@|0.0.0|g' "$1"
}

failed=0
checked=0
for template in "$top_srcdir"/man/*.[0-9].in; do
	[ -e "$template" ] || continue
	name=$(basename "$template" .in)
	page="$top_builddir/man/$name"
	if [ ! -f "$page" ]; then
		page="$tmp/$name"
		subst "$template" > "$page"
	fi
	checked=$((checked + 1))

	if grep -n '@[A-Za-z_]*@' "$page" > "$tmp/placeholders"; then
		echo "man-lint: FAIL: $name has unsubstituted placeholders:"
		sed 's/^/    /' "$tmp/placeholders"
		failed=1
	fi

	rc=0
	mandoc -T lint -W warning "$page" > "$tmp/lint" 2>&1 || rc=$?
	if [ "$rc" != 0 ] || [ -s "$tmp/lint" ]; then
		echo "man-lint: FAIL: $name (mandoc exit $rc):"
		sed 's/^/    /' "$tmp/lint"
		failed=1
	else
		echo "man-lint: $name: ok"
	fi
done

if [ "$checked" = 0 ]; then
	echo "man-lint: FAIL: no man page templates in $top_srcdir/man"
	exit 1
fi
exit "$failed"
