#!/usr/bin/env bash
# api-updates.sh: TriggersService Create/Get/List/Update/Delete and
# ConnectionsService Create/Get/List/Update/RefreshStatus/Delete over the
# API socket, as a client calls them: each Update shows in Get and List
# and takes effect (a webhook runs the new entry point, answers once its
# session completed when is_sync, drops events by event_type or filter; a
# rescheduled trigger ticks); each refused request answers its error code
# and changes nothing; a deleted trigger stops; deleting a connection
# takes its vars and triggers.
. "$top_srcdir/tests/e2e/lib.sh"
need_jq

start_daemon

P=$T/upd
mkdir -p "$P"
cat >"$P/autokitteh.yaml" <<'EOF'
version: v1
project:
  name: upd
EOF
cat >"$P/program.py" <<'EOF'
def on_a(event):
    return "a " + event.event_type


def on_b(event):
    return "b " + event.event_type
EOF
deploy "$P"
assert_status 0 "$RC" "deploy of a project without triggers exits 0"
PRJ=$(ak project list -j | jq -r '.projects[] | select(.name == "upd") | .project_id')
assert_match "$PRJ" '^prj_' "the project has an ID"
DEP=$(ak deployment list -p upd -s active -j | jq -r '.deployments[0].deployment_id')
assert_match "$DEP" '^dep_' "the deployment is ACTIVE"

# api SERVICE/METHOD JSON: a Connect call over the Unix socket; sets $CODE
# and $BODY.
api() {
	http POST "http://localhost/autokitteh.$1" --unix-socket "$SOCK" \
	    -H 'Content-Type: application/json' --data-binary "$2"
}
trg() {
	api "triggers.v1.TriggersService/$1" "$2"
}
con() {
	api "connections.v1.ConnectionsService/$1" "$2"
}
# refused HTTP CODE WORD WHAT: the last call answered HTTP with the connect
# error CODE, and its message has WORD.
refused() {
	local answer

	assert_eq "$1" "$CODE" "$4: HTTP $1"
	answer=$(jget "$BODY" '"\(.code) \(.message)"')
	assert_eq "$2" "${answer%% *}" "$4: code $2"
	assert_contains "${answer#* }" "$3" "$4: the message says \"$3\""
}
# trigger_json ID: TriggersService/Get's trigger, compact and key-sorted.
trigger_json() {
	trg Get "{\"trigger_id\": \"$1\"}"
	[ "$CODE" = 200 ] || fail "Get $1 answered $CODE: $BODY"
	printf '%s' "$BODY" | jq -cS .trigger
}
# trigger_names: the names TriggersService/List gives for the project.
trigger_names() {
	trg List "{\"project_id\": \"$PRJ\"}"
	[ "$CODE" = 200 ] || fail "List answered $CODE: $BODY"
	jget "$BODY" '[.triggers[].name] | join(" ")'
}
completed() {
	[ "$(session_state "$1")" = completed ]
}
# runs METHOD URL EXPECTED WHAT: the webhook starts a session whose
# result is EXPECTED.
runs() {
	local s

	hook "$1" "$2"
	assert_eq 202 "$CODE" "$4: the webhook answers 202"
	s=$(session_of "$EVENT_ID")
	[ -n "$s" ] || fail "$4: event $EVENT_ID started no session"
	wait_until 30 completed "$s" ||
	    fail "$4: session $s did not complete: $(ak session log "$s")"
	assert_eq "\"$3\"" "$(session_result "$s")" "$4: the session returns \"$3\""
}
# stores_only METHOD URL WHAT: the webhook stores an event, starts nothing.
stores_only() {
	local n

	n=$(session_count -p upd)
	hook "$1" "$2"
	assert_eq 202 "$CODE" "$3: the webhook answers 202"
	assert_match "$EVENT_ID" '^evt_' "$3: the event is stored"
	assert_eq "" "$(session_of "$EVENT_ID")" "$3: no session for the event"
	assert_eq "$n" "$(session_count -p upd)" "$3: the session count is unchanged"
}

# ======== TriggersService ========

