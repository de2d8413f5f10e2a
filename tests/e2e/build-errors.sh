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
# hook_runs URL DEPLOYMENT RESULT WHEN: a POST to the webhook starts a
# session of DEPLOYMENT that completes, returning RESULT.
hook_runs() {
	hook POST "$1"
	assert_eq 202 "$CODE" "the webhook answers 202 $4"
	ses=$(session_of "$EVENT_ID")
	run ak session watch -t 20s "$ses"
	assert_status 0 "$RC" "the session completes $4"
	assert_eq "$3" "$(session_result "$ses")" "the session returns $3 $4"
	run ak session get "$ses"
	assert_match "$OUT" "^deployment +$2\$" \
	    "the session belongs to deployment $2 $4"
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
run ak trigger list -p nofunc
assert_eq "no triggers" "$OUT" "the refused manifest was not applied to the new project"

# -- a failed redeploy leaves the running project as it was --
manifest keep program.py:on_hook
deploy "$P"
assert_status 0 "$RC" "first deploy of keep exits 0"
keep_dep=$(printf '%s\n' "$OUT" | awk '$1 == "deployment" { print $2 }')
keep_url=$(webhook_url hook)
run ak trigger list -p keep
keep_triggers=$OUT
assert_match "$OUT" "^trg_[0-9a-z]{26} +hook +webhook +program\\.py:on_hook " \
    "keep: the trigger calls program.py:on_hook"
cat >"$P/autokitteh.yaml" <<EOF
version: v1
project:
  name: keep
  vars:
    - name: ADDED
      value: "1"
  triggers:
    - name: hook
      type: webhook
      call: program.py:nope
EOF
deploy "$P"
assert_status 1 "$RC" "redeploy of keep calling a missing function exits 1"
assert_eq "akctl: trigger hook calls program.py:nope, but the build has no function nope in program.py" \
    "$ERR" "the redeploy fails with the missing function's message"
assert_not_contains "$OUT" "program.py:nope" "no log line of an applied manifest"
run ak trigger list -p keep
assert_eq "$keep_triggers" "$OUT" "the failed redeploy left the triggers as they were"
assert_match "$OUT" "^trg_[0-9a-z]{26} +hook +webhook +program\\.py:on_hook " \
    "trigger list -p keep still shows the old call program.py:on_hook"
run ak var get -p keep
assert_eq "no variables" "$OUT" "the failed redeploy set none of the manifest's variables"
run ak deployment list -p keep
assert_eq 2 "$(printf '%s\n' "$OUT" | wc -l)" "keep: still one deployment"
assert_match "$OUT" "^$keep_dep +prj_[0-9a-z]+ +bld_[0-9a-z]+ +active " \
    "keep: the first deployment is still active"
# The webhook still runs the old deployment's code, program.py:on_hook.
hook_runs "$keep_url" "$keep_dep" 1 "after the failed redeploy"

# -n deploys the directory as another project, created by that name, then
# redeployed to it; keep is left alone.
manifest keep program.py:on_hook
deploy "$P" -n keep_copy
assert_status 0 "$RC" "deploy -n keep_copy exits 0"
assert_contains "$OUT" "create project keep_copy" "deploy -n creates the project it names"
copy_dep=$(printf '%s\n' "$OUT" | awk '$1 == "deployment" { print $2 }')
deploy "$P" -j -n keep_copy
assert_status 0 "$RC" "deploy -j -n keep_copy again exits 0"
assert_eq "$(jget "$OUT" .project_id)" \
    "$(ak project get keep_copy | awk '$1 == "id" { print $2 }')" \
    "deploy -j -n: the project_id is keep_copy's"
assert_not_contains "$ERR" "create project" "the second deploy -n creates no project"
run ak deployment list -p keep_copy -s active
assert_eq 2 "$(printf '%s\n' "$OUT" | wc -l)" "keep_copy: one active deployment"
assert_not_contains "$OUT" "$copy_dep" "keep_copy: the redeploy replaced the first deployment"
run ak deployment list -p keep
assert_eq 2 "$(printf '%s\n' "$OUT" | wc -l)" "deploy -n left keep's deployments alone"

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
hook_runs "$url" "$dep2" 2 "after the redeploy"

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
