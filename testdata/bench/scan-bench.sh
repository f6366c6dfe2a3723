#!/bin/sh
# End-to-end scan benchmark of issue 2: `sekisho scan` of a ~100 MiB message
# (base64 attachments: a CP932 CSV, an application log, a zip of both)
# against a naive Python script (naive.py), side by side.
#
# Usage (from anywhere): testdata/bench/scan-bench.sh [RUNS]
#
# It builds sekisho (CGO_ENABLED=0) and generates the message into a temp
# dir, then runs `sekisho scan --json` and `python3 naive.py` alternately
# RUNS times each (default 3) under /usr/bin/time -v, and prints a Markdown
# table of medians: MB/s = message bytes / wall seconds (10^6 bytes), CPU =
# user + system seconds, peak RSS = "Maximum resident set size". The load
# of the machine (uptime) is printed before and after: on a shared machine
# wall time depends on it, CPU time much less.
set -eu

runs=${1:-3}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sekisho-bench.XXXXXX")
[ -n "${KEEP:-}" ] || trap 'rm -rf "$tmp"' EXIT INT TERM

if [ ! -x /usr/bin/time ]; then
	echo "scan-bench: /usr/bin/time is missing (Debian: apt-get install time)" >&2
	exit 2
fi

(cd "$root" && CGO_ENABLED=0 go build -o "$tmp/sekisho" ./cmd/sekisho)
(cd "$root" && go run ./testdata/bench/genmsg -o "$tmp/msg.eml")
size=$(wc -c <"$tmp/msg.eml")

echo "message: $size bytes; load before: $(uptime)"

# measure NAME CMD...: one run; appends "wall cpu rss_kib" to $tmp/NAME.runs.
measure() {
	name=$1
	shift
	/usr/bin/time -v "$@" >"$tmp/$name.out" 2>"$tmp/$name.time" || {
		rc=$?
		# sekisho scan exits 1 for a blocked message: still a valid run.
		if [ "$name" != sekisho ] || [ $rc -ne 1 ]; then
			cat "$tmp/$name.time" >&2
			exit 1
		fi
	}
	awk -F': ' '
		/Elapsed \(wall clock\)/ { n = split($2, t, ":"); w = 0; for (i = 1; i <= n; i++) w = w * 60 + t[i] }
		/User time/ { u = $2 }
		/System time/ { s = $2 }
		/Maximum resident set size/ { r = $2 }
		END { printf "%.2f %.2f %d\n", w, u + s, r }' "$tmp/$name.time" >>"$tmp/$name.runs"
}

for i in $(seq "$runs"); do
	measure sekisho "$tmp/sekisho" scan --json "$tmp/msg.eml"
	measure naive python3 "$here/naive.py" "$tmp/msg.eml"
done

echo "load after: $(uptime)"
python3 -c 'import json, sys; r = json.load(open(sys.argv[1])); print("sekisho verdict:", r["verdict"], "findings:", r["findings"])' "$tmp/sekisho.out"
echo "naive findings: $(cat "$tmp/naive.out")"
echo

# median of column $2 of file $1
median() { sort -n -k"$2" "$1" | awk -v k="$2" '{ v[NR] = $k } END { print v[int((NR + 1) / 2)] }'; }

echo "| scanner | MB/s (wall) | wall s | CPU s (user+sys) | MB per CPU s | peak RSS MiB |"
echo "|---|---:|---:|---:|---:|---:|"
for name in sekisho naive; do
	w=$(median "$tmp/$name.runs" 1)
	c=$(median "$tmp/$name.runs" 2)
	r=$(median "$tmp/$name.runs" 3)
	awk -v n="$name" -v s="$size" -v w="$w" -v c="$c" -v r="$r" 'BEGIN {
		label = (n == "sekisho") ? "sekisho scan --json (all detectors)" : "naive.py (email + 2 regexes)"
		printf "| %s | %.0f | %.2f | %.2f | %.0f | %.0f |\n", label, s / w / 1e6, w, c, s / c / 1e6, r / 1024 }'
done
echo
echo "medians of $runs runs each; per-run figures (wall s, CPU s, RSS KiB):"
for name in sekisho naive; do
	echo "  $name: $(tr '\n' ';' <"$tmp/$name.runs")"
done