# -- Create and Get --
trg Create "{\"trigger\": {\"project_id\": \"$PRJ\", \"name\": \"hook\",
    \"source_type\": \"SOURCE_TYPE_WEBHOOK\",
    \"code_location\": {\"path\": \"program.py\", \"name\": \"on_a\"}}}"
assert_eq 200 "$CODE" "Create of a webhook trigger answers 200 ($BODY)"
TRG=$(jget "$BODY" .trigger_id)
assert_match "$TRG" '^trg_[0-9a-z]{26}$' "Create answers the new trigger_id"
t=$(trigger_json "$TRG")
assert_eq hook "$(jget "$t" .name)" "Get: the name"
assert_eq SOURCE_TYPE_WEBHOOK "$(jget "$t" .source_type)" "Get: the source type"
assert_eq "$PRJ" "$(jget "$t" .project_id)" "Get: the project"
assert_eq program.py:on_a "$(jget "$t" '.code_location | "\(.path):\(.name)"')" \
    "Get: the code location"
SLUG=$(jget "$t" .webhook_slug)
assert_match "$SLUG" '^[0-9a-z]{26}$' "Get: a webhook slug"
URL=$(jget "$t" .webhook_url)
case $URL in
*/webhooks/"$SLUG") ok "Get: webhook_url ends in /webhooks/<slug>" ;;
*) fail "webhook_url $URL does not end in /webhooks/$SLUG" ;;
esac
assert_eq hook "$(trigger_names)" "List shows the trigger"
runs POST "$URL" "a post" "the new trigger"

# Create's own refusals.
trg Create "{\"trigger\": {\"project_id\": \"$PRJ\", \"name\": \"hook\",
    \"source_type\": \"SOURCE_TYPE_WEBHOOK\"}}"
refused 409 already_exists hook "Create with a taken name"
trg Create "{\"trigger\": {\"project_id\": \"$PRJ\", \"name\": \"nosrc\"}}"
refused 400 invalid_argument source_type "Create without a source type"
trg Create "{\"trigger\": {\"trigger_id\": \"$TRG\", \"project_id\": \"$PRJ\",
    \"name\": \"withid\", \"source_type\": \"SOURCE_TYPE_WEBHOOK\"}}"
refused 400 invalid_argument trigger_id "Create with a trigger_id"
assert_eq hook "$(trigger_names)" "the refused Creates added no trigger"

# -- Update: the name --
trg Update "{\"trigger\": {\"trigger_id\": \"$TRG\", \"name\": \"renamed\",
    \"code_location\": {\"path\": \"program.py\", \"name\": \"on_a\"}}}"
assert_eq 200 "$CODE" "Update of the name answers 200 ($BODY)"
assert_eq '{}' "$(printf '%s' "$BODY" | jq -c .)" "Update answers {}"
t=$(trigger_json "$TRG")
assert_eq renamed "$(jget "$t" .name)" "Get shows the new name"
assert_eq "$SLUG" "$(jget "$t" .webhook_slug)" "the slug stays"
assert_eq SOURCE_TYPE_WEBHOOK "$(jget "$t" .source_type)" "the source type stays"
assert_eq renamed "$(trigger_names)" "List shows the new name, not the old one"
runs POST "$URL" "a post" "the renamed trigger, same address"

# -- Update: the call --
trg Update "{\"trigger\": {\"trigger_id\": \"$TRG\",
    \"code_location\": {\"path\": \"program.py\", \"name\": \"on_b\"}}}"
assert_eq 200 "$CODE" "Update of the code location answers 200 ($BODY)"
t=$(trigger_json "$TRG")
assert_eq renamed "$(jget "$t" .name)" "an Update without a name keeps the name"
assert_eq program.py:on_b "$(jget "$t" '.code_location | "\(.path):\(.name)"')" \
    "Get shows the new code location"
runs POST "$URL" "b post" "after the Update, the webhook runs on_b"

# -- Update: is_sync (the webhook now waits for the session) --
trg Update "{\"trigger\": {\"trigger_id\": \"$TRG\", \"is_sync\": true,
    \"code_location\": {\"path\": \"program.py\", \"name\": \"on_b\"}}}"
