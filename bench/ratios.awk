#!/usr/bin/awk -f
# Reads `go test -bench -benchmem -count=N` output and prints a markdown
# table: per benchmark the median of every metric over the N runs, and for
# each sub-benchmark its ns/op and allocs/op as a ratio to the "glassbox"
# sub-benchmark of the same group (x < 1 means cheaper than glassbox); a
# sub-benchmark named like peers_metrics is compared with glassbox_metrics
# when the group has one.
#   go test -run='^$' -bench=. -benchmem -count=6 | tee bench.txt
#   awk -f ratios.awk bench.txt
/^Benchmark/ {
	name = $1; sub(/-[0-9]+$/, "", name)
	if (!(name in seen)) { seen[name] = 1; order[++n] = name }
	for (i = 3; i < NF; i += 2) {
		unit = $(i + 1)
		if (!((name, unit) in cnt)) { units[name] = units[name] " " unit }
		v[name, unit, ++cnt[name, unit]] = $i
	}
}
function median(name, unit,    k, m, a, i, j, t) {
	m = cnt[name, unit]
	for (i = 1; i <= m; i++) a[i] = v[name, unit, i] + 0
	for (i = 2; i <= m; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
	if (m % 2) return a[(m + 1) / 2]
	return (a[m / 2] + a[m / 2 + 1]) / 2
}
END {
	print "| benchmark | ns/op | allocs/op | B/op | other | ns/op vs glassbox | allocs vs glassbox |"
	print "|---|---:|---:|---:|---|---:|---:|"
	for (k = 1; k <= n; k++) {
		name = order[k]; group = name; sub(/\/[^\/]*$/, "", group)
		ref = group "/glassbox"
		sub_ = name; sub(/^.*\//, "", sub_)
		if (match(sub_, /_[^_]*$/)) {
			cand = group "/glassbox" substr(sub_, RSTART)
			if ((cand, "ns/op") in cnt && cand != name) ref = cand
		}
		other = ""
		split(units[name], us, " ")
		for (u in us) if (us[u] != "ns/op" && us[u] != "allocs/op" && us[u] != "B/op") other = other sprintf("%s %.4g ", us[u], median(name, us[u]))
		ns = median(name, "ns/op"); al = median(name, "allocs/op"); by = median(name, "B/op")
		rns = "" ; ral = ""
		if ((ref, "ns/op") in cnt && name != ref) {
			rn = median(ref, "ns/op"); ra = median(ref, "allocs/op")
			rns = sprintf("%.2fx", ns / rn)
			ral = (ra > 0) ? sprintf("%.2fx", al / ra) : (al > 0 ? "inf" : "=")
		}
		printf "| %s | %.0f | %g | %g | %s| %s | %s |\n", name, ns, al, by, other, rns, ral
	}
}
