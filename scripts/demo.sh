#!/bin/sh
# The demo: a generated county (invented sample data) in var/demo.db with events up to today
# (HUIQI_DEMO_AS_OF=2026-09-15 for another day), its compliance on that day, one reminder sweep into var/demo-mail, a calendar feed and the web app.
# Interactive: serves http://127.0.0.1:8000 until Ctrl-C. Otherwise: fetches the feed once
# from a short-lived server to show it works, and exits.
set -eu
cd "$(dirname "$0")/.."
huiqi=.venv/bin/huiqi
as_of="${HUIQI_DEMO_AS_OF:-$(date +%Y-%m-%d)}"
year="${as_of%%-*}"
mkdir -p var
# The key that signs the demo's record links, kept in var/ (a server sets its own, see README)
[ -s var/demo.key ] || .venv/bin/python -c "import secrets; print(secrets.token_urlsafe(32))" >var/demo.key
export HUIQI_SECRET_KEY="$(cat var/demo.key)"
export HUIQI_DATABASE_URL="sqlite:///$(pwd)/var/demo.db"
export HUIQI_MAIL__FOLDER=var/demo-mail
export HUIQI_WEB__BASE_URL="${HUIQI_WEB__BASE_URL:-http://127.0.0.1:8000}"
rm -rf var/demo.db var/demo.db-wal var/demo.db-shm var/demo-mail

step() { printf '\n== %s\n' "$*"; }

step "huiqi init && huiqi demo"
$huiqi init
$huiqi demo --as-of "$as_of"

step "huiqi matrix --year $year --as-of $as_of --rule township-hearing"
$huiqi matrix --year "$year" --as-of "$as_of" --rule township-hearing

step "huiqi scorecard --year $year --as-of $as_of --kind township"
$huiqi scorecard --year "$year" --as-of "$as_of" --kind township

step "huiqi remind --as-of $as_of   (one sweep and one dispatch)"
$huiqi remind --as-of "$as_of"
echo "reminder mails (.eml): $(pwd)/var/demo-mail"

step "huiqi feeds create --unit 621225 --subtree"
feed=$($huiqi feeds create --unit 621225 --subtree --by demo)
echo "$feed"
url=$(echo "$feed" | sed -n 's/^url: *//p')

password=$(.venv/bin/python -c "import secrets; print(secrets.token_urlsafe(9))")
HUIQI_PASSWORD="$password" $huiqi users add admin --role admin --name 演示管理员 >/dev/null
step "web login: admin / $password"

tour() {
    step "try it: the README's quick tour (copy these lines, from $(pwd))"
    awk '/^## Quick tour/ {on = 1} on && /^```sh$/ {block = 1; next} block && /^```$/ {exit}
         block {print}' README.md
}

if [ -t 0 ] && [ -t 1 ]; then
    tour
    step "huiqi serve   (http://127.0.0.1:8000, Ctrl-C to stop)"
    exec $huiqi serve
fi
step "huiqi serve, fetching the feed once (not interactive, so the server stops after)"
$huiqi serve --port 8000 >var/demo-serve.log 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
.venv/bin/python - "$url" <<'PY'
import sys, time, urllib.request
url = sys.argv[1]
for _ in range(100):
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            body = response.read()
            events = body.count(b"BEGIN:VEVENT")
            print(f"GET {url} -> {response.status}, {len(body)} bytes, {events} events, "
                  f"ETag {response.headers['ETag']}")
            break
    except OSError:
        time.sleep(0.2)
else:
    sys.exit("the web app did not answer")
PY
tour
echo ".venv/bin/huiqi serve     # after the export line above: browse the demo"