assert_eq 200 "$CODE" "Update of is_sync answers 200 ($BODY)"
assert_eq true "$(jget "$(trigger_json "$TRG")" .is_sync)" "Get shows is_sync true"
hook POST "$URL"
assert_eq 200 "$CODE" "the now synchronous webhook answers 200 once its session completed"
s=$(session_of "$EVENT_ID")
[ -n "$s" ] || fail "the synchronous webhook's event $EVENT_ID started no session"
wait_until 10 completed "$s" || fail "session $s did not complete"
assert_eq '"b post"' "$(session_result "$s")" "and ran on_b"

# -- Update: event_type (is_sync not given: false again) --
trg Update "{\"trigger\": {\"trigger_id\": \"$TRG\", \"event_type\": \"get\",
    \"code_location\": {\"path\": \"program.py\", \"name\": \"on_b\"}}}"
assert_eq 200 "$CODE" "Update of the event_type answers 200 ($BODY)"
t=$(trigger_json "$TRG")
assert_eq get "$(jget "$t" .event_type)" "Get shows event_type get"
assert_eq false "$(jget "$t" .is_sync)" "Get shows is_sync false again"
stores_only POST "$URL" "event_type get, a POST"
runs GET "$URL" "b get" "event_type get, a GET"

# -- Update: a filter (and no event_type: Update replaces the fields) --
trg Update "{\"trigger\": {\"trigger_id\": \"$TRG\",
    \"filter\": \"data.url.path.endsWith(\\\"/meow\\\")\",
    \"code_location\": {\"path\": \"program.py\", \"name\": \"on_b\"}}}"
assert_eq 200 "$CODE" "Update of the filter answers 200 ($BODY)"
t=$(trigger_json "$TRG")
assert_eq 'data.url.path.endsWith("/meow")' "$(jget "$t" .filter)" \
    "Get shows the filter as written"
assert_eq null "$(jget "$t" .event_type)" "the Update without event_type cleared it"
stores_only POST "$URL/woof" "the filter, a miss"
runs POST "$URL/meow" "b post" "the filter, a match"
trg List "{\"project_id\": \"$PRJ\", \"source_type\": \"SOURCE_TYPE_WEBHOOK\"}"
assert_eq "$t" "$(printf '%s' "$BODY" | jq -cS '.triggers[0]')" \
    "List (by source type) gives the trigger as Get does"

# -- refused Updates change nothing --
trg Create "{\"trigger\": {\"project_id\": \"$PRJ\", \"name\": \"other\",
    \"source_type\": \"SOURCE_TYPE_WEBHOOK\",
    \"code_location\": {\"path\": \"program.py\", \"name\": \"on_a\"}}}"
assert_eq 200 "$CODE" "Create of a second trigger answers 200 ($BODY)"
OTHER=$(jget "$BODY" .trigger_id)
OTHER_URL=$(jget "$(trigger_json "$OTHER")" .webhook_url)
before=$(trigger_json "$TRG")
before_other=$(trigger_json "$OTHER")
loc='"code_location": {"path": "program.py", "name": "on_a"}'
UNKNOWN=trg_00000000000000000000000000
[ "$UNKNOWN" != "$TRG" ] && [ "$UNKNOWN" != "$OTHER" ] || fail "unlucky IDs"

trg Update "{\"trigger\": {\"trigger_id\": \"$UNKNOWN\", \"name\": \"x\", $loc}}"
refused 404 not_found "$UNKNOWN" "Update of an unknown trigger"
trg Update "{\"trigger\": {\"trigger_id\": \"trg_nope\", \"name\": \"x\", $loc}}"
refused 400 invalid_argument trigger_id "Update with a malformed trigger_id"
trg Update "{\"trigger\": {\"name\": \"x\", $loc}}"
refused 400 invalid_argument trigger_id "Update without a trigger_id"
trg Update '{}'
refused 400 invalid_argument trigger "Update without a trigger"
trg Update "{\"trigger\": {\"trigger_id\": \"$TRG\", \"name\": \"other\", $loc}}"
refused 409 already_exists other "Update to the name of another trigger"
trg Update "{\"trigger\": {\"trigger_id\": \"$TRG\", \"filter\": \"data.x ==\", $loc}}"
refused 400 invalid_argument filter "Update with a filter that does not parse"
trg Update "{\"trigger\": {\"trigger_id\": \"$TRG\",
    \"source_type\": \"SOURCE_TYPE_SCHEDULE\", \"schedule\": \"@daily\", $loc}}"
