#!/usr/bin/env bash
# The dashboard at / in a real browser: headless Chromium, driven over the DevTools protocol
# (dashboard.py), loads it from a running daemon; what it rendered must equal what the API
# serves, and it logged no error (a script or style the policy refused would be one);
# screenshots go to artifacts/ in the build directory; a mouse click on a job's run button
# (the page asks for the token once) starts the job, which history then shows.
. "$(dirname "$0")/lib.sh"
need_python websocket
command -v chromium >/dev/null || skip "chromium is not installed"
command -v curl >/dev/null || skip "curl is not installed"
SHOTS=${HOUSEKEEP_TEST_ARTIFACTS:-$STARTED_IN/artifacts}
mkdir -p "$SHOTS"

daemon_pid=""
trap '[ -n "$daemon_pid" ] && kill -KILL "$daemon_pid" 2>/dev/null; rm -rf "$WORK"' EXIT

"$HK" --db app.db demo --rows 3000 -q
head -c 24 /dev/urandom | base64 >token
chmod 600 token
cat >dash.toml <<EOF
[http]
token_file = "$WORK/token"

[jobs.nightly]
task = "stats"
schedule = "0 2 * * *"

[jobs.purge]
task = "conversations"
schedule = "30 3 * * 1-5"
timezone = "Europe/Berlin"
EOF
"$HK" --db app.db -c dash.toml run --job nightly -q
"$HK" --db app.db -c dash.toml daemon --listen 127.0.0.1:0 2>daemon.log &
daemon_pid=$!
wait_for 5 grep -q "serving the status API on http://" daemon.log
base=$(grep -o "http://[^ ]*" daemon.log | head -1)
old="SELECT count(*) FROM conversations WHERE created_at < datetime('now', '-30 days')"
old_before=$(q app.db "$old")

curl -s -D page.headers -o page.html "$base/"
check "the page comes with a policy allowing no inline code" \
  sh -c "grep -qi \"^Content-Security-Policy: default-src 'none'; script-src 'self'; style-src 'self';\" page.headers"
check "and has none" sh -c "! grep -qiE '<script>|<style>| on[a-z]+=' page.html"

"$PYTHON" "$(dirname "$0")/dashboard.py" "$base" "$(cat token)" "$SHOTS" purge >driver.log 2>&1
driver_rc=$?
sed 's/^/  browser: /' driver.log
check "the page, rendered by Chromium, shows what the API serves, and its run button starts the job" [ "$driver_rc" -eq 0 ]
id=$(tail -1 driver.log)
check "screenshots saved ($SHOTS/dashboard.png, dashboard-phone.png)" \
  sh -c "file '$SHOTS/dashboard.png' | grep -q 'PNG image' && file '$SHOTS/dashboard-phone.png' | grep -q 'PNG image'"
finished() { curl -s -H "Authorization: Bearer $(cat token)" "$base/api/v1/runs/$id" | jq -e '.state == "finished"' >/dev/null; }
check "the run the click started ($id) finishes" wait_for 30 finished
"$HK" --db app.db --json history --limit 10 >history.json
check "history shows it: job purge, started by $id, ok" \
  jq -e --arg id "$id" '.runs | map(select(.trigger == $id and .job == "purge" and .status == "ok")) | length == 1' history.json
check "it deleted the $old_before old conversations" [ "$(q app.db "$old")" -eq 0 ]
check "the page's requests left no error in the log" sh -c "! grep -q 'housekeep: error:' daemon.log"
kill -TERM "$daemon_pid"
wait "$daemon_pid"
check "the daemon stops with 0" [ $? -eq 0 ]
daemon_pid=""
finish
