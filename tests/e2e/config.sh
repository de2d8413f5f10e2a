#!/usr/bin/env bash
# config.sh: options, configuration errors (exit 78, FILE:LINE: reason),
# and the data directory's safety checks.
. "$top_srcdir/tests/e2e/lib.sh"

pick_port
write_config

# -- options --
run "$AUTOKITTEHD" -n -f "$CONF"
assert_status 0 "$RC" "autokittehd -n with a good config exits 0"
assert_eq "$CONF: configuration OK" "$OUT" "autokittehd -n says the config is OK"
run "$AUTOKITTEHD" -n -f "$top_srcdir/etc/autokitteh.conf"
assert_status 0 "$RC" "the shipped etc/autokitteh.conf passes -n"
run "$AUTOKITTEHD" -V
assert_status 0 "$RC" "autokittehd -V exits 0"
assert_match "$OUT" '^autokittehd [0-9]+\.[0-9]+\.[0-9]+' "autokittehd -V prints the version"
run "$AUTOKITTEHD" -h
assert_status 0 "$RC" "autokittehd -h exits 0"
assert_match "$OUT" '^usage: autokittehd ' "autokittehd -h prints the usage"
run "$AUTOKITTEHD" --help
assert_status 0 "$RC" "autokittehd --help exits 0"
assert_match "$OUT" '^usage: autokittehd ' "autokittehd --help prints the usage"
assert_contains "$OUT" "--config=file" "the usage names the long options"
run "$AUTOKITTEHD" --version
assert_match "$OUT" '^autokittehd [0-9]+\.[0-9]+\.[0-9]+' "autokittehd --version prints the version"
run "$AUTOKITTEHD" --check --config "$CONF"
assert_status 0 "$RC" "autokittehd --check --config FILE exits 0"
assert_eq "$CONF: configuration OK" "$OUT" "--check --config reads that file"
run "$AUTOKITTEHD" --check --config="$CONF"
assert_status 0 "$RC" "--config=FILE works too"
run "$AUTOKITTEHD" --bogus
assert_status 64 "$RC" "an unknown long option exits 64"
assert_contains "$ERR" "usage: autokittehd" "an unknown long option prints the usage"
run "$AUTOKITTEHD" -Q
assert_status 64 "$RC" "an unknown option exits 64"
assert_contains "$ERR" "usage: autokittehd" "an unknown option prints the usage"
run "$AUTOKITTEHD" -n -f "$CONF" extra
assert_status 64 "$RC" "an extra argument exits 64"
assert_contains "$ERR" 'unexpected argument "extra"' "an extra argument is named"

# -- configuration errors: exit 78 and FILE:LINE: reason --
# bad_config NAME EXPECTED-STDERR < config text
bad_config() {
	local f=$T/$1.conf

	cat >"$f"
	run "$AUTOKITTEHD" -n -f "$f"
	[ "$RC" = 78 ] || fail "$1: autokittehd -n exited $RC, not 78; stderr:
$ERR"
	ok "$1: autokittehd -n exits 78"
	assert_eq "$f:$2" "$ERR" "$1: message"
}

bad_config unknown-section '4: unknown section [bogus]' <<EOF
# comment
[server]
listen = 127.0.0.1:$PORT
[bogus]
EOF
bad_config unknown-key '3: unknown key "colour" in section [server]' <<EOF
[server]
data_dir = $DATA
colour = blue
EOF
bad_config bad-size '5: invalid value "lots" for http.max_body_size: expected a size such as 512KiB or 16MiB' <<EOF
[server]
data_dir = $DATA

[http]
max_body_size = lots
EOF
bad_config bad-duration '2: invalid value "soon" for http.request_timeout: expected a duration such as 250ms, 10s, 5m or 1h' <<EOF
[http]
request_timeout = soon
EOF
bad_config bad-enum '2: invalid value "sometimes" for store.synchronous: expected full or normal' <<EOF
[store]
synchronous = sometimes
EOF
bad_config bad-check '2: invalid value "sometimes" for store.check: expected after_crash or always' <<EOF
[store]
check = sometimes
EOF
bad_config out-of-range '3: http.max_connections = 0 is out of range: it must be between 1 and 1000000' <<EOF
[http]
# none at all?
max_connections = 0
EOF
bad_config bad-address '2: invalid value "localhost" for server.listen: expected an address such as 127.0.0.1:9980 or [::1]:9980' <<EOF
[server]
listen = localhost
EOF
bad_config relative-path '2: invalid value "data" for server.data_dir: expected an absolute path' <<EOF
[server]
data_dir = data
EOF
bad_config duplicate-key '5: duplicate key "listen" in section [server] (first set on line 2)' <<EOF
[server]
listen = 127.0.0.1:$PORT
socket = $SOCK

