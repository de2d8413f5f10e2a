#!/usr/bin/env bash
# env-secrets.sh: a session looks for another project's variables and
# secrets, and for the daemon's own environment: in os.environ, in
# /proc/self/environ (what the process started with), and in the environ
# of the controller, the zygote and a running session of the other
# project. Each worker is forked from a zygote that was started with a
# fixed, clean environment and never held a project's variables; the
# session gets only its own project's; another process's environ needs
# ptrace access, which Landlock and the uid deny.
. "$top_srcdir/tests/sandbox/lib.sh"

canary=daemon-canary-$$
other_secret=other-secret-$$
export AK_DAEMON_CANARY=$canary

attempt_code <<'EOF2'
def find(where, text, needles):
    for n in needles:
        if n in text:
            return "found %s in %s" % (n, where)
    raise LookupError("none of them in %s" % where)


def attempt(event):
    a = args(event)
    print("environ: " + " ".join(sorted(os.environ)))
    for who, pid in (("the controller", int(os.environ["DAEMON_PID"])),
                     ("the zygote", a["zygote"]),
                     ("the other project's session", a["other"])):
        probe("the environ of " + who, read, "/proc/%d/environ" % pid, 65536)
    probe("secrets in os.environ", find, "os.environ",
          repr(dict(os.environ)), a["needles"])
    probe("secrets in /proc/self/environ", lambda: find(
        "/proc/self/environ", read("/proc/self/environ", 65536).decode(),
        a["needles"]))
    return verdict()
EOF2
escape_deploy
run ak var set -p escape --secret MY_SECRET my-own-secret
assert_status 0 "$RC" "a secret of the session's own project is set"

O=$T/other
mkdir -p "$O"
escape_prelude >"$O/program.py"
cat >"$O/autokitteh.yaml" <<EOF2
version: v1
project:
  name: other
  vars:
    - name: OTHER_PLAIN
      value: other-plain-$$
  triggers:
    - name: holder
      type: webhook
      is_durable: false
      call: program.py:holder
EOF2
deploy "$O"
assert_status 0 "$RC" "the other project is deployed"
other_url=$(webhook_url holder)
run ak var set -p other --secret OTHER_TOKEN "$other_secret"
assert_status 0 "$RC" "the other project has a secret"
URL_HOLDER=$other_url start_holder

attempt "{\"other\": $HOLDER_PID, \"zygote\": $(zygote_pid), \"needles\": [\"$canary\", \"$other_secret\", \"other-plain-$$\", \"OTHER_\", \"AK_DAEMON_CANARY\"]}"
assert_blocked "(PermissionError: \[Errno 13\] Permission denied|FileNotFoundError: \[Errno 2\] No such file or directory): '/proc/[0-9]+/environ'"
for who in "the controller" "the zygote" "the other project's session"; do
	# (FileNotFoundError: a PID namespace where it is not there)
	assert_probe "the environ of $who" "(PermissionError: \[Errno 13\]|FileNotFoundError)"
done
assert_probe "secrets in os.environ" "LookupError: none of them"
# The worker is not dumpable after its uid changed: its own /proc files
# are root's.
assert_probe "secrets in /proc/self/environ" "(LookupError: none of them|PermissionError: \[Errno 13\])"
envline=$(printf '%s\n' "$SLOG" | sed -n 's/.*PRINT  *environ: //p')
assert_eq "DAEMON_PID DATA_DIR DB HOME LANG MY_SECRET PATH PORT SDK SOCK TMPDIR attempt__webhook_url holder__webhook_url normal__webhook_url" \
    "$envline" "os.environ has the project's variables and the basics, nothing else"
release_holder
escape_finish
