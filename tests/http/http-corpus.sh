#!/usr/bin/env bash
# http-corpus.sh: replay the hostile-HTTP corpus (tests/http/cases, one
# case a file, driven by tests/http/driver.py over raw sockets) against a
# real autokittehd with small [http] limits. Every case must end with its
# expected 4xx (or a close) before request_timeout plus a margin, good
# requests must be served while the slow ones go on, the refused webhook
# requests must start no session, and the daemon must end healthy with no
# sanitizer report.
. "$top_srcdir/tests/e2e/lib.sh"
need_jq
PY=/usr/bin/python3
[ -x "$PY" ] || skip "$PY is not installed"

TIMEOUT=3
MAXCONN=32
CONF_EXTRA="[http]
max_body_size = 4KiB
max_header_size = 2KiB
request_timeout = ${TIMEOUT}s
max_connections = $MAXCONN"
pick_port
write_config
start_daemon

P=$T/hostile
mkdir -p "$P"
cat >"$P/autokitteh.yaml" <<'EOF'
version: v2
project:
  name: hostile
  triggers:
    - {name: hook, webhook: {}, call: program.py:on_hook}
    - {name: big, webhook: {}, is_sync: true, call: program.py:on_big}
EOF
cat >"$P/program.py" <<'EOF'
import time

import autokitteh


def on_hook(event):
    return "ok"


def on_big(event):
    # 2.5 MB in 40 chunks: the client goes away or stalls while the
    # session still streams the rest.
    chunk = "0123456789abcdef" * 4096
    for _ in range(39):
        autokitteh.http_outcome(200, chunk, more=True)
        time.sleep(0.01)
    autokitteh.http_outcome(body=chunk)
EOF
deploy "$P"
assert_status 0 "$RC" "deploy the webhook project"
hook_path=$(webhook_url hook | sed 's|^http://[^/]*||')
big_path=$(webhook_url big | sed 's|^http://[^/]*||')
assert_match "$hook_path" '^/webhooks/' "the webhook path"

"$PY" "$top_srcdir/tests/http/driver.py" --port "$PORT" --socket "$SOCK" \
    --webhook "$hook_path" --big "$big_path" --timeout "$TIMEOUT" \
    --max-connections "$MAXCONN" --accepted-file "$T/accepted" \
    "$top_srcdir/tests/http/cases/*.case" | tee "$T/tap" || true
grep -q '^1\.\.' "$T/tap" || fail "the driver did not run"
if grep -q '^not ok' "$T/tap"; then
	fail "cases failed:
$(grep '^not ok' "$T/tap")"
fi
ok "$(grep -c '^ok' "$T/tap") corpus cases passed"

# Every session of the hook trigger came from a probe that got 202 (or,
# on a machine too loaded to answer one in time, none): no refused request
# (431 with the body buffered, a smuggled request) ran.
read -r accepted unknown <"$T/accepted"
[ "$accepted" -gt 0 ] || fail "no webhook probe was accepted"
hook_sessions() {
	ak session list -j | jq '[.sessions[] |
	    select(.entrypoint.name == "on_hook")] | length'
}
enough() { test "$(hook_sessions)" -ge "$accepted"; }
wait_until 10 enough || fail "the hook trigger has $(hook_sessions) sessions, \
but $accepted webhook requests were accepted"
n=$(hook_sessions)
[ "$n" -le $(( accepted + unknown )) ] || fail "the hook trigger has $n \
sessions, but only $accepted webhook requests were accepted ($unknown \
unanswered): a refused request ran"
ok "the hook trigger ran once per accepted request ($n sessions, $accepted accepted, $unknown unanswered)"

assert_healthy "after the corpus, the daemon"
check_sanitizers
ok "no sanitizer report in the daemon log"
stop_daemon
assert_status 0 "$STOP_STATUS" "autokittehd exits 0 on SIGTERM"
