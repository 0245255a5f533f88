#!/usr/bin/env python3
"""Relay trees against a star and multicast on a fleet whose links are the
limit: --hosts (16) receiving hosts and one sender, each in a network
namespace with a veth into one bridge (in a namespace of its own), every
host's port limited to --rate Mbit/s in both directions by tc tbf (egress on
the host's end, and on the bridge's end, which is the host's ingress).  For
each method it takes each host's finish time (its receiver's exit, counted
from just before the sender starts) and reports the line-rate ratio: that
time divided by the time the bytes take at one port's rate, for the last
host and the median one.  The methods (--methods, interleaved, --repeat):

  star       ringcast: one sender, a ringcast:// destination per host, --digest
  mbuffer    mbuffer -O per host; receivers mbuffer -I, --hash sha256
  tree1      ringcast --tree 1 (a pipeline); tree2, tree4: --tree 2 and 4
  udpcast    udp-sender / udp-receiver, multicast through the bridge
  kill       --tree 1 with the middle host SIGKILLed at half the bytes: its
             parent adopts its child, every other host must verify
  tree1-4m   --tree 1 with --ring-size 4M on the receivers

Every ringcast process has one shared --key-file, so every receiver trusts
the plan, and writes file:/dev/null.  Every run checks every exit status:
ringcast receivers exit 0 only when verified, and the root's --stats must
list every host verified; mbuffer's and udpcast's receivers are checked by
SHA-256 against the input.  A run that fails is reported on stderr with its
commands and the ends of their logs (all kept in OUT_DIR/failed-METHOD-rN),
counts in the table's last column and makes the script exit 1; the other
runs go on.  All hosts share this machine's CPUs: the single-stream floor
(ringcast to one host, the same bytes) and the CPUs-busy column show
whether the links are the limit.

Prints a Markdown table of medians; --tsv writes every host's finish time.
Usage: tree.py BUILD_DIR OUT_DIR [--hosts 16] [--rate MBIT] [--size MiB]
       [--repeat N] [--star-repeat N] [--methods LIST] [--udp-args ARGS]
       [--tsv FILE]
"""
import argparse
import hashlib
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

from benchlib import make_input, wait_until

PREFIX = "rc-tb-"
BRIDGE_NS, BRIDGE = PREFIX + "br", PREFIX + "br0"
PORT = 9000
# key: (row name, K for ringcast --tree, line-rate times a run may take before it fails)
METHODS = {
    "star": ("ringcast star", None, 16),
    "mbuffer": ("mbuffer star", None, 16),
    "tree1": ("ringcast --tree 1", 1, 3),
    "tree2": ("ringcast --tree 2", 2, 5),
    "tree4": ("ringcast --tree 4", 4, 8),
    "udpcast": ("udpcast (multicast)", None, 8),
    "kill": ("ringcast --tree 1, host %d SIGKILLed at half", 1, 4),
    "tree1-4m": ("ringcast --tree 1, receivers --ring-size 4M", 1, 3),
}
STARS = ("star", "mbuffer")
DEFAULT_METHODS = "star,mbuffer,tree1,tree2,tree4,udpcast,kill,tree1-4m"


class RunFailed(Exception):
    """A run of a method that delivered wrong bytes, exited wrongly or hung."""


def ns(i):
    """Host i's namespace: 0 is the sender."""
    return PREFIX + ("s" if i == 0 else "h%d" % i)


def addr(i):
    """Host i's address (the sender is 10.215.0.100)."""
    return "10.215.0.%d" % (100 + i)


def sh(*cmd):
    """Run a setup command; a failure stops the benchmark."""
    subprocess.run(cmd, check=True, stdin=subprocess.DEVNULL, timeout=30)


def fleet_down(n):
    """Kill what still runs in our namespaces (a previous run's leftovers, by
    PID) and delete them; the veths and the bridge go with them."""
    have = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True,
                          timeout=30).stdout.split("\n")
    for name in [BRIDGE_NS] + [ns(i) for i in range(n + 1)]:
        if not any(line.split(" ")[0] == name for line in have):
            continue
        pids = subprocess.run(["ip", "netns", "pids", name], capture_output=True, text=True,
                              timeout=30).stdout.split()
        for pid in pids:
            try:
                os.kill(int(pid), signal.SIGKILL)
            except ProcessLookupError:
                pass
        subprocess.run(["ip", "netns", "del", name], stderr=subprocess.DEVNULL, timeout=30)


