# Sourced (not run) by the integration scripts in tests/integration that talk to a real
# `truce serve`: a free loopback port, starting the server on it and waiting for /healthz
# (another port is tried when the server cannot bind the one picked), restarting it on the same
# port (after a kill -9), stopping it with SIGTERM and checking it exits 0, the EXIT clean-up, a
# `fail` that prints the server's log, and the `req` curl wrapper.
# It lives outside tests/integration because tests/run runs every script there as a test.
#
# Sourcing it makes the script's temporary directory $D and sets the EXIT trap serve_cleanup
# (a script with more to clean up sets its own trap and calls serve_cleanup from it).
# The script sets before use:
#   T           the truce binary
#   SERVE_LOG   where the server's output goes (default $D/server.log; appended to, so a
#               restarted server adds to it)
#   SERVE_ERR   if set, the server's stderr goes there and SERVE_LOG gets only stdout; `fail`
#               then prints this file
#   SERVE_HIDE_REQUESTS=1   `fail` leaves out the per-request access lines of the log
#   AUTH        the Authorization header `req` sends (AS, when set, takes its place)
# serve_start / serve_restart set SP (the server's pid), PORT and U (http://127.0.0.1:PORT).

D=$(mktemp -d)
SP=""
SERVE_PIDS=()

# fail MESSAGE...: prints the message and the server's log, and ends the script with status 1
fail() {
  echo "FAIL: $*"
  local log=${SERVE_ERR:-${SERVE_LOG:-$D/server.log}}
  if [ -f "$log" ]; then
    if [ -n "${SERVE_HIDE_REQUESTS:-}" ]; then grep -v '"event":"request"' "$log"; else cat "$log"; fi \
      | sed 's/^/  server: /'
  fi
  exit 1
}

# serve_cleanup: kills every server started and not yet stopped (SIGKILL), removes $D; the
# EXIT trap
serve_cleanup() {
  local p running
  running=" $(jobs -p | tr '\n' ' ') "   # a pid waited for already may belong to another process now
  for p in "${SERVE_PIDS[@]}"; do
    [[ "$running" == *" $p "* ]] || continue
    kill -KILL "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true
  done
  rm -rf "$D"
}

trap serve_cleanup EXIT

# serve_free_port: prints a loopback port nothing answers on, below Linux's ephemeral range
# (32768-60999 by default), so that no client's outgoing connection holds it by the time it is
# bound (that made a webhook receiver's bind fail once)
serve_free_port() {
  local p
  while :; do
    p=$((20000 + RANDOM % 12700))
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
  done
}

# serve_launch DATA_DIR [SERVE_ARGS...]: starts `truce serve` on $PORT in the background (SP)
# and waits up to 10 s for /healthz; returns 1 (the server killed, SP empty) if it exited or
# did not answer. The environment of the call reaches the server.
serve_launch() {
  local data=$1; shift
  if [ -n "${SERVE_ERR:-}" ]; then
    "$T" serve --data "$data" --listen "127.0.0.1:$PORT" "$@" >>"${SERVE_LOG:-$D/server.log}" 2>>"$SERVE_ERR" &
  else
    "$T" serve --data "$data" --listen "127.0.0.1:$PORT" "$@" >>"${SERVE_LOG:-$D/server.log}" 2>&1 &
  fi
  SP=$!
  SERVE_PIDS+=("$SP")
  for _ in $(seq 1 100); do
    curl -s --max-time 1 -o /dev/null "http://127.0.0.1:$PORT/healthz" && return 0
    kill -0 "$SP" 2>/dev/null || break
    sleep 0.1
  done
  serve_kill
  return 1
}

# serve_forget PID: the server PID is gone (waited for); serve_cleanup no longer kills it
serve_forget() {
  local p keep=()
  for p in "${SERVE_PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
  SERVE_PIDS=("${keep[@]}")
}

# serve_kill: SIGKILL to the server (a crash), waited for; clears SP
serve_kill() {
  kill -KILL "$SP" 2>/dev/null || true; wait "$SP" 2>/dev/null || true
  serve_forget "$SP"; SP=""
}

# serve_start DATA_DIR [SERVE_ARGS...]: a server on a free loopback port (up to 10 ports tried);
# sets SP, PORT and U, or fails
serve_start() {
  local attempt
  for attempt in 1 2 3 4 5 6 7 8 9 10; do
    PORT=$(serve_free_port)
    if serve_launch "$@"; then U="http://127.0.0.1:$PORT"; return 0; fi
  done
  fail "the server did not come up"
}

# serve_restart DATA_DIR [SERVE_ARGS...]: the server again on the same $PORT (after serve_stop
# or a kill -9); sets SP and U, or fails
serve_restart() {
  serve_launch "$@" || fail "the server did not come up again on port $PORT"
  U="http://127.0.0.1:$PORT"
}

# serve_stop [MAX_SECONDS]: SIGTERM to the server, which must exit with status 0 (within
# MAX_SECONDS when given); clears SP
serve_stop() {
  local rc=0
  kill -TERM "$SP"
  if [ -n "${1:-}" ]; then
    for _ in $(seq 1 $(($1 * 10))); do kill -0 "$SP" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$SP" 2>/dev/null; then fail "still running $1 s after SIGTERM"; fi
  fi
  wait "$SP" || rc=$?
  serve_forget "$SP"; SP=""
  [ "$rc" = 0 ] || fail "exit status $rc after SIGTERM"
}

# req WANT_STATUS CURL_ARGS...: runs curl with the $AS or $AUTH header, checks the status;
# leaves the body in $out (and $D/body), the content type in $ctype, the headers in $D/headers
req() {
  local want=$1; shift
  local got
  got=$(curl -sS --max-time "${REQ_MAX_TIME:-20}" -D "$D/headers" -o "$D/body" -w '%{http_code} %{content_type}' \
    -H "${AS:-$AUTH}" "$@") || fail "curl failed: $*"
  ctype=${got#* }; got=${got%% *}
  out=$(tr -d '\0' <"$D/body")
  [ "$got" = "$want" ] || fail "status $got (wanted $want) from: $* -> $(head -c 2000 <<<"$out")"
}
