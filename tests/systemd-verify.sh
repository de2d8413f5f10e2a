#!/bin/bash
# systemd-verify.sh: check the service files with systemd's own parsers.
#
# The unit is the one the build generated from etc/autokitteh.service.in.
# ExecStart names the installed daemon, which need not exist during
# `make check`, so a temporary copy points it at the built autokittehd (or at
# a stub) before `systemd-analyze verify` reads it. Any message about our unit
# fails the test, warnings included: systemd only warns about a misspelt key
# and then ignores it, which would silently drop a hardening setting.
# Lines about other units on this machine (verify loads multi-user.target and
# friends) are not ours to fix; they are shown but do not fail the test.
#
# The sysusers.d and tmpfiles.d snippets are parsed too, against an empty
# temporary root so that nothing on this machine is read or changed.
set -eu

: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${top_builddir:=$top_srcdir}"

if ! command -v systemd-analyze >/dev/null 2>&1; then
	echo "systemd-verify: SKIP: systemd-analyze is not installed"
	exit 77
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ak-systemd-verify.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
failed=0

fail() {
	echo "systemd-verify: FAIL: $*"
	failed=1
}

# ---- the service unit ----
unit_name=autokitteh.service
built="$top_builddir/etc/$unit_name"
unit="$tmp/$unit_name"
if [ -f "$built" ]; then
	cp "$built" "$unit"
else
	# Built only when configure found systemd; substitute as the build does.
	echo "systemd-verify: $built not built; substituting $top_srcdir/etc/$unit_name.in"
	sed -e 's|@sbindir@|/usr/local/sbin|g' \
	    -e 's|@sysconfdir@|/usr/local/etc|g' \
	    "$top_srcdir/etc/$unit_name.in" > "$unit"
fi

if grep -n '@[A-Za-z_]*@' "$unit"; then
	fail "$unit_name still has unsubstituted placeholders (above)"
fi
if [ "$(grep -c '^ExecStart=' "$unit")" != 1 ]; then
	fail "$unit_name must have exactly one ExecStart= line"
fi

# The executable ExecStart will name: the built daemon when its path is plain
# enough to write unquoted in a unit file, else a stub in the temporary dir.
daemon="$top_builddir/autokittehd"
case "$daemon" in
*[!A-Za-z0-9/._+-]*) daemon= ;;
esac
if [ -z "$daemon" ] || [ ! -x "$daemon" ]; then
	daemon="$tmp/autokittehd"
	printf '#!/bin/sh\nexit 0\n' > "$daemon"
	chmod 755 "$daemon"
fi
# Keep the arguments, replace the program (the first word after ExecStart=).
DAEMON="$daemon" awk '
	/^ExecStart=/ {
		sub(/^ExecStart=[^ ]*/, "ExecStart=" ENVIRON["DAEMON"])
	}
	{ print }
' "$unit" > "$unit.new"
mv "$unit.new" "$unit"

rc=0
systemd-analyze verify --man=no "$unit" > "$tmp/verify.out" 2>&1 || rc=$?

# A line is about another unit only when it starts with that unit's name or
# file path followed by a colon, that name is not ours, and the line does not
# mention our unit. Everything else,
# including lines systemd does not prefix at all, counts against us.
ours=0
unit_re='^[A-Za-z0-9@._-]+[.](service|socket|target|mount|automount|swap|path|timer|slice|scope|device)$'
while IFS= read -r line; do
	prefix=${line%%:*}
	base=${prefix##*/}
	if [ "$prefix" != "$line" ] && [ "$base" != "$unit_name" ] &&
	   [[ "$base" =~ $unit_re ]] && [[ "$line" != *"$unit_name"* ]]; then
		echo "systemd-verify: ignored (another unit): $line"
	else
		ours=1
	fi
done < "$tmp/verify.out"

if [ "$rc" != 0 ] || [ "$ours" != 0 ]; then
	fail "systemd-analyze verify $unit_name (exit $rc) said:"
	sed 's/^/    /' "$tmp/verify.out"
	echo "  the unit it checked:"
	sed 's/^/    /' "$unit"
else
	echo "systemd-verify: $unit_name: ok"
fi

# ---- sysusers.d and tmpfiles.d snippets ----
# Both tools print their findings as FILE:LINE: reason.
check_snippet() {
	local name=$1 file=$2 rc=0
	shift 2
	"$@" > "$tmp/$name.out" 2>&1 || rc=$?
	if [ "$rc" != 0 ] || grep -q -F "$file:" "$tmp/$name.out"; then
		fail "$* (exit $rc) said:"
		sed 's/^/    /' "$tmp/$name.out"
	else
		echo "systemd-verify: $(basename "$file"): ok"
	fi
}

sysusers="$top_srcdir/etc/autokitteh-sysusers.conf"
tmpfiles="$top_srcdir/etc/autokitteh-tmpfiles.conf"

if command -v systemd-sysusers >/dev/null 2>&1; then
	mkdir "$tmp/sysroot"
	check_snippet sysusers "$sysusers" \
		systemd-sysusers --dry-run --root="$tmp/sysroot" "$sysusers"
else
	echo "systemd-verify: systemd-sysusers not installed; sysusers snippet not checked"
fi

# systemd-tmpfiles has no dry run: it creates the directories under --root
# and chowns them, which needs root, and resolves the owner from the root's
# /etc/passwd, which we provide.
if ! command -v systemd-tmpfiles >/dev/null 2>&1; then
	echo "systemd-verify: systemd-tmpfiles not installed; tmpfiles snippet not checked"
elif [ "$(id -u)" != 0 ]; then
	echo "systemd-verify: not root; tmpfiles snippet not checked"
else
	mkdir -p "$tmp/tmproot/etc"
	echo 'autokitteh:x:60999:60999::/var/lib/autokitteh:/usr/sbin/nologin' \
		> "$tmp/tmproot/etc/passwd"
	echo 'autokitteh:x:60999:' > "$tmp/tmproot/etc/group"
	check_snippet tmpfiles "$tmpfiles" \
		systemd-tmpfiles --root="$tmp/tmproot" --create "$tmpfiles"
fi

exit "$failed"