def fleet_up(n, rate):
    """The bridge and hosts 0 (the sender) .. n, each port at rate Mbit/s both ways."""
    fleet_down(n)
    sh("ip", "netns", "add", BRIDGE_NS)
    # no IGMP snooping: the bridge floods multicast to every port, as a plain switch does
    sh("ip", "-n", BRIDGE_NS, "link", "add", BRIDGE, "type", "bridge", "mcast_snooping", "0")
    sh("ip", "-n", BRIDGE_NS, "link", "set", BRIDGE, "up")
    tbf = ["root", "tbf", "rate", "%dmbit" % rate, "burst", "256kb", "latency", "50ms"]
    for i in range(n + 1):
        port = "p%d" % i
        sh("ip", "netns", "add", ns(i))
        sh("ip", "link", "add", "eth0", "netns", ns(i), "type", "veth", "peer", "name", port,
           "netns", BRIDGE_NS)
        sh("ip", "-n", BRIDGE_NS, "link", "set", port, "master", BRIDGE, "up")
        # brd +: udpcast finds its peers by broadcast
        sh("ip", "-n", ns(i), "addr", "add", addr(i) + "/24", "brd", "+", "dev", "eth0")
        sh("ip", "-n", ns(i), "link", "set", "eth0", "up")
        sh("ip", "-n", ns(i), "link", "set", "lo", "up")
        sh("ip", "-n", ns(i), "route", "add", "224.0.0.0/4", "dev", "eth0")
        sh("tc", "-n", ns(i), "qdisc", "add", "dev", "eth0", *tbf)
        sh("tc", "-n", BRIDGE_NS, "qdisc", "add", "dev", port, *tbf)


def start(a, i, cmd, log, **popen_args):
    """cmd in host i's namespace, its stderr to log; its Popen, remembered
    (with the command) for the failure report and the cleanup."""
    popen_args.setdefault("stdout", subprocess.DEVNULL)
    with open(log, "w") as err:
        p = subprocess.Popen(["ip", "netns", "exec", ns(i)] + cmd, stdin=subprocess.DEVNULL,
                             stderr=err, **popen_args)
    a.started.append((["ip", "netns", "exec", ns(i)] + cmd, log, p))
    return p


def reap(a):
    """Kill (by PID) every process of the run still running, and wait for it."""
    for _, _, p in a.started:
        if p.poll() is None:
            p.kill()
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            pass


def report_failure(a, key, run, why):
    """A failed run on stderr: why, then each of its commands that did not
    exit 0, its status and the end of its log; every log of the run is kept
    in OUT_DIR/failed-KEY-rRUN."""
    keep = os.path.join(a.out, "failed-%s-r%d" % (key, run))
    os.makedirs(keep, exist_ok=True)
    print("\ntree.py: FAILED: %s run %d: %s (logs in %s)" % (key, run, why, keep), file=sys.stderr)
    for cmd, log, p in a.started:
        shutil.copy(log, keep)
        if p.returncode == 0:
            continue
        print("\n$ %s   # exit %s, log %s" % (" ".join(cmd), p.returncode, log), file=sys.stderr)
        with open(log, errors="replace") as f:
            sys.stderr.write("".join(f.read().replace("\r", "\n").splitlines(True)[-15:]))
    for f in os.listdir(a.out):
        if f.startswith(key + "-") and f.endswith((".json", ".out")):
            shutil.copy(os.path.join(a.out, f), keep)
    print("\n(%d other processes of the run exited 0)\n"
          % sum(p.returncode == 0 for _, _, p in a.started), file=sys.stderr)


def bound(p, proto, port):
    """Whether p's namespace has a socket on port (proto "tcp": listening)."""
    with open("/proc/%d/net/%s" % (p.pid, proto)) as f:
        for line in f.readlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            if int(local.split(":")[1], 16) == port and (proto == "udp" or state == "0A"):
                return True
    return False