refused 400 failed_precondition "source type" "Update to another source type"
trg Update "{\"trigger\": {\"trigger_id\": \"$TRG\", \"source_type\": \"SOURCE_TYPE_NOPE\", $loc}}"
refused 400 invalid_argument source_type "Update with an unknown source type"
trg Update "{\"trigger\": {\"trigger_id\": \"$TRG\", \"schedule\": \"@daily\", $loc}}"
refused 400 invalid_argument schedule "Update giving a webhook a schedule"
trg Update "{\"trigger\": {\"trigger_id\": \"$TRG\", \"project_id\": \"prj_00000000000000000000000000\", $loc}}"
refused 400 failed_precondition project "Update moving the trigger to another project"
trg Update "{\"trigger\": {\"trigger_id\": \"$TRG\", \"name\": \"bad-name\", $loc}}"
refused 400 invalid_argument name "Update with an invalid name"
trg Update "{\"trigger\": {\"trigger_id\": \"$TRG\", \"code_location\": {\"path\": \"program.py\"}}}"
refused 400 invalid_argument code_location "Update with a code location without a name"
trg Update "{\"trigger\": {\"trigger_id\": \"$TRG\", \"colour\": \"blue\", $loc}}"
refused 400 invalid_argument colour "Update with an unknown field"
trg Update "{\"trigger\": {\"trigger_id\": \"$TRG\", \"is_sync\": \"yes\", $loc}}"
refused 400 invalid_argument is_sync "Update with a non-boolean is_sync"
assert_eq "$before" "$(trigger_json "$TRG")" "after the refused Updates, Get shows the trigger unchanged"
assert_eq "$before_other" "$(trigger_json "$OTHER")" "and the other trigger unchanged"
assert_eq "other renamed" "$(trigger_names)" "and List the same two names"
runs POST "$URL/meow" "b post" "after the refused Updates, the webhook still runs on_b"

# -- Update without a code location: events feed no session --
trg Update "{\"trigger\": {\"trigger_id\": \"$TRG\"}}"
assert_eq 200 "$CODE" "Update without a code location answers 200 ($BODY)"
assert_eq null "$(jget "$(trigger_json "$TRG")" .code_location)" \
    "Get shows no code location"
stores_only POST "$URL/meow" "a trigger without a call"

# -- Delete --
trg Delete "{\"trigger_id\": \"$TRG\"}"
assert_eq 200 "$CODE" "Delete answers 200 ($BODY)"
trg Get "{\"trigger_id\": \"$TRG\"}"
refused 404 not_found "$TRG" "Get after Delete"
trg Update "{\"trigger\": {\"trigger_id\": \"$TRG\", $loc}}"
refused 404 not_found "$TRG" "Update after Delete"
trg Delete "{\"trigger_id\": \"$TRG\"}"
refused 404 not_found "$TRG" "a second Delete"
assert_eq other "$(trigger_names)" "List no longer has the deleted trigger"
hook POST "$URL/meow"
assert_eq 404 "$CODE" "the deleted trigger's webhook answers 404"
runs POST "$OTHER_URL" "a post" "the other trigger still runs"

# -- a schedule trigger: refused Updates, then a reschedule that ticks --
trg Create "{\"trigger\": {\"project_id\": \"$PRJ\", \"name\": \"tick\",
    \"source_type\": \"SOURCE_TYPE_SCHEDULE\", \"schedule\": \"@every 1h\", $loc}}"
assert_eq 200 "$CODE" "Create of an hourly schedule trigger answers 200 ($BODY)"
TICK=$(jget "$BODY" .trigger_id)
before=$(trigger_json "$TICK")
assert_eq "@every 1h" "$(jget "$before" .schedule)" "Get shows the schedule"
assert_eq null "$(jget "$before" .webhook_slug)" "a schedule trigger has no slug"
trg Update "{\"trigger\": {\"trigger_id\": \"$TICK\", \"schedule\": \"61 6 * * *\", $loc}}"
refused 400 invalid_argument "61 6 * * *" "Update with a cron expression out of range"
trg Update "{\"trigger\": {\"trigger_id\": \"$TICK\", \"schedule\": \"@every 1s\",
    \"timezone\": \"Mars/Olympus_Mons\", $loc}}"
