#!/usr/bin/env bash
# smtp-latency-rss.sh SEKISHO_BIN [N]
#
# The two SMTP figures of the README that smtp-bench.sh does not give:
#   1. added latency: N (default 300) 100 KB messages sent one after the
#      other (one connection each, Python's smtplib) straight to smtp-sink
#      and then through `sekisho serve`; prints the median and p90 time per
#      message of each and the difference of the medians.
#   2. peak memory: one 50 MiB message relayed; prints sekisho's VmHWM.
# Needs smtp-sink and smtp-source (Debian package postfix), python3, openssl.
# Everything listens on 127.0.0.1; every process started is stopped on exit.
set -euo pipefail
BIN=$(realpath "${1:?usage: smtp-latency-rss.sh SEKISHO_BIN [N]}")
N=${2:-300}
for t in smtp-sink smtp-source python3 openssl ss; do
  command -v "$t" >/dev/null || { echo "missing: $t (apt-get install postfix python3 openssl iproute2)" >&2; exit 1; }
done
WORK=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT INT TERM

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 100); do ss -ltn | grep -q "127.0.0.1:$1 " && return 0; sleep 0.1; done; echo "port $1 did not open" >&2; exit 1; }

# message(FILE, BYTES): a multipart message with a base64 attachment of
# random bytes, about BYTES long, LF line ends (the senders add CR).
message() {
  {
    printf 'From: sender@bench.invalid\nTo: rcpt@bench.invalid\nSubject: latency\nMIME-Version: 1.0\n'
    printf 'Content-Type: multipart/mixed; boundary="=_b"\n\n--=_b\nContent-Type: text/plain\n\nInventory attached.\n\n'
    printf -- '--=_b\nContent-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n'
    printf 'Content-Disposition: attachment; filename="inventory.bin"\n\n'
    openssl rand $(( $2 * 3 / 4 )) | base64 -w 76
    printf -- '--=_b--\n'
  } >"$1"
}
message "$WORK/100k.eml" 102400
message "$WORK/50m.eml" $(( 50 << 20 ))

SINK=$(port); SMTP=$(port); PROXY=$(port); ADMIN=$(port)
smtp-sink -u nobody "127.0.0.1:$SINK" 256 >/dev/null 2>&1 & PIDS+=($!)
wait_port "$SINK"
"$BIN" serve --smtp-listen "127.0.0.1:$SMTP" --smtp-next-hop "127.0.0.1:$SINK" \
  --proxy-listen "127.0.0.1:$PROXY" --admin-listen "127.0.0.1:$ADMIN" \
  --data-dir "$WORK/data" >"$WORK/sekisho.log" 2>&1 & SK=$!; PIDS+=($SK)
wait_port "$SMTP"

times() {  # times PORT: seconds per message, one line each
  python3 - "$1" "$WORK/100k.eml" "$N" <<'PY'
import smtplib, sys, time
port, path, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
msg = open(path, "rb").read().replace(b"\n", b"\r\n")
for _ in range(n):
    t = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port) as s:
        s.sendmail("sender@bench.invalid", ["rcpt@bench.invalid"], msg)
    print(time.perf_counter() - t)
PY
}
stats() { sort -g | awk '{a[NR]=$1} END {printf "%.2f %.2f\n", a[int(NR*0.5)+1]*1000, a[int(NR*0.9)+1]*1000}'; }
times "$SINK" >/dev/null   # warm-up of both paths
times "$SMTP" >/dev/null
read -r d50 d90 < <(times "$SINK" | stats)
read -r s50 s90 < <(times "$SMTP" | stats)
echo "100 KB, $N messages one after the other (ms per message):"
echo "  direct to smtp-sink : p50 $d50  p90 $d90"
echo "  through sekisho     : p50 $s50  p90 $s90"
awk -v a="$s50" -v b="$d50" 'BEGIN {printf "  added p50           : %.2f ms\n", a - b}'

timeout 300 smtp-source -s 1 -m 1 -F "$WORK/50m.eml" -f sender@bench.invalid -t rcpt@bench.invalid \
  "127.0.0.1:$SMTP" || { echo "the 50 MiB message was not relayed" >&2; exit 1; }
echo "50 MiB message relayed; sekisho $(grep VmHWM /proc/$SK/status | tr -s ' \t' ' ')"
