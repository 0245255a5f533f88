# gnuplot -e "data='fanout.tsv'; out='bench/'" bench/plot.gp
# The fan-out medians (bench/fanout.py --tsv: N, tool, GiB/s delivered, CPU
# s per GiB) as two PNG plots against N: throughput and sender CPU per GiB.
set terminal pngcairo size 900,540 font ",10" noenhanced
set datafile separator "\t"
set logscale x
set xlabel "destinations (N, loopback receivers on the same 2 CPUs)"
set key outside right top
set grid
tools = "ringcast|ringcast -j 2|ringcast copy|ringcast sendfile|mbuffer|write() loop|sendfile() loop"
tool(i) = system(sprintf("echo '%s' | cut -d'|' -f%d", tools, i))
n = 7

set output out . "fanout-throughput.png"
set title "Fan-out throughput: GiB/s delivered to all receivers together (higher is better)"
set ylabel "GiB/s delivered"
plot for [i=1:n] data using (strcol(2) eq tool(i) ? $1 : NaN):3 with linespoints title tool(i)

set output out . "fanout-cpu.png"
set title "Sender CPU per GiB delivered (lower is better)"
set ylabel "CPU s per GiB"
plot for [i=1:n] data using (strcol(2) eq tool(i) ? $1 : NaN):4 with linespoints title tool(i)
