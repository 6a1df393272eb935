#!/usr/bin/env bash
# Side by side, in one run against one independent server (qpayserver):
# client CPU per OrderQuery call of the SDK's default client (goclient)
# and of the seed's Python approach (pyclient.py), single order and
# 300-order page, rounds interleaved. See BENCHMARKS.md.
#
#   bench/sidebyside.sh [-r ROUNDS] [-b GIT_REF] [-o OUT.jsonl]
#
# -b also builds goclient against the SDK at GIT_REF (e.g. the commit
# before a change) and measures it in the same rounds, labelled "go@REF".
# Needs Go and Debian's python3-requests and python3-pycryptodome.
set -euo pipefail
cd "$(dirname "$0")"
rounds=5 ref="" out=""
while getopts r:b:o: opt; do
  case $opt in
    r) rounds=$OPTARG ;; b) ref=$OPTARG ;; o) out=$OPTARG ;;
    *) exit 2 ;;
  esac
done
tmp=$(mktemp -d)
out=${out:-$tmp/results.jsonl}
py=${PYTHON:-/usr/bin/python3}
cleanup() { [ -n "${srv:-}" ] && kill "$srv" 2>/dev/null; [ -n "$ref" ] && git worktree remove --force "$tmp/sdk" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT

export GOWORK=off
go build -o "$tmp/qpayserver" ./qpayserver
go build -o "$tmp/go" ./goclient
clients=("go=$tmp/go")
if [ -n "$ref" ]; then
  git worktree add --detach "$tmp/sdk" "$ref" >/dev/null 2>&1
  mkdir "$tmp/old" && cp goclient/main.go "$tmp/old/"
  (cd "$tmp/old" && printf 'module old\n\ngo 1.26.0\n\nrequire github.com/funbiz-go/sinopac v0.0.0\n\nreplace github.com/funbiz-go/sinopac => %s\n' "$tmp/sdk" >go.mod \
    && go mod tidy >/dev/null 2>&1 && go build -o "$tmp/go-old" .)
  clients+=("go@$ref=$tmp/go-old")
fi
clients+=("python=$py pyclient.py")

"$tmp/qpayserver" -addr 127.0.0.1:0 >"$tmp/srv.out" &
srv=$!
for _ in $(seq 50); do grep -q listening "$tmp/srv.out" 2>/dev/null && break; sleep 0.1; done
url=$(awk '{print $2}' "$tmp/srv.out")

: >"$out"
for r in $(seq "$rounds"); do
  for mode in single page; do
    n=400 warm=40
    [ $mode = page ] && n=60 warm=10
    for c in "${clients[@]}"; do
      label=${c%%=*} cmd=${c#*=}
      $cmd -url "$url" -mode $mode -n $n -warm $warm -label "$label" | sed "s/^{/{\"round\":$r,/" >>"$out"
    done
  done
done
"$py" summarize.py "$out"