refused 400 invalid_argument timezone "Update with an unknown time zone"
trg Update "{\"trigger\": {\"trigger_id\": \"$TICK\", $loc}}"
refused 400 invalid_argument schedule "Update of a schedule trigger without a schedule"
trg Update "{\"trigger\": {\"trigger_id\": \"$TICK\", \"schedule\": \"@every 1s\",
    \"source_type\": \"SOURCE_TYPE_WEBHOOK\", $loc}}"
refused 400 failed_precondition "source type" "Update of a schedule trigger to a webhook"
trg Update "{\"trigger\": {\"trigger_id\": \"$TICK\", \"schedule\": \"@every 1s\",
    \"is_sync\": true, $loc}}"
refused 400 invalid_argument is_sync "Update of a schedule trigger with is_sync"
trg Update "{\"trigger\": {\"trigger_id\": \"$OTHER\", \"connection_id\": \"con_00000000000000000000000000\", $loc}}"
refused 400 invalid_argument connection_id "Update giving a webhook trigger a connection"
assert_eq "$before" "$(trigger_json "$TICK")" "the refused Updates left the schedule trigger unchanged"
assert_eq "$before_other" "$(trigger_json "$OTHER")" "and the webhook trigger unchanged"
# tick_sessions: the sessions started by the schedule trigger's events.
tick_sessions() {
	local e

	for e in $(ak event list -j -t "$TICK" | jq -r '.events[].event_id'); do
		session_of "$e"
	done
}
assert_eq "" "$(tick_sessions)" "the hourly schedule has not ticked"
trg Update "{\"trigger\": {\"trigger_id\": \"$TICK\", \"schedule\": \"@every 1s\",
    \"timezone\": \"Europe/Paris\", $loc}}"
assert_eq 200 "$CODE" "Update of the schedule to @every 1s answers 200 ($BODY)"
t=$(trigger_json "$TICK")
assert_eq "@every 1s Europe/Paris" "$(jget "$t" '"\(.schedule) \(.timezone)"')" \
    "Get shows the new schedule and time zone"
ticked() {
	local s

	for s in $(tick_sessions); do
		completed "$s" && TICK_SES=$s && return 0
	done
	return 1
}
wait_until 15 ticked || fail "no tick session completed within 15 s of the reschedule"
ok "the rescheduled trigger ticks: session $TICK_SES"
assert_eq '"a tick"' "$(session_result "$TICK_SES")" "the tick session ran on_a with a tick event"
trg Delete "{\"trigger_id\": \"$TICK\"}"
assert_eq 200 "$CODE" "Delete of the schedule trigger answers 200 ($BODY)"
n=$(ak event list -j -t "$TICK" | jq -r '.events | length')
sleep 1.5
assert_eq "$n" "$(ak event list -j -t "$TICK" | jq -r '.events | length')" \
    "the deleted schedule trigger ticks no more"
assert_eq other "$(trigger_names)" "List has only the webhook trigger left"

# ======== ConnectionsService ========

# -- Create, Get, List --
con Create "{\"connection\": {\"project_id\": \"$PRJ\", \"integration_id\": \"github\",
    \"name\": \"gh\"}}"
assert_eq 200 "$CODE" "Create of a github connection answers 200 ($BODY)"
CON=$(jget "$BODY" .connection_id)
assert_match "$CON" '^con_[0-9a-z]{26}$' "Create answers the new connection_id"
# con_json ID: ConnectionsService/Get's connection, compact and key-sorted.
con_json() {
	con Get "{\"connection_id\": \"$1\"}"
	[ "$CODE" = 200 ] || fail "Get $1 answered $CODE: $BODY"
	printf '%s' "$BODY" | jq -cS .connection
}
con_names() {
	con List "{\"project_id\": \"$PRJ\"}"
	[ "$CODE" = 200 ] || fail "List answered $CODE: $BODY"
	jget "$BODY" '[.connections[].name] | join(" ")'
}
c=$(con_json "$CON")
assert_eq gh "$(jget "$c" .name)" "Get: the name"
assert_eq github "$(jget "$c" .integration_id)" "Get: the integration"
assert_eq "$PRJ" "$(jget "$c" .project_id)" "Get: the project"
assert_eq CODE_WARNING "$(jget "$c" .status.code)" "Get: a new github connection needs init"
assert_contains "$(jget "$c" .status.message)" "init required" "Get: the status says init required"
assert_eq gh "$(con_names)" "List shows the connection"

