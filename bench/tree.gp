# gnuplot -e "data='tree.tsv'; out='bench/'" bench/tree.gp
# bench/tree.py --tsv (key, method, run, rank, host, seconds, ratio: every
# host's finish time) as one PNG: for each method, the hosts in the order they
# finished (x) against their line-rate ratio (y, log scale), the mean over the
# runs at each rank.
set terminal pngcairo size 900,540 font ",10" noenhanced
set datafile separator "\t"
set output out . "tree.png"
set title "Relay trees: when each of 16 hosts has verified (1 = one port's line rate; lower is better)"
set xlabel "host, in the order they finished"
set ylabel "finish time ÷ (bytes ÷ port rate)"
set logscale y
set yrange [0.8:30]
set ytics (1, 1.5, 2, 3, 4, 6, 8, 12, 16, 24)
set xrange [0.5:16.5]
set xtics 1
set key outside right top
set grid
n = 8
array keys[n] = ["star", "mbuffer", "tree1", "tree2", "tree4", "udpcast", "kill", "tree1-4m"]
array titles[n] = ["ringcast star", "mbuffer star", "ringcast --tree 1", "ringcast --tree 2", "ringcast --tree 4", "udpcast (multicast)", "--tree 1, host 8 killed", "--tree 1, --ring-size 4M"]
rows(k) = sprintf("< awk -F'\t' -v k='%s' 'NR > 1 && $1 == k' '%s'", k, data)
plot for [i=1:n] rows(keys[i]) using 4:7 smooth unique with linespoints title titles[i], \
     1 with lines dashtype 2 lc "black" title "line rate"
