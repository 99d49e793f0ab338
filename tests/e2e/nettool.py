#!/usr/bin/python3
"""Traffic for the end-to-end tests, run inside a lab network namespace
(`nodeplane-lab exec NS/NAME -- /usr/bin/python3 nettool.py ...`). Standard library only.

  serve [--tcp PORT] [--udp PORT] [--lifetime S]   echo servers; prints "ready" once bound
  tcp HOST PORT [--size N]                         one connection: send N bytes, read them back
  udp HOST PORT [--count K] [--size N]             K datagrams, each waiting for its echo
  spoof --src S --dst D [--count N] [--dport P]    N UDP packets with a forged source (raw socket)
  stream HOST PORT [--interval S] [--duration S]   numbered datagrams; one JSON line per event
  hold HOST PORT --go FILE [--timeout S]           one TCP connection: an exchange, then another
                                                   once FILE exists; one JSON line per exchange

Every client prints one JSON object (stream: one per event) and exits 0 when it could run.
"""
import argparse
import json
import os
import select
import socket
import struct
import sys
import threading
import time


def payload(size, tag=b"nodeplane"):
    return (tag * (size // len(tag) + 1))[:size]


def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def cmd_serve(args):
    socks = []
    if args.tcp:
        t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        t.bind(("0.0.0.0", args.tcp))
        t.listen(16)
        socks.append(t)
    if args.udp:
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.bind(("0.0.0.0", args.udp))
        socks.append(u)

    def echo_tcp(conn):
        with conn:
            conn.settimeout(10)
            try:
                while True:
                    data = conn.recv(65536)
                    if not data:
                        break
                    conn.sendall(data)
            except OSError:
                pass

    emit({"ready": True, "tcp": args.tcp, "udp": args.udp})
    deadline = time.monotonic() + args.lifetime
    while time.monotonic() < deadline:
        readable, _, _ = select.select(socks, [], [], 0.5)
        for s in readable:
            if s.type == socket.SOCK_STREAM:
                conn, _ = s.accept()
                threading.Thread(target=echo_tcp, args=(conn,), daemon=True).start()
            else:
                data, peer = s.recvfrom(65536)
                s.sendto(data, peer)
    return 0


def cmd_tcp(args):
    data = payload(args.size)
    got = b""
    err = None
    try:
        with socket.create_connection((args.host, args.port), timeout=args.timeout) as s:
            s.sendall(data)
            s.shutdown(socket.SHUT_WR)
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                got += chunk
    except OSError as e:
        err = str(e)
    emit({"sent": len(data), "received": len(got), "echoed": got == data, "error": err})
    return 0


def cmd_udp(args):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(args.timeout)
    echoed = 0
    for i in range(args.count):
        data = payload(args.size, b"udp%d-" % i)
        s.sendto(data, (args.host, args.port))
        try:
            while True:
                reply, _ = s.recvfrom(65536)
                if reply == data:
                    echoed += 1
                    break
        except socket.timeout:
            pass
    emit({"sent": args.count, "echoed": echoed})
    return 0


def checksum(b):
    if len(b) % 2:
        b += b"\0"
    total = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def cmd_spoof(args):
    body = b"spoofed"
    udp = struct.pack("!HHHH", 40000, args.dport, 8 + len(body), 0) + body
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0x4242, 0, 64, socket.IPPROTO_UDP, 0,
                      socket.inet_aton(args.src), socket.inet_aton(args.dst))
    hdr = hdr[:10] + struct.pack("!H", checksum(hdr)) + hdr[12:]
    # IPPROTO_RAW: the header is ours, source address included; the kernel routes by destination.
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    for _ in range(args.count):
        s.sendto(hdr + udp, (args.dst, 0))
    emit({"sent": args.count, "src": args.src, "dst": args.dst})
    return 0


def cmd_stream(args):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setblocking(False)
    seq = 0
    end = time.monotonic() + args.duration
    next_send = time.monotonic()
    while True:
        now = time.monotonic()
        if now >= end:
            break
        if now >= next_send:
            seq += 1
            try:
                s.sendto(b"seq %d" % seq, (args.host, args.port))
                emit({"ev": "sent", "seq": seq, "t": time.monotonic()})
            except OSError as e:
                emit({"ev": "send_error", "seq": seq, "t": time.monotonic(), "error": str(e)})
            next_send += args.interval
        readable, _, _ = select.select([s], [], [], max(0.0, min(next_send, end) - time.monotonic()))
        if readable:
            try:
                data, _ = s.recvfrom(2048)
            except OSError:
                continue
            if data.startswith(b"seq "):
                emit({"ev": "recv", "seq": int(data[4:]), "t": time.monotonic()})
    emit({"ev": "done", "sent": seq})
    return 0


def exchange(s, data, timeout):
    """Sends data on an open connection; True when it comes back whole within timeout."""
    s.settimeout(timeout)
    got = b""
    try:
        s.sendall(data)
        while len(got) < len(data):
            chunk = s.recv(65536)
            if not chunk:
                break
            got += chunk
    except OSError:
        pass
    return got == data


def cmd_hold(args):
    try:
        s = socket.create_connection((args.host, args.port), timeout=args.timeout)
    except OSError as e:
        emit({"ev": "first", "echoed": False, "error": str(e)})
        return 0
    emit({"ev": "first", "echoed": exchange(s, payload(1000, b"first-"), args.timeout),
          "local_port": s.getsockname()[1]})
    deadline = time.monotonic() + args.wait
    while time.monotonic() < deadline and not os.path.exists(args.go):
        time.sleep(0.05)
    emit({"ev": "second", "echoed": exchange(s, payload(1000, b"second-"), args.timeout)})
    s.close()
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    sp = sub.add_parser("serve")
    sp.add_argument("--tcp", type=int, default=0)
    sp.add_argument("--udp", type=int, default=0)
    sp.add_argument("--lifetime", type=float, default=120)
    sp.set_defaults(fn=cmd_serve)
    sp = sub.add_parser("tcp")
    sp.add_argument("host")
    sp.add_argument("port", type=int)
    sp.add_argument("--size", type=int, default=4000)
    sp.add_argument("--timeout", type=float, default=5)
    sp.set_defaults(fn=cmd_tcp)
    sp = sub.add_parser("udp")
    sp.add_argument("host")
    sp.add_argument("port", type=int)
    sp.add_argument("--count", type=int, default=5)
    sp.add_argument("--size", type=int, default=200)
    sp.add_argument("--timeout", type=float, default=2)
    sp.set_defaults(fn=cmd_udp)
    sp = sub.add_parser("spoof")
    sp.add_argument("--src", required=True)
    sp.add_argument("--dst", required=True)
    sp.add_argument("--count", type=int, default=1)
    sp.add_argument("--dport", type=int, default=9)
    sp.set_defaults(fn=cmd_spoof)
    sp = sub.add_parser("stream")
    sp.add_argument("host")
    sp.add_argument("port", type=int)
    sp.add_argument("--interval", type=float, default=0.02)
    sp.add_argument("--duration", type=float, default=30)
    sp.set_defaults(fn=cmd_stream)
    sp = sub.add_parser("hold")
    sp.add_argument("host")
    sp.add_argument("port", type=int)
    sp.add_argument("--go", required=True)
    sp.add_argument("--wait", type=float, default=30)
    sp.add_argument("--timeout", type=float, default=3)
    sp.set_defaults(fn=cmd_hold)
    args = p.parse_args()
    return args.fn(args)


if __name__ == "__main__":
    sys.exit(main())