con Create "{\"connection\": {\"project_id\": \"$PRJ\", \"integration_id\": \"github\",
    \"name\": \"gh\"}}"
refused 409 already_exists gh "Create with a taken name"
con Create "{\"connection\": {\"project_id\": \"$PRJ\", \"integration_id\": \"gitlab\",
    \"name\": \"gl\"}}"
refused 404 not_found github "Create with an unknown integration (the message lists the known ones)"
con Create "{\"connection\": {\"project_id\": \"$PRJ\", \"name\": \"noint\"}}"
refused 400 invalid_argument integration_id "Create without an integration"
assert_eq gh "$(con_names)" "the refused Creates added no connection"

# -- Update: the name --
con Update "{\"connection\": {\"connection_id\": \"$CON\", \"name\": \"hub\"}}"
assert_eq 200 "$CODE" "Update of the name answers 200 ($BODY)"
c=$(con_json "$CON")
assert_eq hub "$(jget "$c" .name)" "Get shows the new name"
assert_eq github "$(jget "$c" .integration_id)" "the integration stays"
assert_eq hub "$(con_names)" "List shows the new name, not the old one"
con Update "{\"connection\": {\"connection_id\": \"$CON\", \"name\": \"hub\",
    \"integration_id\": \"github\", \"project_id\": \"$PRJ\"}}"
assert_eq 200 "$CODE" "Update repeating the integration and project answers 200 ($BODY)"

# -- refused Updates change nothing --
con Create "{\"connection\": {\"project_id\": \"$PRJ\", \"integration_id\": \"http\",
    \"name\": \"web\"}}"
assert_eq 200 "$CODE" "Create of an http connection answers 200 ($BODY)"
CON2=$(jget "$BODY" .connection_id)
before=$(con_json "$CON")
before2=$(con_json "$CON2")
CUNKNOWN=con_00000000000000000000000000
con Update "{\"connection\": {\"connection_id\": \"$CUNKNOWN\", \"name\": \"x\"}}"
refused 404 not_found "$CUNKNOWN" "Update of an unknown connection"
con Update "{\"connection\": {\"connection_id\": \"con_nope\", \"name\": \"x\"}}"
refused 400 invalid_argument connection_id "Update with a malformed connection_id"
con Update '{"connection": {"name": "x"}}'
refused 400 invalid_argument connection_id "Update without a connection_id"
con Update '{}'
refused 400 invalid_argument connection "Update without a connection"
con Update "{\"connection\": {\"connection_id\": \"$CON\"}}"
refused 400 invalid_argument name "Update without a name"
con Update "{\"connection\": {\"connection_id\": \"$CON\", \"name\": \"no way\"}}"
refused 400 invalid_argument name "Update with an invalid name"
con Update "{\"connection\": {\"connection_id\": \"$CON\", \"name\": \"x\",
    \"integration_id\": \"http\"}}"
refused 400 invalid_argument integration "Update changing the integration"
con Update "{\"connection\": {\"connection_id\": \"$CON\", \"name\": \"x\",
    \"project_id\": \"prj_00000000000000000000000000\"}}"
refused 400 invalid_argument project "Update moving the connection to another project"
con Update "{\"connection\": {\"connection_id\": \"$CON\", \"name\": \"x\",
    \"org_id\": \"org_00000000000000000000000000\"}}"
refused 400 invalid_argument org-scoped "Update giving the connection an org"
con Update "{\"connection\": {\"connection_id\": \"$CON\", \"name\": \"x\", \"colour\": \"blue\"}}"
refused 400 invalid_argument colour "Update with an unknown field"
con Update "{\"connection\": {\"connection_id\": \"$CON\", \"name\": \"web\"}}"
refused 409 already_exists web "Update to the name of another connection"
assert_eq "$before" "$(con_json "$CON")" "after the refused Updates, Get shows the connection unchanged"
assert_eq "$before2" "$(con_json "$CON2")" "and the other connection unchanged"
assert_eq "hub web" "$(con_names)" "and List the same two names"

