#!/usr/bin/python3
"""holdport.py PORTFILE [--silent | --full]: hold a TCP port on 127.0.0.1 until killed, its number written to PORTFILE (atomically) once it is in its state.

    (no option)  bound and never listening: a connection is refused.
    --silent     listening: accepts one connection, then creates
                 PORTFILE.accepted and never answers.
    --full       listening with its backlog (0) full: the kernel drops every
                 further SYN, so a connection is never made.  The port is
                 written once the first held connection fills the backlog.
"""
import os
import select
import signal
import socket
import sys


def publish(path, port):
    open(path + ".tmp", "w").write("%d\n" % port)
    os.rename(path + ".tmp", path)


def main():
    path = sys.argv[1]
    mode = sys.argv[2] if len(sys.argv) > 2 else None
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    if mode is None:
        publish(path, port)
    elif mode == "--silent":
        s.listen()
        publish(path, port)
        c = s.accept()
        open(path + ".accepted", "w").close()
    elif mode == "--full":
        s.listen(0)
        held = [socket.socket() for _ in range(3)]
        for c in held:
            c.setblocking(False)
            c.connect_ex(("127.0.0.1", port))
        if not select.select([], held[:1], [], 30)[1]:
            sys.exit("holdport.py: the first connection never completed")
        publish(path, port)
    else:
        sys.exit("holdport.py: unknown option " + mode)
    signal.pause()


main()