def log_path(a, key, i):
    return os.path.join(a.out, "%s-h%d.err" % (key, i))


def ringcast_receivers(a, key, hosts, extra=(), outputs=None):
    """A ringcast receiver on each of hosts, keyed, writing file:/dev/null
    (or outputs[i]); {host: [Popen]} once each has said it listens."""
    procs = {}
    for i in hosts:
        out = (outputs or {}).get(i, "/dev/null")
        procs[i] = [start(a, i, [a.ringcast, "-v", "--key-file", a.key, *extra, "-i",
                                 "ringcast-listen://:%d" % PORT, "file:" + out],
                          log_path(a, key, i))]
    for i in hosts:
        log = log_path(a, key, i)
        wait_until(lambda: "listening on" in open(log).read(), "host %d listening" % i)
    return procs


def ringcast_sender(a, key, hosts, k):
    """The root's command: --digest, the key, --stats, --tree K unless a star."""
    tree = ["--tree", str(k)] if k else []
    return [a.ringcast, "-v", "--digest", "--key-file", a.key, *tree, "--stats",
            os.path.join(a.out, key + "-stats.json"), "-i", a.input] + \
        ["ringcast://%s:%d" % (addr(i), PORT) for i in hosts]


def cpu_jiffies():
    """(busy, total) jiffies of all CPUs together, from /proc/stat."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return sum(v) - v[3] - v[4], sum(v)


def timed(a, key, receivers, sender_cmd, during=None):
    """Start the sender in host 0 (t0 just before) and wait for it and every
    receiver, at most 60 s + the method's line-rate multiple; during(t0) is
    called each pass.  Returns ({host: seconds from t0 to the exit of its
    last process}, wall seconds until everything exited, the sender's
    Popen); a.cpu_busy is the share of the machine's CPUs busy meanwhile."""
    busy0, total0 = cpu_jiffies()
    t0 = time.monotonic()
    with open(os.path.join(a.out, key + "-h0.out"), "w") as out:
        sender = start(a, 0, sender_cmd, log_path(a, key, 0), stdout=out)
    limit = 60 + METHODS.get(key, ("", None, 3))[2] * a.line_s
    pending, finish = dict(receivers), {}
    while pending or sender.poll() is None:
        if time.monotonic() - t0 > limit:
            raise RunFailed("not done within %.0f s (still running: hosts %s%s)" % (
                limit, sorted(pending), ", the sender" if sender.poll() is None else ""))
        for i in list(pending):
            if all(p.poll() is not None for p in pending[i]):
                finish[i] = time.monotonic() - t0
                del pending[i]
        if during:
            during(t0)
        time.sleep(0.005)
    wall = time.monotonic() - t0
    busy1, total1 = cpu_jiffies()
    a.cpu_busy = (busy1 - busy0) / max(1, total1 - total0)
    return finish, wall, sender


def check_exits(procs, want=0):
    """Every Popen in procs exited with want."""
    for p in procs:
        if p.returncode != want:
            what = p.args[3] + " " + os.path.basename(p.args[4]) if p.args[0] == "ip" else p.args[0]
            raise RunFailed("%s exited %d, not %d" % (what, p.returncode, want))


def stats_hosts(a, key):
    """{HOST:PORT: record} from the root's --stats: its hosts (a tree) or dests (a star)."""
    with open(os.path.join(a.out, key + "-stats.json")) as f:
        st = json.load(f)
    if "hosts" in st:
        return {h["address"]: h for h in st["hosts"]}
    return {d["address"].replace("ringcast://", ""): d for d in st["dests"]}


def verified(rec, i):
    return rec.get("%s:%d" % (addr(i), PORT), {}).get("verified")


def run_ringcast(a, key, k, hosts, extra=()):
    """A star (k None) or a tree of ringcast receivers: everything exits 0
    and the root's --stats has every host verified."""
    procs = ringcast_receivers(a, key, hosts, extra)
    finish, wall, sender = timed(a, key, procs, ringcast_sender(a, key, hosts, k))
    check_exits([sender] + [ps[0] for ps in procs.values()])
    rec = stats_hosts(a, key)
    bad = [i for i in hosts if not verified(rec, i)]
    if bad:
        raise RunFailed("the root's --stats has hosts %s not verified" % bad)
    return finish, wall