# -- RefreshStatus follows the connection's vars --
con RefreshStatus "{\"connection_id\": \"$CON\"}"
assert_eq 200 "$CODE" "RefreshStatus answers 200 ($BODY)"
assert_eq CODE_WARNING "$(jget "$BODY" .status.code)" "RefreshStatus: init required without vars"
api vars.v1.VarsService/Set "{\"vars\": [{\"scope_id\": \"$CON\",
    \"name\": \"webhook_secret\", \"value\": \"s3cret\", \"is_secret\": true},
    {\"scope_id\": \"$CON\", \"name\": \"note\", \"value\": \"kept\"}]}"
assert_eq 200 "$CODE" "VarsService/Set of the connection's vars answers 200 ($BODY)"
con RefreshStatus "{\"connection_id\": \"$CON\"}"
assert_eq 200 "$CODE" "RefreshStatus after setting webhook_secret answers 200"
assert_eq CODE_OK "$(jget "$BODY" .status.code)" "RefreshStatus: CODE_OK with a webhook_secret"
assert_eq CODE_OK "$(jget "$(con_json "$CON")" .status.code)" "Get shows CODE_OK"
con List "{\"project_id\": \"$PRJ\", \"status_code\": \"CODE_OK\"}"
assert_eq hub "$(jget "$BODY" '[.connections[].name] | join(" ")')" \
    "List by status CODE_OK has the connection, not the http one"
con RefreshStatus "{\"connection_id\": \"$CUNKNOWN\"}"
refused 404 not_found "$CUNKNOWN" "RefreshStatus of an unknown connection"
con RefreshStatus '{"connection_id": "con_nope"}'
refused 400 invalid_argument connection_id "RefreshStatus with a malformed id"
api vars.v1.VarsService/Set "{\"vars\": [{\"scope_id\": \"$CON2\",
    \"name\": \"base_url\", \"value\": \"ftp://example.invalid\"}]}"
assert_eq 200 "$CODE" "VarsService/Set of a bad base_url answers 200"
con RefreshStatus "{\"connection_id\": \"$CON2\"}"
assert_eq CODE_ERROR "$(jget "$BODY" .status.code)" "RefreshStatus of an http connection with a bad base_url: CODE_ERROR"
assert_contains "$(jget "$BODY" .status.message)" base_url "and the message names base_url"

# -- a connection trigger, updated, then deleted with its connection --
trg Create "{\"trigger\": {\"project_id\": \"$PRJ\", \"name\": \"on_push\",
    \"source_type\": \"SOURCE_TYPE_CONNECTION\", \"connection_id\": \"$CON\",
    \"event_type\": \"push\", $loc}}"
assert_eq 200 "$CODE" "Create of a connection trigger answers 200 ($BODY)"
CTRG=$(jget "$BODY" .trigger_id)
trg Update "{\"trigger\": {\"trigger_id\": \"$CTRG\", \"connection_id\": \"$CON\",
    \"event_type\": \"issues\", $loc}}"
assert_eq 200 "$CODE" "Update of the connection trigger's event_type answers 200 ($BODY)"
before=$(trigger_json "$CTRG")
assert_eq issues "$(jget "$before" .event_type)" "Get shows event_type issues"
assert_eq "$CON" "$(jget "$before" .connection_id)" "Get shows the connection"
trg Update "{\"trigger\": {\"trigger_id\": \"$CTRG\", \"connection_id\": \"$CUNKNOWN\", $loc}}"
refused 404 not_found "$CUNKNOWN" "Update to an unknown connection"
trg Update "{\"trigger\": {\"trigger_id\": \"$CTRG\", \"event_type\": \"push\", $loc}}"
refused 400 invalid_argument connection_id "Update of a connection trigger without its connection_id"
# Another project's connection: dispatch matches connection triggers by
# connection alone, so this would hand that project's events to this one.
PRJ2=$(ak project create other 2>&1 | grep -Eo 'prj_[0-9a-z]{26}' | head -1)
assert_match "$PRJ2" '^prj_' "a second project"
con Create "{\"connection\": {\"project_id\": \"$PRJ2\", \"integration_id\": \"github\",
    \"name\": \"theirs\"}}"
assert_eq 200 "$CODE" "Create of the second project's connection answers 200 ($BODY)"
CONX=$(jget "$BODY" .connection_id)
trg Create "{\"trigger\": {\"project_id\": \"$PRJ\", \"name\": \"on_theirs\",
    \"source_type\": \"SOURCE_TYPE_CONNECTION\", \"connection_id\": \"$CONX\", $loc}}"
refused 400 invalid_argument "another project" "Create of a trigger on another project's connection"
assert_contains "$BODY" "$PRJ2" "the refusal names the connection's project"
assert_contains "$BODY" "create one in $PRJ" "and says what to do instead"
trg Update "{\"trigger\": {\"trigger_id\": \"$CTRG\", \"connection_id\": \"$CONX\", $loc}}"
refused 400 invalid_argument "another project" "Update of a trigger to another project's connection"
assert_eq "$before" "$(trigger_json "$CTRG")" "the refused Updates left the connection trigger unchanged"
trg List "{\"connection_id\": \"$CON\"}"
assert_eq on_push "$(jget "$BODY" '[.triggers[].name] | join(" ")')" \
    "List by connection has the trigger"

api vars.v1.VarsService/Get "{\"scope_id\": \"$CON\"}"
assert_eq "note webhook_secret" "$(jget "$BODY" '[.vars[].name] | join(" ")')" \
    "the connection has its two vars before Delete"

con Delete "{\"connection_id\": \"$CUNKNOWN\"}"
refused 404 not_found "$CUNKNOWN" "Delete of an unknown connection"
con Delete "{\"connection_id\": \"$CON\"}"
assert_eq 200 "$CODE" "Delete answers 200 ($BODY)"
con Get "{\"connection_id\": \"$CON\"}"
refused 404 not_found "$CON" "Get after Delete"
con Update "{\"connection\": {\"connection_id\": \"$CON\", \"name\": \"again\"}}"
refused 404 not_found "$CON" "Update after Delete"
con RefreshStatus "{\"connection_id\": \"$CON\"}"
refused 404 not_found "$CON" "RefreshStatus after Delete"
assert_eq web "$(con_names)" "List no longer has the deleted connection"
trg Get "{\"trigger_id\": \"$CTRG\"}"
refused 404 not_found "$CTRG" "the connection's trigger went with it"
assert_eq other "$(trigger_names)" "List has only the webhook trigger left"
# A connection that is gone is no scope for vars any more.
api vars.v1.VarsService/Get "{\"scope_id\": \"$CON\"}"
refused 404 not_found "$CON" "VarsService/Get of the deleted connection"
api vars.v1.VarsService/Get "{\"scope_id\": \"$CON2\"}"
assert_eq 200 "$CODE" "the other connection's vars are readable"
assert_eq base_url "$(jget "$BODY" '[.vars[].name] | join(" ")')" "and still there"

assert_healthy "after the updates, the daemon"
stop_daemon
assert_status 0 "$STOP_STATUS" "autokittehd exits 0 on SIGTERM"

# The API cannot list the vars of a scope that is gone: look in the store,
# now that the daemon has closed it, for what Delete left behind.
PY=/usr/bin/python3
if [ -x "$PY" ] && "$PY" -c 'import sqlite3' 2>/dev/null; then
	left=$("$PY" - "$DATA/autokitteh.db" "$CON" "$CON2" <<'PY'
import sqlite3, sys
db = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True)
q = lambda sql, *a: db.execute(sql, a).fetchone()[0]
print(q("SELECT count(*) FROM vars WHERE scope_id = ?", sys.argv[2]),
      q("SELECT count(*) FROM triggers WHERE connection_id = ?", sys.argv[2]),
      q("SELECT count(*) FROM vars WHERE scope_id = ?", sys.argv[3]))
PY
)
	assert_eq "0 0 1" "$left" "the store keeps no var or trigger of the deleted connection, and the other's var"
else
	echo "# $PY with sqlite3 is missing: the store was not inspected"
fi
