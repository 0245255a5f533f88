"""What the benchmarks share: inputs, the receiver (bench/sink), timing a
tool with its CPU accounting, ports, nginx, and waits that are bounded.

Each bench script imports this module (it sits beside them, so that
`python3 bench/X.py` finds it) rather than importing from another script.
"""
import os
import re
import socket
import subprocess
import sys
import time

# `user root`: bench/run's output directory is private (mktemp -d), so nginx's
# usual unprivileged worker could not read the blobs.  Ignored when not root.
NGINX_CONF = """user root;
worker_processes 1;
daemon off;
pid {d}/nginx.pid;
error_log {d}/error.log;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    client_body_temp_path {d}/tmp;
    proxy_temp_path {d}/tmp;
    fastcgi_temp_path {d}/tmp;
    uwsgi_temp_path {d}/tmp;
    scgi_temp_path {d}/tmp;
    types {{ application/octet-stream bin; }}
    server {{ listen 127.0.0.1:{port}; root {d}/root; }}
}}
"""


def make_input(path, mib):
    """Write mib MiB of random bytes to path."""
    with open(path, "wb") as f:
        for _ in range(mib):
            f.write(os.urandom(1 << 20))


def wait_until(ready, what, seconds=30):
    """Call ready() every 10 ms until it returns something true, and return
    that; exit naming what after seconds."""
    deadline = time.monotonic() + seconds
    while True:
        got = ready()
        if got:
            return got
        if time.monotonic() > deadline:
            sys.exit("%s: not within %d s" % (what, seconds))
        time.sleep(0.01)


def start_sink(sink, n, portfile, *mode):
    """bench/sink for n connections (mode: "one", "stall", as sink takes
    them); returns (its Popen, with stdout piped; the ports it listens on,
    as strings), once it has written them to portfile."""
    if os.path.exists(portfile):
        os.unlink(portfile)
    p = subprocess.Popen([sink, str(n), portfile] + list(mode), stdout=subprocess.PIPE)
    wait_until(lambda: os.path.exists(portfile), "%s did not write %s" % (sink, portfile))
    return p, open(portfile).read().split()



def run_timed(cmd, **popen_args):
    """Run cmd to its end: (exit status as os.wait4 gives it, wall seconds,
    its rusage: CPU and peak RSS of it and the children it waited for)."""
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, **popen_args)
    _, status, ru = os.wait4(p.pid, 0)
    return status, time.monotonic() - t0, ru


def cpu_seconds(ru):
    """User plus system CPU seconds of an rusage."""
    return ru.ru_utime + ru.ru_stime


def free_port():
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def wait_port(port):
    """Return once something accepts connections on 127.0.0.1:port (5 s at most)."""
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port)).close()
            return
        except OSError:
            time.sleep(0.05)
    sys.exit("nothing listens on port %d" % port)


def wait_listening(log, seconds=5):
    """The port of ringcast's first "listening on 127.0.0.1:PORT" line in the
    file log, or None if there is none within seconds."""
    deadline = time.monotonic() + seconds
    while True:
        m = re.search(r"listening on 127\.0\.0\.1:(\d+)", open(log).read())
        if m:
            return int(m.group(1))
        if time.monotonic() > deadline:
            return None
        time.sleep(0.05)


def start_nginx(d, port):
    """nginx serving d/root on 127.0.0.1:port (config and temp files in d,
    which must have root/ and tmp/); its Popen."""
    with open(d + "/nginx.conf", "w") as f:
        f.write(NGINX_CONF.format(d=d, port=port))
    return subprocess.Popen(["nginx", "-c", d + "/nginx.conf"])


def nginx_version():
    out = subprocess.run(["nginx", "-v"], capture_output=True, text=True).stderr
    m = re.search(r"nginx/(\S+)", out)
    return m.group(1) if m else "?"