def sha_of(path, pattern):
    """The hexadecimal digest that pattern finds in the file path, or None."""
    with open(path, errors="replace") as f:
        m = re.search(pattern, f.read(), re.M)
    return m.group(1).lower() if m else None


def run_mbuffer(a, key, hosts):
    """mbuffer -O to every host; each receiver's --hash sha256 must match."""
    procs = {}
    for i in hosts:
        procs[i] = [start(a, i, ["mbuffer", "-q", "-m", "64M", "-I", str(PORT), "-o",
                                 "/dev/null", "--hash", "sha256"], log_path(a, key, i))]
    for i in hosts:
        wait_until(lambda: bound(procs[i][0], "tcp", PORT), "mbuffer on host %d listening" % i)
    cmd = ["mbuffer", "-q", "-m", "64M", "-i", a.input]
    for i in hosts:
        cmd += ["-O", "%s:%d" % (addr(i), PORT)]
    finish, wall, sender = timed(a, key, procs, cmd)
    check_exits([sender] + [ps[0] for ps in procs.values()])
    for i in hosts:
        got = sha_of(log_path(a, key, i), r"SHA256 hash: ([0-9a-fA-F]{64})")
        if got != a.sha256:
            raise RunFailed("host %d received SHA-256 %s, not %s" % (i, got, a.sha256))
    return finish, wall


def run_udpcast(a, key, hosts):
    """udp-sender multicast to a udp-receiver per host, each piped into
    sha256sum, which must print the input's digest; a host finishes when
    both have exited."""
    procs, sums = {}, {}
    for i in hosts:
        r = start(a, i, ["udp-receiver", "--interface", "eth0", "--nokbd", "--portbase",
                         str(PORT), "--start-timeout", "60"], log_path(a, key, i),
                  stdout=subprocess.PIPE)
        sums[i] = os.path.join(a.out, "%s-h%d.sha" % (key, i))
        with open(sums[i], "w") as out:
            s = subprocess.Popen(["sha256sum"], stdin=r.stdout, stdout=out)
        r.stdout.close()
        a.started.append((["sha256sum"], sums[i], s))
        procs[i] = [r, s]
    for i in hosts:
        wait_until(lambda: bound(procs[i][0], "udp", PORT), "udp-receiver on host %d bound" % i)
    cmd = ["udp-sender", "--file", a.input, "--interface", "eth0", "--nokbd", "--portbase",
           str(PORT), "--min-receivers", str(len(hosts)), "--start-timeout", "60"] + a.udp_args
    finish, wall, sender = timed(a, key, procs, cmd)
    check_exits([sender] + [p for ps in procs.values() for p in ps])
    for i in hosts:
        got = sha_of(sums[i], r"^([0-9a-f]{64})")
        if got != a.sha256:
            raise RunFailed("host %d received SHA-256 %s, not %s" % (i, got, a.sha256))
    return finish, wall


def run_kill(a, key, hosts):
    """--tree 1 with host a.victim SIGKILLed once its output has half the
    bytes: the root exits 1, its --stats has the victim not done and every
    other host verified; the hosts after the victim exit 0, the ones before
    it 0 or 1 (a relay exits 1 when its subtree failed, as documented)."""
    victim = a.victim
    part = os.path.join(a.shm, "victim")
    procs = ringcast_receivers(a, key, hosts, outputs={victim: part})
    dead = procs.pop(victim)[0]
    a.killed_at = None

    def kill_at_half(t0):
        """SIGKILL the victim once its output (still PATH.part) has half."""
        if a.killed_at is None and os.path.exists(part + ".part") and \
                os.path.getsize(part + ".part") >= a.size << 19:
            dead.kill()
            a.killed_at = time.monotonic() - t0

    try:
        finish, wall, sender = timed(a, key, procs, ringcast_sender(a, key, hosts, 1),
                                     kill_at_half)
    finally:
        for f in (part, part + ".part"):
            if os.path.exists(f):
                os.unlink(f)
    if a.killed_at is None:
        raise RunFailed("host %d never had half the bytes" % victim)
    check_exits([sender], 1)
    above = hosts[:hosts.index(victim)]
    statuses = {i: ps[0].returncode for i, ps in procs.items()}
    for i, st in statuses.items():
        if st != 0 and not (i in above and st == 1):
            raise RunFailed("host %d exited %d (all: %s)" % (i, st, statuses))
    rec = stats_hosts(a, key)
    vrec = rec.get("%s:%d" % (addr(victim), PORT), {})
    bad = [i for i in procs if not verified(rec, i)]
    if bad or vrec.get("verified") or vrec.get("state") == "done":
        raise RunFailed("--stats: hosts %s not verified; the killed one: %s" % (bad, vrec))
    a.kill_notes.append((a.killed_at, vrec.get("state"), sorted(set(statuses[i] for i in above)),
                         max(h.get("resumed_from", 0) for h in rec.values())))
    return finish, wall


