# gnuplot -e "data='fanout.tsv'; out='bench/'" bench/plot.gp
# The fan-out medians (bench/fanout.py --tsv: N, tool, GiB/s delivered, CPU
# s per GiB) as two PNG plots against N: throughput and sender CPU per GiB.
set terminal pngcairo size 900,540 font ",10" noenhanced
set datafile separator "\t"
set logscale x
set xlabel "destinations (N; loopback receivers on the same 2 CPUs)"
set key outside right top
set grid
n = 8
array tools[n] = ["ringcast", "ringcast copy", "ringcast sendfile", "mbuffer", "socat+tee", "ncat+tee", "write() loop", "sendfile() loop"]
rows(t) = sprintf("< awk -F'\t' -v t='%s' '$2 == t' '%s'", t, data)

set output out . "fanout-throughput.png"
set title "Fan-out throughput: GiB/s delivered to all receivers together (higher is better)"
set ylabel "GiB/s delivered"
plot for [i=1:n] rows(tools[i]) using 1:3 with linespoints title tools[i]

set output out . "fanout-cpu.png"
set title "Sender CPU per GiB delivered (lower is better)"
set ylabel "CPU s per GiB"
plot for [i=1:n] rows(tools[i]) using 1:4 with linespoints title tools[i]
