# Shared by the conformance runner, the API fuzz run and the benchmarks: a strata server on a temporary folder
# and a mount of one volume. Source it with `strata` and `work` set; call cleanup on exit.

server_pid=""

# The server alone, with STRATA_ENDPOINT, STRATA_TOKEN and STRATA_CONFIG_DIR set for the CLI.
start_server() {
  "$strata" server --listen 127.0.0.1:0 --data-dir "$work/data" 2> "$work/server.log" &
  server_pid=$!
  until grep -q "listening on" "$work/server.log"; do
    kill -0 "$server_pid" || { cat "$work/server.log"; return 1; }
    sleep 0.1
  done
  export STRATA_ENDPOINT=$(grep -o 'http://[0-9.:]*' "$work/server.log" | head -1)
  export STRATA_TOKEN=$(cat "$work/data/admin.token")
  export STRATA_CONFIG_DIR="$work/config"
}

start_strata() {
  start_server
  "$strata" volume create conformance > /dev/null
  mkdir -p "$work/mnt"
}

# pjdfstest acts as other users too: they may reach the mount. With write-back: the mount
# owns its tree.
mount_it() { "$strata" mount conformance "$work/mnt" --cache-dir "$work/cache" --allow-other --write-back 1s; }

cleanup() {
  umount -l "$work/mnt" 2>/dev/null || true
  # The server ends its sandboxes and unmounts their volumes before it exits: wait for it,
  # so that nothing is mounted in the folder removed next.
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || true
  rm -rf "$work"
}
