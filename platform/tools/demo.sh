#!/usr/bin/env bash
# `make demo`: the README's first-hour session, run as written against the stack of
# `make up` (or `make dev`), each command printed before its output.
#
# The session is the ```sh block after the line `<!-- first-hour session -->` of the README
# (the first argument): one text for the reader and for this script, so neither drifts.
# Each command (with its continuation lines) runs in this shell, so the variables one sets
# are there for the next, as when the reader pastes them; a line starting with `#` is the
# session's narration. Running it again is safe. It needs curl and jq, as the README says.
set -uo pipefail

readme=${1:-README.md}
for program in curl jq; do
  command -v "$program" >/dev/null || {
    echo "demo: $program is needed (the README lists the session's prerequisites)" >&2
    exit 2
  }
done
session=$(awk '
  /<!-- first-hour session -->/ { found = 1; next }
  found && /^```/ { if (inside) exit; inside = 1; next }
  inside { print }
' "$readme")
[ -n "$session" ] || { echo "demo: no first-hour session in $readme" >&2; exit 2; }
gateway=http://127.0.0.1:${GATEWAY_HTTP__PORT:-8080}
curl -sf -o /dev/null --max-time 5 "$gateway/readyz" || {
  echo "demo: no stack answers at $gateway (run make up in another terminal first)" >&2
  exit 2
}

if [ -t 1 ]; then bold=$'\033[1m' dim=$'\033[2m' plain=$'\033[0m'; else bold='' dim='' plain=''; fi
failed=0
command=''
while IFS= read -r line <&3; do
  if [ -z "$command" ] && [[ $line == '#'* ]]; then
    printf '\n%s%s%s\n' "$dim" "$line" "$plain"
    continue
  fi
  command+="$line"$'\n'
  [[ $line == *\\ ]] && continue
  printf '%s$ %s%s\n' "$bold" "${command%$'\n'}" "$plain"
  eval "$command" </dev/null || failed=$((failed + 1))
  command=''
done 3<<<"$session"

if [ "$failed" -gt 0 ]; then
  echo "demo: $failed step(s) failed (their output is above)" >&2
  exit 1
fi
