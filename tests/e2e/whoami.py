#!/usr/bin/python3
"""A Service backend and its client for the Services e2e tests, run inside a lab network namespace.
Standard library only.

  serve --name NAME --tcp PORT[,PORT] --udp PORT[,PORT] [--lifetime S]
      answers every TCP line / UDP datagram with one JSON line: {"name", "port", "client"}
      (the address and port it saw the request come from); prints "ready" once bound
  ask tcp|udp HOST PORT [--count N] [--sport P] [--timeout S]
      N requests, each a new connection (TCP) or a datagram from one connected socket (UDP);
      prints {"answers": [...], "error": "refused"|"timeout"|..., "elapsed": seconds}
  hold HOST PORT --trigger PATH [--timeout S]
      one TCP connection: asks, waits until PATH exists, asks again on the same connection;
      prints one JSON line per answer, then {"done": ...}

Every command prints JSON lines and exits 0 when it could run.
"""
import argparse
import errno
import json
import os
import select
import socket
import sys
import threading
import time


def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def answer(name, port, peer):
    return (json.dumps({"name": name, "port": port, "client": f"{peer[0]}:{peer[1]}"}) + "\n").encode()


def cmd_serve(args):
    socks = {}
    for p in filter(None, args.tcp.split(",")):
        t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        t.bind(("0.0.0.0", int(p)))
        t.listen(64)
        socks[t] = int(p)
    for p in filter(None, args.udp.split(",")):
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.bind(("0.0.0.0", int(p)))
        socks[u] = int(p)

    def serve_tcp(conn, peer, port):
        with conn:
            conn.settimeout(args.lifetime)
            f = conn.makefile("rb")
            try:
                for _ in f:
                    conn.sendall(answer(args.name, port, peer))
            except OSError:
                pass

    emit({"ready": True, "name": args.name})
    deadline = time.monotonic() + args.lifetime
    while time.monotonic() < deadline:
        readable, _, _ = select.select(list(socks), [], [], 0.5)
        for s in readable:
            if s.type == socket.SOCK_STREAM:
                conn, peer = s.accept()
                threading.Thread(target=serve_tcp, args=(conn, peer, socks[s]), daemon=True).start()
            else:
                _, peer = s.recvfrom(65536)
                s.sendto(answer(args.name, socks[s], peer), peer)
    return 0


def error_name(e):
    if isinstance(e, socket.timeout):
        return "timeout"
    if getattr(e, "errno", None) == errno.ECONNREFUSED:
        return "refused"
    return str(e)


def cmd_ask(args):
    answers, err = [], None
    start = time.monotonic()
    if args.proto == "tcp":
        for _ in range(args.count):
            try:
                with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
                    s.settimeout(args.timeout)
                    if args.sport:
                        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                        s.bind(("0.0.0.0", args.sport))
                    s.connect((args.host, args.port))
                    s.sendall(b"who\n")
                    answers.append(json.loads(s.makefile("rb").readline()))
            except (OSError, ValueError) as e:
                err = error_name(e)
                break
    else:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(args.timeout)
            if args.sport:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                s.bind(("0.0.0.0", args.sport))
            s.connect((args.host, args.port))  # connected: an ICMP error becomes ECONNREFUSED
            for _ in range(args.count):
                try:
                    s.send(b"who")
                    answers.append(json.loads(s.recv(65536)))
                except (OSError, ValueError) as e:
                    err = error_name(e)
                    break
    emit({"answers": answers, "error": err, "elapsed": round(time.monotonic() - start, 3)})
    return 0


def cmd_hold(args):
    with socket.create_connection((args.host, args.port), timeout=args.timeout) as s:
        f = s.makefile("rb")
        s.sendall(b"who\n")
        emit(json.loads(f.readline()))
        deadline = time.monotonic() + args.timeout
        while not os.path.exists(args.trigger):
            if time.monotonic() > deadline:
                emit({"done": False, "error": "trigger never came"})
                return 0
            time.sleep(0.05)
        try:
            s.sendall(b"who\n")
            line = f.readline()
            emit(json.loads(line) if line else {"error": "closed"})
        except (OSError, ValueError) as e:
            emit({"error": error_name(e)})
    emit({"done": True})
    return 0


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    sp = sub.add_parser("serve")
    sp.add_argument("--name", required=True)
    sp.add_argument("--tcp", default="")
    sp.add_argument("--udp", default="")
    sp.add_argument("--lifetime", type=float, default=140)
    sp = sub.add_parser("ask")
    sp.add_argument("proto", choices=("tcp", "udp"))
    sp.add_argument("host")
    sp.add_argument("port", type=int)
    sp.add_argument("--count", type=int, default=1)
    sp.add_argument("--sport", type=int, default=0)
    sp.add_argument("--timeout", type=float, default=3)
    sp = sub.add_parser("hold")
    sp.add_argument("host")
    sp.add_argument("port", type=int)
    sp.add_argument("--trigger", required=True)
    sp.add_argument("--timeout", type=float, default=30)
    args = ap.parse_args()
    return {"serve": cmd_serve, "ask": cmd_ask, "hold": cmd_hold}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