listen = 127.0.0.1:1
EOF
bad_config outside-section '2: key "listen" is outside any section: put it under a [section] header' <<EOF
# no section yet
listen = 127.0.0.1:$PORT
EOF
bad_config no-equals '2: expected "key = value" or "[section]", found "listen"' <<EOF
[server]
listen
EOF

missing=$T/does-not-exist.conf
run "$AUTOKITTEHD" -n -f "$missing"
assert_status 78 "$RC" "-f with a missing file exits 78"
assert_eq "$missing: cannot open the configuration file: No such file or directory" \
    "$ERR" "-f with a missing file: message"
run "$AUTOKITTEHD" -n -f "$T"
assert_status 78 "$RC" "-f with a directory exits 78"
assert_eq "$T: not a regular file" "$ERR" "-f with a directory: message"

# A daemon start (not -n) with a bad config exits 78 too, before it
# touches anything.
run timeout 10 "$AUTOKITTEHD" -d -f "$T/unknown-key.conf"
assert_status 78 "$RC" "autokittehd -d with a bad config exits 78"
assert_contains "$ERR" "$T/unknown-key.conf:3: unknown key" "autokittehd -d names FILE:LINE"
run timeout 10 "$AUTOKITTEHD" -f "$T/unknown-key.conf"
assert_status 78 "$RC" "autokittehd (detaching) with a bad config exits 78"
[ ! -e "$DATA" ] || fail "a bad config created the data directory"
ok "a bad config leaves no data directory behind"

# -- an unsafe data directory --
mkdir -p "$DATA"
chmod 0777 "$DATA"
run timeout 10 "$AUTOKITTEHD" -d -f "$CONF"
[ "$RC" != 0 ] && [ "$RC" != 124 ] ||
    fail "a world-writable data_dir: expected a refusal, got exit $RC"
ok "a world-writable data_dir: the daemon refuses to start (exit $RC)"
assert_status 1 "$RC" "a world-writable data_dir exits 1 (runtime failure)"
assert_contains "$ERR" "writable" "the message says the data_dir is writable"
assert_contains "$ERR" "chmod go-w $DATA" "the message says how to fix it"
[ ! -e "$SOCK" ] || fail "the refused daemon left a socket behind"
chmod 0770 "$DATA"
run timeout 10 "$AUTOKITTEHD" -d -f "$CONF"
assert_status 1 "$RC" "a group-writable data_dir exits 1"
assert_contains "$ERR" "writable by its group" "the message says the group can write"
chmod 0700 "$DATA"

# -- a second daemon on the same data directory --
start_daemon
first_pid=$DAEMON_PID
second_conf=$T/second.conf
port1=$PORT
sock1=$SOCK
pick_port
SOCK=$T/second.sock write_config "$second_conf"
sed -i "s|^socket = .*|socket = $T/second.sock|" "$second_conf"
PORT=$port1
run timeout 10 "$AUTOKITTEHD" -d -f "$second_conf"
assert_status 1 "$RC" "a second daemon on the same data_dir exits 1"
assert_contains "$ERR" "another autokittehd (pid $first_pid)" \
    "the message names the other autokittehd and its pid"
[ ! -e "$T/second.sock" ] || fail "the second daemon left its socket behind"
ok "the second daemon created no socket"
run ak status
assert_status 0 "$RC" "the first daemon keeps serving"
assert_contains "$OUT" "pid $first_pid," "akctl status still reaches the first daemon"
assert_eq "$first_pid" "$(head -n1 "$DATA/autokittehd.lock")" \
    "the lock file still holds the first daemon's pid"

# A second daemon on the same socket but another data_dir is refused too.
sed -e "s|^data_dir = .*|data_dir = $T/data2|" \
    -e "s|^socket = .*|socket = $sock1|" "$second_conf" >"$T/third.conf"
run timeout 10 "$AUTOKITTEHD" -d -f "$T/third.conf"
assert_status 1 "$RC" "a second daemon on the same socket exits 1"
assert_contains "$ERR" "in use by another process" "the message says the socket is in use"
[ -S "$sock1" ] || fail "the refused daemon removed the first daemon's socket"
run ak status
assert_status 0 "$RC" "the first daemon still serves after that"

stop_daemon
assert_status 0 "$STOP_STATUS" "autokittehd exits 0 on SIGTERM"
