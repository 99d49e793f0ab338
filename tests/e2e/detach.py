#!/usr/bin/python3
"""e2e detach: a pod detached in the middle of a UDP stream stops receiving, loses eth0, leaves
`stats` and `pods`; a new pod attached with the same IP then works."""
import json
import sys
import time

import lablib
from lablib import LineReader, check, check_eq, poll, pod_ports

INTERVAL = 0.02  # 50 datagrams a second


def events(reader):
    out = []
    for line in reader.snapshot():
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            pass
    return out


def test(lab):
    client = lab.pod_add("node1", "default/client")
    server = lab.pod_add("node1", "default/server")
    lab.serve("default/server", tcp=8080, udp=9090)

    stream = lab.popen("default/client", lablib.PYTHON, lablib.NETTOOL, "stream", server["ip"], 9090,
                       "--interval", INTERVAL, "--duration", 40)
    reader = LineReader(stream)
    echoes = lambda: sum(1 for e in events(reader) if e.get("ev") == "recv")
    check(poll(lambda: echoes() >= 10, timeout=10), "UDP stream flows before the detach",
          ">= 10 echoes", f"{echoes()} echoes; last lines: {reader.snapshot()[-3:]}")

    no_route_before = lab.drops()["no_route"]
    t0 = time.monotonic()
    r = lab.ctl("node1", "detach", "default/server", check=False)
    t1 = time.monotonic()
    check_eq(r.returncode, 0, f"nodeplanectl detach default/server exits 0 (stderr: {r.stderr.strip()})")
    sent_after_detach = lambda: [e for e in events(reader) if e.get("ev") == "sent" and e["t"] > t1]
    poll(lambda: len(sent_after_detach()) >= 25, timeout=5)
    stream.terminate()
    stream.wait(timeout=5)
    reader.thread.join(timeout=5)

    ev = events(reader)
    sent_at = {e["seq"]: e["t"] for e in ev if e.get("ev") == "sent"}
    replied = [e["seq"] for e in ev if e.get("ev") == "recv"]
    before = [s for s in replied if sent_at.get(s, 0) < t0]
    after = [s for s in replied if sent_at.get(s, 0) > t1]
    sent_after = [s for s, t in sent_at.items() if t > t1]
    lablib.log(f"  stream: {len(sent_at)} sent, {len(replied)} echoed; detach took {t1 - t0:.3f}s")
    check(len(before) >= 10, "echoes before the detach", ">= 10", len(before))
    check(len(sent_after) >= 25, "the client kept sending after the detach", ">= 25", len(sent_after))
    check_eq(after, [], "no echo of a datagram sent after the detach returned")

    no_route = lab.drops()["no_route"] - no_route_before
    check(no_route >= len(sent_after), "datagrams to the detached pod's IP count as no_route",
          f">= {len(sent_after)}", no_route)

    links = lab.exec("default/server", "ip", "-o", "link", "show").stdout
    check("eth0" not in links, "the detached pod's netns has no eth0", "no eth0", links.strip())

    stats = lab.stats()
    check_eq(pod_ports(stats, "default/server"), [], "stats has no port for default/server")
    check_eq(len(pod_ports(stats, "default/client")), 1, "stats still has default/client's port")

    pods = lab.ctl("node1", "pods").stdout
    check("server" not in pods, "nodeplanectl pods no longer lists default/server", "no 'server'", pods.strip())
    check("client" in pods, "nodeplanectl pods still lists default/client", "'client'", pods.strip())
    pods_json = lab.ctl_json("node1", "pods")
    check("default/server" not in json.dumps(pods_json) and '"server"' not in json.dumps(pods_json),
          "pods -o json no longer has default/server", "absent", pods_json)

    # A new pod with the same IP works.
    lab.pod_add("node1", "default/server2", server["ip"])
    lab.serve("default/server2", tcp=8080, udp=9090)
    r = lab.ping("default/client", server["ip"], count=3)
    check("3 received" in r.stdout, "ping to the re-used IP reaches the new pod", "3 received", r.stdout.strip())
    u = lab.nettool("default/client", "udp", server["ip"], 9090, "--count", 3)
    check_eq(u["echoed"], 3, "UDP echo from the new pod")
    t = lab.nettool("default/client", "tcp", server["ip"], 8080, "--size", 2000)
    check(t["echoed"], "TCP echo from the new pod", "echoed", t)
    stats = lab.stats()
    check_eq(len(pod_ports(stats, "default/server2")), 1, "stats lists the new pod's port")


if __name__ == "__main__":
    sys.exit(lablib.main(test))
