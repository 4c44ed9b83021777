#!/bin/sh
# grpc-overhead.sh: glassbox's gRPC server overhead against the peers'
# (otelgrpc + go-grpc-middleware logging + a request-ID interceptor), as
# a median over rounds of separate processes.
#
#   bench/grpc-overhead.sh [rounds] [benchtime]     (defaults: 6, 1s)
#
# The test binary is compiled once (go test -c). Each round runs
# BenchmarkGRPCUnary/bare, /glassbox and /peers, each in a process of its
# own, one after the other, and prints their ns/op and allocs/op and the
# round's overhead ratios:
#
#   ratio = (glassbox - bare) / (peers - bare)
#
# for ns/op and for allocs/op. The last line is the median of the rounds'
# ratios:
#
#   median overhead ratio ns=<x> allocs=<y>
#
# Alternating processes spread the machine's drift (other jobs, CPU
# frequency, the heap layout of one process) over all three stacks, where
# one `go test -count=N` run measures each stack in one stretch of time.
set -eu

rounds=${1:-6}
benchtime=${2:-1s}
case $rounds in '' | *[!0-9]*) echo "usage: $0 [rounds] [benchtime]" >&2; exit 2 ;; esac
if [ "$rounds" -lt 1 ]; then
	echo "usage: $0 [rounds] [benchtime]" >&2
	exit 2
fi

cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go test -c -o "$tmp/bench.test" .

# run NAME prints "ns allocs" of BenchmarkGRPCUnary/NAME, in a process of
# its own.
run() {
	"$tmp/bench.test" -test.run='^$' -test.bench="^BenchmarkGRPCUnary/$1\$" \
		-test.benchmem -test.benchtime="$benchtime" |
		awk '$1 ~ /^BenchmarkGRPCUnary\// {
			for (i = 3; i < NF; i++) {
				if ($(i + 1) == "ns/op") ns = $i
				if ($(i + 1) == "allocs/op") al = $i
			}
		}
		END { if (ns == "") exit 1; print ns, al }'
}

r=1
while [ "$r" -le "$rounds" ]; do
	echo "$r $(run bare) $(run glassbox) $(run peers)" | awk -v out="$tmp/ratios" '{
		rn = ($6 > $2) ? ($4 - $2) / ($6 - $2) : -1
		ra = ($7 > $3) ? ($5 - $3) / ($7 - $3) : -1
		printf "round %d: bare %.0f ns/op %d allocs/op, glassbox %.0f ns/op %d allocs/op, peers %.0f ns/op %d allocs/op: overhead ratio ns=%.2f allocs=%.2f\n", $1, $2, $3, $4, $5, $6, $7, rn, ra
		print rn, ra >> out
	}'
	r=$((r + 1))
done

# The median of a column of numbers (the mean of the middle two for an
# even count).
median() {
	sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
ns=$(cut -d' ' -f1 "$tmp/ratios" | median)
allocs=$(cut -d' ' -f2 "$tmp/ratios" | median)
printf 'median overhead ratio ns=%.2f allocs=%.2f\n' "$ns" "$allocs"
