"""Shared pieces of the end-to-end tests: a lab of their own (NP_LAB_PREFIX=npe2e<pid>) built with
deploy/local/nodeplane-lab, command helpers, counter reads and checks that say what was expected
and what was seen. Standard library only; run with Debian's /usr/bin/python3, as root."""
import json
import os
import subprocess
import sys
import threading
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
LAB_TOOL = REPO / "deploy" / "local" / "nodeplane-lab"
NETTOOL = HERE / "nettool.py"
PYTHON = "/usr/bin/python3"


class CheckFailed(AssertionError):
    pass


def log(msg):
    print(msg, flush=True)


def check(cond, what, expected=None, seen=None):
    """Passes quietly-but-visibly, or fails naming what was expected and what was seen."""
    if cond:
        log(f"  ok: {what}")
        return
    def show(value):
        if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value) and value:
            return "\n                ".join(value)
        return value

    msg = what
    if expected is not None or seen is not None:
        msg += f"\n      expected: {show(expected)}\n      seen:     {show(seen)}"
    raise CheckFailed(msg)


def check_eq(seen, expected, what):
    check(seen == expected, what, expected, seen)


def poll(fn, timeout, interval=0.05):
    """Calls fn until it returns a true value or the timeout passes; returns the last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = fn()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)


def drop_counts(reply):
    """{name: packets} from `drops -o json` or `stats -o json` (a list or an object with "drops")."""
    items = reply.get("drops", []) if isinstance(reply, dict) else reply
    return {d.get("name"): int(d.get("packets", "0")) for d in items}


def pod_ports(stats, pod):
    return [p for p in stats.get("ports", []) if p.get("kind") == "pod" and p.get("pod") == pod]


def u64(obj, field):
    return int(obj.get(field, "0"))


class Lab:
    def __init__(self, name):
        self.name = name
        self.prefix = os.environ.get("NP_E2E_PREFIX", f"npe2e{os.getpid()}")
        self.env = dict(os.environ, NP_LAB_PREFIX=self.prefix)
        self.env.setdefault("NP_BUILD_DIR", str(REPO / "build" / "bin"))
        self.bin = Path(self.env["NP_BUILD_DIR"])
        self.procs = []

    # -- running things ------------------------------------------------------------------------

    def run(self, *args, check=True, timeout=60, quiet=False):
        """Runs nodeplane-lab ARGS; returns the CompletedProcess (text)."""
        cmd = ["/bin/bash", str(LAB_TOOL), *map(str, args)]
        if not quiet:
            log(f"$ nodeplane-lab {' '.join(map(str, args))}")
        r = subprocess.run(cmd, env=self.env, stdin=subprocess.DEVNULL, capture_output=True,
                           text=True, timeout=timeout)
        if check and r.returncode != 0:
            raise CheckFailed(f"nodeplane-lab {' '.join(map(str, args))} exited {r.returncode}\n"
                              f"--- stdout\n{r.stdout}--- stderr\n{r.stderr}")
        return r

    def up(self, nodes=1, linux_nodes=0, vni=None, vxlan_port=None):
        self.run("down", quiet=True)
        args = ["up", "--nodes", nodes]
        if linux_nodes:
            args += ["--linux-nodes", linux_nodes]
        if vni is not None:
            args += ["--vni", vni]
        if vxlan_port is not None:
            args += ["--vxlan-port", vxlan_port]
        self.run(*args, timeout=120)

    def node(self, name):
        """The lab's record of a node (kind, address, pod_cidr, vtep_address, vtep_mac, vni, ...)."""
        path = Path(f"/run/{self.prefix}/{name}.env")
        try:
            text = path.read_text()
        except OSError as e:
            raise CheckFailed(f"no record of {name} at {path}: {e}")
        return dict(line.split("=", 1) for line in text.splitlines() if "=" in line)

    def state_dir(self):
        return Path(f"/run/{self.prefix}")

    def down(self):
        for p in self.procs:
            if p.poll() is None:
                p.terminate()
        for p in self.procs:
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                p.kill()
        r = self.run("down", check=False, timeout=60)
        if r.returncode != 0:
            log(f"warning: 'nodeplane-lab down' exited {r.returncode}: {r.stderr.strip()}")

    def pod_add(self, node, key, ip=None, *extra):
        args = ["pod", "add", node, key]
        if ip:
            args += ["--ip", ip]
        self.run(*args, *extra)
        return self.pod(key)

    def pod(self, key):
        out = self.run("pod", "show", key, quiet=True).stdout
        return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)

    def exec(self, target, *cmd, check=True, timeout=30):
        return self.run("exec", target, "--", *cmd, check=check, timeout=timeout)

    def popen(self, target, *cmd):
        """Starts CMD in a lab netns in the background, stdout as a pipe of text lines."""
        p = subprocess.Popen(["/bin/bash", str(LAB_TOOL), "exec", target, "--", *map(str, cmd)],
                             env=self.env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        self.procs.append(p)
        return p

    def nettool(self, target, *args, timeout=30):
        r = self.exec(target, PYTHON, NETTOOL, *args, timeout=timeout)
        return json.loads(r.stdout.strip().splitlines()[-1])

    def serve(self, target, tcp=0, udp=0):
        """Starts nettool's echo servers in a pod and waits for them to be bound."""
        p = self.popen(target, PYTHON, NETTOOL, "serve", "--tcp", tcp, "--udp", udp, "--lifetime", 90)
        line = LineReader(p).wait_for(lambda l: '"ready"' in l, timeout=10)
        if line is None:
            err = p.stderr.read() if p.poll() is not None else "(still running, not ready)"
            raise CheckFailed(f"echo server in {target} did not start: {err}")
        return p

    def ctl(self, node, *args, check=True, timeout=30):
        return self.run("ctl", node, "--", *args, check=check, timeout=timeout, quiet=True)

    def ctl_json(self, node, *args):
        r = self.ctl(node, "-o", "json", *args)
        try:
            return json.loads(r.stdout)
        except json.JSONDecodeError as e:
            raise CheckFailed(f"nodeplanectl -o json {' '.join(args)}: not JSON ({e}):\n{r.stdout}")

    def stats(self, node="node1"):
        return self.ctl_json(node, "stats")

    def drops(self, node="node1"):
        return drop_counts(self.ctl_json(node, "drops"))

    def node_log(self, node="node1"):
        path = Path(f"/run/{self.prefix}/{node}.log")
        try:
            return path.read_text(errors="replace")
        except OSError:
            return f"(no log at {path})"

    def ping(self, target, ip, count=3, interval=0.2, wait=2):
        r = self.exec(target, "ping", "-c", count, "-i", interval, "-W", wait, ip, check=False,
                      timeout=count * interval + wait + 10)
        return r


class UnderlayCapture:
    """tcpdump on the underlay bridge (in the lab's underlay netns) of the UDP traffic to one port,
    decoded afterwards by tshark with that port forced to VXLAN (`-d udp.port==PORT,vxlan`).

        with UnderlayCapture(lab, 4789) as cap:
            ...traffic...
        for pkt in cap.packets(): pkt["vxlan.vni"] -> ["42"]; pkt["ip.src"] -> [outer, inner]
    """

    FIELDS = ["frame.len", "eth.src", "eth.dst", "ip.src", "ip.dst", "ip.len", "ip.proto",
              "udp.srcport", "udp.dstport", "vxlan.vni", "vxlan.flags", "icmp.type", "data.data"]

    def __init__(self, lab, port, bpf=None):
        self.lab = lab
        self.port = int(port)
        self.bpf = bpf or f"udp port {self.port}"
        self.pcap = lab.state_dir() / f"underlay-{os.getpid()}-{id(self)}.pcap"
        self.errfile = lab.state_dir() / f"underlay-{os.getpid()}-{id(self)}.err"
        self.proc = None

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def start(self):
        # --immediate-mode: without it packets wait in the kernel's ring for up to a second, and
        # those still waiting when tcpdump is stopped are "received by filter" but never written.
        log(f"$ nodeplane-lab exec underlay -- tcpdump -i br0 -U --immediate-mode -w {self.pcap.name} "
            f"{self.bpf}")
        err = open(self.errfile, "w")
        self.proc = subprocess.Popen(
            ["/bin/bash", str(LAB_TOOL), "exec", "underlay", "--", "tcpdump", "-i", "br0", "-U",
             "--immediate-mode", "-n", "-w", str(self.pcap), *self.bpf.split()],
            env=self.lab.env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err)
        err.close()
        self.lab.procs.append(self.proc)
        if not poll(lambda: "listening on" in self.errfile.read_text() or self.proc.poll() is not None,
                    timeout=10):
            raise CheckFailed(f"tcpdump did not start: {self.errfile.read_text()}")
        if self.proc.poll() is not None:
            raise CheckFailed(f"tcpdump exited {self.proc.returncode}: {self.errfile.read_text()}")

    def stop(self):
        if self.proc is None or self.proc.poll() is not None:
            return
        time.sleep(0.3)  # the last packets of the traffic are still on their way
        self.proc.terminate()  # tcpdump flushes and closes the file on SIGTERM
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        summary = " ".join(l.strip() for l in self.errfile.read_text().splitlines()
                           if "packets" in l)
        log(f"  tcpdump: {summary}")

    def packets(self):
        """One dict per captured frame: field -> list of values, outer header first."""
        self.stop()
        cmd = ["tshark", "-r", str(self.pcap), "-d", f"udp.port=={self.port},vxlan", "-T", "fields",
               "-E", "separator=/t", "-E", "occurrence=a", "-E", "aggregator=|"]
        for f in self.FIELDS:
            cmd += ["-e", f]
        log(f"$ tshark -r {self.pcap.name} -d udp.port=={self.port},vxlan -T fields ...")
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            raise CheckFailed(f"tshark failed ({r.returncode}): {r.stderr.strip()}")
        out = []
        for line in r.stdout.splitlines():
            cols = line.split("\t")
            cols += [""] * (len(self.FIELDS) - len(cols))
            out.append({f: (c.split("|") if c else []) for f, c in zip(self.FIELDS, cols)})
        return out

    @staticmethod
    def describe(pkt):
        """One line for a decoded frame: outer and inner addresses, VNI, ICMP type, length."""
        ips = list(zip(pkt["ip.src"], pkt["ip.dst"]))
        path = " / ".join(f"{s}->{d}" for s, d in ips)
        return (f"{path} vni={','.join(pkt['vxlan.vni']) or '-'} udp={','.join(pkt['udp.dstport'])} "
                f"icmp={','.join(pkt['icmp.type']) or '-'} ip.len={','.join(pkt['ip.len'])} "
                f"eth.dst={','.join(pkt['eth.dst'])}")

    @staticmethod
    def matching(packets, outer_src, outer_dst, inner_src, inner_dst):
        """Frames whose outer (first) and inner (second) IPv4 headers are these."""
        return [p for p in packets if p["ip.src"][:2] == [outer_src, inner_src]
                and p["ip.dst"][:2] == [outer_dst, inner_dst]]


class LineReader:
    """Collects a background process's stdout lines on a thread, with arrival times."""

    def __init__(self, proc):
        self.proc = proc
        self.lines = []
        self.cond = threading.Condition()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        for line in self.proc.stdout:
            with self.cond:
                self.lines.append(line.rstrip("\n"))
                self.cond.notify_all()
        with self.cond:
            self.cond.notify_all()

    def wait_for(self, pred, timeout):
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for line in self.lines:
                    if pred(line):
                        return line
                left = deadline - time.monotonic()
                if left <= 0 or (not self.thread.is_alive() and self.proc.poll() is not None):
                    return None
                self.cond.wait(left)

    def snapshot(self):
        with self.cond:
            return list(self.lines)


class TestApiServer:
    """control/agent/testdata/test_apiserver.py in a child process: a Kubernetes list/watch API
    server the tests script over its stdin (one JSON command a line, one JSON answer a line)."""

    SCRIPT = REPO / "control" / "agent" / "testdata" / "test_apiserver.py"

    def __init__(self):
        self.p = subprocess.Popen([PYTHON, str(self.SCRIPT)], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, text=True)
        self.port = json.loads(self.p.stdout.readline())["port"]

    def cmd(self, **c):
        self.p.stdin.write(json.dumps(c) + "\n")
        self.p.stdin.flush()
        return json.loads(self.p.stdout.readline())

    def close(self):
        self.p.stdin.close()
        self.p.wait(timeout=10)


def main(test, nodes=1, linux_nodes=0, **up_args):
    """Runs test(lab) in a fresh lab of its own (nodes=0 and linux_nodes=0: the test brings it
    up itself); always tears it down. Exit 0 on pass."""
    name = Path(sys.argv[0]).stem
    if os.geteuid() != 0:
        log(f"FAIL {name}: needs root (network namespaces)")
        return 1
    lab = Lab(name)
    needs_daemon = nodes or not linux_nodes  # a Linux-only lab runs no nodeplane binary
    for b in ("nodeplaned", "nodeplanectl") if needs_daemon else ():
        if not (lab.bin / b).exists():
            log(f"FAIL {name}: {lab.bin / b} not found (set NP_BUILD_DIR or build first)")
            return 1
    log(f"== e2e {name} (lab prefix {lab.prefix})")
    started = time.monotonic()
    ok = False
    try:
        if nodes or linux_nodes:
            lab.up(nodes, linux_nodes, **up_args)
        test(lab)
        ok = True
    except CheckFailed as e:
        log(f"\nCHECK FAILED: {e}")
    except Exception:
        log("\nERROR:\n" + traceback.format_exc())
    finally:
        if not ok:
            if nodes or not linux_nodes:
                for n in range(1, (nodes or 1) + 1):
                    log(f"--- tail of node{n}'s log")
                    log("\n".join(lab.node_log(f"node{n}").splitlines()[-30:]))
            for n in range(nodes + 1, nodes + linux_nodes + 1):
                log(f"--- node{n} (linux): vxlan0, FDB, neighbours, routes")
                for cmd in (["ip", "-d", "link", "show", "vxlan0"], ["bridge", "fdb", "show", "dev", "vxlan0"],
                            ["ip", "neigh"], ["ip", "route"]):
                    r = lab.exec(f"node{n}", *cmd, check=False)
                    log((r.stdout + r.stderr).rstrip())
        lab.down()
    log(f"{'PASS' if ok else 'FAIL'} {name} ({time.monotonic() - started:.1f}s)")
    return 0 if ok else 1
