#!/usr/bin/env bash
# build-errors.sh: what akctl deploy and akctl manifest validate say when
# the code or the manifest is wrong, and redeploying over a deployment.
. "$top_srcdir/tests/e2e/lib.sh"
need_jq

start_daemon

P=$T/proj
mkdir -p "$P"
manifest() {	# NAME CALL
	cat >"$P/autokitteh.yaml" <<EOF
version: v1
project:
  name: $1
  triggers:
    - name: hook
      type: webhook
      call: $2
EOF
}

# -- a syntax error: file:line:column --
manifest synerr program.py:on_hook
cat >"$P/program.py" <<'EOF'
def on_hook(event):
    return 1


def broken(:
    pass
EOF
deploy "$P"
assert_status 1 "$RC" "deploy of a program with a syntax error exits 1"
assert_contains "$ERR" "akctl: build failed:" "deploy says the build failed"
assert_match "$ERR" '^  program\.py:5:12: invalid syntax$' \
    "the error names program.py:5:12 (line and column of the ':')"
assert_not_contains "$OUT" "deployment" "no deployment is printed"
run ak deployment list -p synerr
assert_eq "no deployments" "$OUT" "a failed build makes no deployment"

cat >"$P/program.py" <<'EOF'
def on_hook(event):
    x = [1,
         2
    return x
EOF
deploy "$P"
assert_status 1 "$RC" "deploy of an unclosed bracket exits 1"
assert_match "$ERR" "^  program\\.py:2:9: '\\[' was never closed\$" \
    "the error names program.py:2:9, the unclosed bracket"

# The error is in another file of the project than the entry point's.
cat >"$P/program.py" <<'EOF'
import helper


def on_hook(event):
    return helper.f()
EOF
printf 'def f():\n\treturn 1\n        return 2\n' >"$P/helper.py"
deploy "$P"
assert_status 1 "$RC" "deploy with a broken helper module exits 1"
assert_match "$ERR" '^  helper\.py:3:[0-9]+: .*(indent|unindent)' \
    "the error names helper.py line 3"
rm -f "$P/helper.py"

# -- a trigger that calls a function the build does not have --
manifest nofunc program.py:nope
cat >"$P/program.py" <<'EOF'
def on_hook(event):
    return 1
EOF
deploy "$P"
assert_status 1 "$RC" "deploy of a trigger calling a missing function exits 1"
assert_eq "akctl: trigger hook calls program.py:nope, but the build has no function nope in program.py" \
    "$ERR" "the daemon's message names the function and the file"
run ak deployment list -p nofunc
assert_eq "no deployments" "$OUT" "no deployment of the build without the function"

manifest nofile other.py:on_hook
deploy "$P"
assert_status 1 "$RC" "deploy of a trigger calling a missing file exits 1"
assert_eq "akctl: trigger hook calls other.py:on_hook, but the build has no file other.py" \
    "$ERR" "the daemon's message names the missing file"

# -- deploying twice: the first deployment becomes inactive --
manifest twice program.py:on_hook
deploy "$P"
assert_status 0 "$RC" "first deploy of twice exits 0"
dep1=$(printf '%s\n' "$OUT" | awk '$1 == "deployment" { print $2 }')
url=$(webhook_url hook)
cat >"$P/program.py" <<'EOF'
def on_hook(event):
    return 2
EOF
deploy "$P"
assert_status 0 "$RC" "second deploy of twice exits 0"
dep2=$(printf '%s\n' "$OUT" | awk '$1 == "deployment" { print $2 }')
[ "$dep1" != "$dep2" ] || fail "the second deploy reused $dep1"
ok "the second deploy made a new deployment"
run ak deployment list -p twice
assert_eq 3 "$(printf '%s\n' "$OUT" | wc -l)" "deployment list: header and two deployments"
assert_match "$OUT" "^$dep1 +prj_[0-9a-z]+ +bld_[0-9a-z]+ +inactive " \
    "deployment list: the first deployment is inactive"
assert_match "$OUT" "^$dep2 +prj_[0-9a-z]+ +bld_[0-9a-z]+ +active " \
    "deployment list: the second deployment is active"
run ak deployment list -p twice -s active
assert_eq 2 "$(printf '%s\n' "$OUT" | wc -l)" "deployment list -s active: only one"
# The webhook now runs the new code.
hook POST "$url"
assert_eq 202 "$CODE" "the webhook answers 202 after the redeploy"
ses=$(session_of "$EVENT_ID")
run ak session watch -t 20s "$ses"
assert_status 0 "$RC" "the session completes"
assert_eq 2 "$(session_result "$ses")" "the session ran the second deployment's code"
run ak session get "$ses"
assert_match "$OUT" "^deployment +$dep2\$" "the session belongs to the second deployment"

# -- manifest validate: the server's exact messages, with line:column --
M=$T/m.yaml
validate() {	# PRINTF-TEXT
	printf "$1" >"$M"
	run ak manifest validate "$M"
}

validate 'version: v1\nproject:\n  name: ok_1\n'
assert_status 0 "$RC" "manifest validate of a good manifest exits 0"
assert_eq "$M: valid" "$OUT" "manifest validate says valid"

validate 'version: v1\nproject:\n  name: bad-name\n'
assert_status 1 "$RC" "bad name: exit 1"
assert_eq "akctl: $M:3:9: project.name: \"bad-name\" does not match ^\\w+\$ (use only letters, digits and _)" \
    "$ERR" "bad name: the message"

validate 'version: v1\nproject:\n  name: ok\n  colour: red\n'
assert_status 1 "$RC" "unknown key: exit 1"
assert_eq "akctl: $M:4:3: project: unknown key \"colour\" (the keys here are: name, display_name, vars, connections, triggers)" \
    "$ERR" "unknown key: the message"

validate 'project:\n  name: ok\n'
assert_status 1 "$RC" "missing version: exit 1"
assert_eq "akctl: $M:1:1: version: required" "$ERR" "missing version: the message"

validate 'version: v3\nproject:\n  name: ok\n'
assert_status 1 "$RC" "bad version: exit 1"
assert_eq "akctl: $M:1:10: version: \"v3\" is not a manifest version; use v1 or v2" \
    "$ERR" "bad version: the message"

validate 'version: v1\nproject:\n  name: ok\n  triggers:\n    - name: t\n      call: program.py:f\n'
assert_status 1 "$RC" "trigger without a type: exit 1"
assert_eq "akctl: $M:5:7: project.triggers[0]: the trigger has no type; add webhook: {}, schedule: \"<cron>\", connection: <name> or type:" \
    "$ERR" "trigger without a type: the message"

validate 'version: v1\nproject:\n  name: ok\n  triggers:\n    - name: t\n'
assert_status 1 "$RC" "trigger without call or type: exit 1"
assert_eq "akctl: $M:5:7: project.triggers[0]: the trigger has no type; add webhook: {}, schedule: \"<cron>\", connection: <name> or type:" \
    "$ERR" "trigger without call or type: the message"

validate 'version: v1\nproject:\n  name: [ok\n'
assert_status 1 "$RC" "YAML syntax error: exit 1"
assert_eq "akctl: $M:4:1: not valid YAML: did not find expected ',' or ']' (while parsing a flow sequence that started at 3:9)" \
    "$ERR" "YAML syntax error (unclosed [): the message"

validate 'version: v1\nproject:\n  name: ok\n    bad: indent\n'
assert_status 1 "$RC" "YAML bad indentation: exit 1"
assert_eq "akctl: $M:4:8: not valid YAML: mapping values are not allowed in this context" \
    "$ERR" "YAML bad indentation: the message"

validate 'version: v1\nproject:\n  name: ok\n  vars:\n    - name: A\n      value: "1"\n    - name: A\n      value: "2"\n'
assert_status 1 "$RC" "duplicate variable: exit 1"
assert_eq "akctl: $M:7:13: project.vars[1].name: \"A\" is already used by project.vars[0]" \
    "$ERR" "duplicate variable: the message"

run ak manifest validate "$T/absent.yaml"
assert_status 1 "$RC" "manifest validate of a missing file exits 1"
assert_contains "$ERR" "$T/absent.yaml" "the error names the missing file"

# Nothing of the invalid manifests reached the server.
run ak project get ok
assert_status 1 "$RC" "validate created no project (project get ok exits 1)"
assert_eq 'akctl: no project named "ok"' "$ERR" "project get ok: no project named ok"

assert_healthy
stop_daemon
assert_status 0 "$STOP_STATUS" "autokittehd exits 0 on SIGTERM"