def run_method(a, key, hosts):
    """One run of method key: ({host: finish s}, wall s); every process of
    it reaped, even when it fails (RunFailed)."""
    a.started = []
    try:
        if key == "mbuffer":
            return run_mbuffer(a, key, hosts)
        if key == "udpcast":
            return run_udpcast(a, key, hosts)
        if key == "kill":
            return run_kill(a, key, hosts)
        extra = ("--ring-size", "4M") if key == "tree1-4m" else ()
        return run_ringcast(a, key, METHODS.get(key, ("floor", None))[1], hosts, extra)
    except SystemExit as e:  # a bounded wait of benchlib's ran out
        raise RunFailed(str(e.code))
    finally:
        reap(a)


def floor(a):
    """The single-stream floor: the same bytes to host 1 alone (ringcast
    --digest, one ringcast:// destination), as a line-rate ratio."""
    try:
        finish, _ = run_method(a, "floor", [1])
    except RunFailed as e:
        report_failure(a, "floor", 1, e)
        sys.exit(1)
    return finish[1] / a.line_s


def row_name(a, key):
    name = METHODS[key][0]
    return name % a.victim if "%d" in name else name


def table(a, runs, failed, floor_ratio):
    """The Markdown table of medians over the runs that did not fail, and the notes."""
    print("| %d hosts × %d MiB, every port %d Mbit/s both ways | last host ratio | "
          "median host ratio | wall s | CPUs busy | runs (failed) |" % (a.hosts, a.size, a.rate))
    print("|---|---:|---:|---:|---:|---:|")
    for key in a.keys:
        rs, nf = runs[key], failed[key]
        if not rs:
            print("| %s | failed | failed | | | %d (%d) |" % (row_name(a, key), nf, nf))
            continue
        last = statistics.median(max(f.values()) for f, _, _ in rs) / a.line_s
        med = statistics.median(statistics.median(f.values()) for f, _, _ in rs) / a.line_s
        wall = statistics.median(w for _, w, _ in rs)
        cpu = statistics.median(c for _, _, c in rs)
        print("| %s | %.2f | %.2f | %.1f | %.0f%% | %d (%d) |" % (
            row_name(a, key), last, med, wall, 100 * cpu, len(rs) + nf, nf))
    print("\nRatio: a host's finish time (its receiver's exit, from the sender's start) ÷ the "
          "time %d MiB takes at %d Mbit/s (%.2f s); medians of the runs that did not fail. "
          "Single-stream floor (ringcast --digest to one host, the same bytes): %.3f. "
          "CPUs busy: the share of this machine's %d CPUs busy during the run, anyone's."
          % (a.size, a.rate, a.line_s, floor_ratio, os.cpu_count()))
    for at, state, above, resumed in a.kill_notes:
        print("\nKill run: host %d killed %.1f s in; the root's --stats has it `%s`; the hosts "
              "before it exited %s, the ones after it 0; the adopted host resumed from byte "
              "%d." % (a.victim, at, state, "/".join(map(str, above)), resumed))


