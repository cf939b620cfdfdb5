#!/usr/bin/env bash
# A bounded, repeatable fuzz run of the HTTP API: schemathesis generates requests from
# GET /v1/openapi.json (FUZZ_EXAMPLES per operation, 20 by default; deterministic
# generation) against a real strata server on a temporary data folder, and fails on any 5xx answer or a
# server that stops. Usage: tests/api-fuzz/run.sh STRATA_BINARY
# The sandbox routes run in a second pass, whose `{id}` is a sandbox made for it (the commands
# generated run inside it, on a real runtime). Left out: closing a mount session and deleting
# that sandbox, so that both stay for the calls that need them.
# The last line counts the requests the server answered, from its /metrics before and after.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
strata=$(realpath "$1")
examples=${FUZZ_EXAMPLES:-20}
work=$(mktemp -d /var/tmp/strata-api-fuzz.XXXXXX)
source "$repo/tests/conformance/lib.sh"
trap cleanup EXIT

# One version, so that a run generates the same requests as the last.
venv=${STRATA_FUZZ_VENV:-${CARGO_TARGET_DIR:-$repo/target}/api-fuzz-venv}
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check schemathesis==4.32.5

start_server
endpoint=$STRATA_ENDPOINT key=$STRATA_TOKEN
# The objects the document's examples name (volume `data`, file `/notes.txt`, snapshot
# `data@v1`), so that generated requests reach real ones; and a volume and a snapshot for the
# deletes to take instead (schemathesis.toml below), so that the rest keep theirs.
"$strata" volume create data > /dev/null
"$strata" volume create doomed > /dev/null
echo "some notes" | "$strata" fs put - data:/notes.txt > /dev/null
"$strata" snapshot create data v1 > /dev/null
"$strata" snapshot create data doomed > /dev/null
# A mount session of `data`, so that the session calls reach their handlers: every `{id}` of a
# path is this session (sandboxes, the other `{id}`, are left out), every `node` a body names
# is /notes.txt and every `parent` the root (a made-up node is refused before anything else
# is looked at). TOML has no integers above 2^63, so sessions are opened until both nodes'
# capabilities fit. Closing a session is left out of the run so that this one stays open.
python3 - "$endpoint" "$key" > "$work/schemathesis.toml" <<'PY'
import json, sys, urllib.request
endpoint, key = sys.argv[1:]
def post(path, body):
    request = urllib.request.Request(
        endpoint + path, data=json.dumps(body).encode(), method="POST",
        headers={"Authorization": "Bearer " + key, "Content-Type": "application/json"})
    return json.load(urllib.request.urlopen(request))
for _ in range(64):
    session = post("/v1/volumes/data/sessions", {})
    root = session["root"]["node"]
    file = post("/v1/sessions/%s/lookup" % session["id"], {"parent": root, "name": "notes.txt"})["node"]
    if max(root["cap"], file["cap"]) < 2**63:
        break
else:
    sys.exit("no session whose capabilities fit in 63 bits")
print("[parameters]")
print('"path.id" = "%s"' % session["id"])
for field, node in (("node", file), ("parent", root), ("new_parent", root)):
    print('"body.%s" = { ino = %d, cap = %d }' % (field, node["ino"], node["cap"]))
print("""
[[operations]]
include-method = "DELETE"
include-path = "/v1/volumes/{volume}"
parameters = { "path.volume" = "doomed" }

[[operations]]
include-method = "DELETE"
include-path = "/v1/volumes/{volume}/snapshots/{name}"
parameters = { "path.name" = "doomed" }""")
PY

# Requests answered so far, by status class: sums strata_http_requests_total from /metrics.
counts() {
  curl -sf "$endpoint/metrics" | awk '
    /^strata_http_requests_total\{/ {
      match($0, /status="[0-9]+"/); s = substr($0, RSTART + 8, 3); n = $NF
      all += n; if (s ~ /^4/) c4 += n; if (s ~ /^5/) c5 += n }
    END { printf "%d %d %d\n", all, c4, c5 }'
}
read -r all0 c4_0 c5_0 < <(counts)

status=0
cd "$work" # schemathesis keeps its cache in the current folder
# First the sandbox routes (the other pass revokes keys, this one's too), on a sandbox of
# their own; commands are cut short (timeout_secs 2).
sandbox=$("$strata" sandbox create --volume data:/data)
cat > "$work/sandboxes.toml" <<TOML
[parameters]
"path.id" = "$sandbox"
"body.timeout_secs" = 2
TOML
"$venv/bin/schemathesis" --config-file "$work/sandboxes.toml" run "$endpoint/v1/openapi.json" \
  --header "Authorization: Bearer $key" \
  --checks not_a_server_error \
  --max-examples "$examples" --generation-deterministic \
  --workers 1 --no-color \
  --include-path-regex '^/v1/sandboxes' --exclude-method DELETE \
  || status=$?
for id in $("$strata" sandbox list --json | python3 -c 'import json, sys; print(" ".join(s["id"] for s in json.load(sys.stdin)))'); do
  "$strata" sandbox delete "$id"
done

"$venv/bin/schemathesis" --config-file "$work/schemathesis.toml" run "$endpoint/v1/openapi.json" \
  --header "Authorization: Bearer $key" \
  --checks not_a_server_error \
  --max-examples "$examples" --generation-deterministic \
  --workers 1 --no-color \
  --exclude-path-regex '^/v1/sandboxes' --exclude-path '/v1/sessions/{id}' \
  || status=$?


if ! kill -0 "$server_pid" 2>/dev/null; then
  echo "api-fuzz: the server stopped:"
  tail -40 "$work/server.log"
  exit 1
fi
read -r all1 c4_1 c5_1 < <(counts)
# The counting /metrics requests themselves are left out.
echo "api-fuzz: $((all1 - all0 - 1)) requests, $((c4_1 - c4_0)) 4xx, $((c5_1 - c5_0)) 5xx"
[ "$((c5_1 - c5_0))" -eq 0 ] || status=1
exit "$status"
