# tests/bench/plot.gp - the benchmark plots, run by tests/bench/report.py:
#
#   gnuplot -e "plot='throughput'; datadir='D'; out='F.png'; rig=MiBps;
#               mode='...'; has_NAME=0|1; log_NAME=0|1; ncol_NAME=N" plot.gp
#
# plot: throughput (relay-1hop/2hop bars per impl), latency (connectd's time
# to first byte p50/p99 at 32 and 64 clients | dohd's average answer time),
# rates (connections/s | DNS queries/s).  D/NAME.dat: a header line
# `impl "column" ...`, then one line per impl, `-` where it has no figure.

if (!exists("plot")) plot = 'throughput'
if (!exists("datadir")) datadir = '.'
if (!exists("out")) out = plot.'.png'
if (!exists("rig")) rig = 0
if (!exists("mode")) mode = ''

set terminal pngcairo size 1300,600 font "sans,10" noenhanced
set output out
set datafile missing "-"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border rgb "#333333"
set boxwidth 0.9
set grid ytics lc rgb "#cccccc"
set key outside bottom center horizontal autotitle columnheader
set xtics nomirror
set ytics nomirror
set border 3
set yrange [0:*]
set linetype 1 lc rgb "#1f77b4"
set linetype 2 lc rgb "#ff7f0e"
set linetype 3 lc rgb "#2ca02c"
set linetype 4 lc rgb "#d62728"
set linetype 5 lc rgb "#9467bd"

subtitle = (mode ne '' ? ' ('.mode.')' : '')

# bars of file f with n value columns, each labelled with its value
# (gnuplot 5.4: a bar of column c sits at $0 + (c - 2 - (n - 1) / 2.0) / (n + 1))
barlabel(v) = (v >= 1000 ? sprintf("%.0f", v) : v >= 10 ? sprintf("%.1f", v) : sprintf("%.2f", v))

if (plot eq 'throughput') {
	f = datadir.'/throughput.dat'
	n = ncol_throughput
	set title 'Relay throughput, one bulk stream (MiB/s, higher is better)'.subtitle
	set ylabel 'MiB/s'
	top = (rig > max_throughput ? rig : max_throughput)
	set yrange [0:top * 1.25]
	if (rig > 0) {
		set arrow from graph 0, first rig to graph 1, first rig nohead dt 2 lw 1.5 lc rgb "#555555"
		set label sprintf("rig: one iperf3 stream over loopback, %.0f MiB/s (start of the run)", rig) at graph 0.01, first rig offset 0,0.8 tc rgb "#555555"
	}
	plot for [c=2:n+1] f using c:xtic(1), \
	     for [c=2:n+1] f using ($0 + (c - 2 - (n - 1) / 2.0) / (n + 1)):c:(barlabel(column(c))) \
	         with labels rotate by 90 left offset 0,0.4 font "sans,8" notitle
}

if (plot eq 'latency') {
	both = has_ttfb && has_dnslat
	if (both) { set multiplot layout 1,2 title 'Latency (ms, lower is better)'.subtitle }
	if (has_ttfb) {
		f = datadir.'/ttfb.dat'
		n = ncol_ttfb
		set title 'CONNECT tunnel: time to first byte'.(both ? '' : ' (ms, lower is better)'.subtitle)
		set ylabel 'ms'
		if (log_ttfb) { set logscale y; set yrange [*:max_ttfb * 6] } else { unset logscale y; set yrange [0:max_ttfb * 1.3] }
		plot for [c=2:n+1] f using c:xtic(1), \
		     for [c=2:n+1] f using ($0 + (c - 2 - (n - 1) / 2.0) / (n + 1)):c:(barlabel(column(c))) \
		         with labels rotate by 90 left offset 0,0.4 font "sans,8" notitle
	}
	if (has_dnslat) {
		f = datadir.'/dnslat.dat'
		n = ncol_dnslat
		set title 'DNS: average answer time at a fixed load'.(both ? '' : ' (ms, lower is better)'.subtitle)
		set ylabel 'ms'
		if (log_dnslat) { set logscale y; set yrange [*:max_dnslat * 6] } else { unset logscale y; set yrange [0:max_dnslat * 1.3] }
		plot for [c=2:n+1] f using c:xtic(1), \
		     for [c=2:n+1] f using ($0 + (c - 2 - (n - 1) / 2.0) / (n + 1)):c:(barlabel(column(c))) \
		         with labels rotate by 90 left offset 0,0.4 font "sans,8" notitle
	}
	if (both) { unset multiplot }
}

if (plot eq 'rates') {
	both = has_rate && has_qps
	if (both) { set multiplot layout 1,2 title 'Rates (higher is better)'.subtitle }
	if (has_rate) {
		f = datadir.'/rate.dat'
		n = ncol_rate
		set title 'Short CONNECT tunnels per second, closed loop'.(both ? '' : ' (higher is better)'.subtitle)
		set ylabel 'connections/s'
		set yrange [0:max_rate * 1.3]
		plot for [c=2:n+1] f using c:xtic(1), \
		     for [c=2:n+1] f using ($0 + (c - 2 - (n - 1) / 2.0) / (n + 1)):c:(barlabel(column(c))) \
		         with labels rotate by 90 left offset 0,0.4 font "sans,8" notitle
	}
	if (has_qps) {
		f = datadir.'/qps.dat'
		n = ncol_qps
		set title 'DNS queries per second (dnsperf)'.(both ? '' : ' (higher is better)'.subtitle)
		set ylabel 'queries/s'
		set yrange [0:max_qps * 1.3]
		plot for [c=2:n+1] f using c:xtic(1), \
		     for [c=2:n+1] f using ($0 + (c - 2 - (n - 1) / 2.0) / (n + 1)):c:(barlabel(column(c))) \
		         with labels rotate by 90 left offset 0,0.4 font "sans,8" notitle
	}
	if (both) { unset multiplot }
}