def write_tsv(a, path, runs):
    """Every host's finish time: key, method, run, rank (by finish), host, seconds, ratio."""
    with open(path, "w") as f:
        f.write("key\tmethod\trun\trank\thost\tseconds\tratio\n")
        for key, rs in runs.items():
            for r, (fin, _, _) in enumerate(rs, 1):
                for rank, (i, s) in enumerate(sorted(fin.items(), key=lambda x: x[1]), 1):
                    f.write("%s\t%s\t%d\t%d\th%d\t%.3f\t%.4f\n" % (
                        key, row_name(a, key), r, rank, i, s, s / a.line_s))


def parse():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("out")
    ap.add_argument("--hosts", type=int, default=16)
    ap.add_argument("--rate", type=int, default=200, help="Mbit/s per port, each direction")
    ap.add_argument("--size", type=int, default=256, help="MiB")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--star-repeat", type=int, help="repeats of the stars (default --repeat)")
    ap.add_argument("--methods", default=DEFAULT_METHODS, help=",".join(METHODS))
    ap.add_argument("--udp-args", default="", help="more udp-sender flags")
    ap.add_argument("--tsv")
    a = ap.parse_args()
    a.keys = a.methods.split(",")
    for k in a.keys:
        if k not in METHODS:
            ap.error("unknown method %s (known: %s)" % (k, ",".join(METHODS)))
    a.star_repeat = a.repeat if a.star_repeat is None else a.star_repeat
    a.udp_args = a.udp_args.split()
    a.ringcast = os.path.abspath(os.path.join(a.build, "ringcast"))
    a.out = os.path.abspath(a.out)
    a.line_s = a.size * (1 << 20) * 8 / (a.rate * 1e6)
    a.victim = a.hosts // 2
    a.kill_notes, a.started, a.shm = [], [], None
    return a


def prepare(a):
    """The input (in the page cache) and its SHA-256, the fleet key, a tmpfs directory."""
    os.makedirs(a.out, exist_ok=True)
    a.input = os.path.join(a.out, "input")
    if not os.path.exists(a.input) or os.path.getsize(a.input) != a.size << 20:
        make_input(a.input, a.size)
    h = hashlib.sha256()
    with open(a.input, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    a.sha256 = h.hexdigest()
    a.key = os.path.join(a.out, "fleet.key")
    with open(os.open(a.key, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as f:
        f.write(os.urandom(32))
    os.chmod(a.key, 0o600)
    a.shm = tempfile.mkdtemp(prefix=PREFIX, dir="/dev/shm")


def interrupted(*_):
    raise KeyboardInterrupt  # not SystemExit: run_method takes that for a failed wait


def main():
    a = parse()
    signal.signal(signal.SIGTERM, interrupted)
    hosts = list(range(1, a.hosts + 1))
    runs, failed = {k: [] for k in a.keys}, {k: 0 for k in a.keys}
    t_start = time.monotonic()
    try:
        prepare(a)
        fleet_up(a.hosts, a.rate)
        floor_ratio = floor(a)
        print("floor: one stream %.3f of line rate" % floor_ratio, file=sys.stderr)
        for r in range(1, a.repeat + 1):
            for key in a.keys:
                if key in STARS and r > a.star_repeat:
                    continue
                try:
                    fin, wall = run_method(a, key, hosts)
                except RunFailed as e:
                    report_failure(a, key, r, e)
                    failed[key] += 1
                    continue
                runs[key].append((fin, wall, a.cpu_busy))
                print("run %d %s: last %.2f median %.2f wall %.1f s, CPUs %.0f%% busy" % (
                    r, key, max(fin.values()) / a.line_s,
                    statistics.median(fin.values()) / a.line_s, wall, 100 * a.cpu_busy),
                    file=sys.stderr)
    finally:
        reap(a)
        fleet_down(a.hosts)
        if a.shm:
            shutil.rmtree(a.shm, ignore_errors=True)
    table(a, runs, failed, floor_ratio)
    if a.tsv:
        write_tsv(a, a.tsv, runs)
    print("tree.py: %.0f s in all" % (time.monotonic() - t_start), file=sys.stderr)
    if any(failed.values()):
        sys.exit("tree.py: %d runs failed: %s" % (sum(failed.values()),
                                                  ", ".join("%s %d" % kv for kv in failed.items()
                                                            if kv[1])))


if __name__ == "__main__":
    main()
