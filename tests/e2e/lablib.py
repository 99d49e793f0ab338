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

    def up(self, nodes=1):
        self.run("down", quiet=True)
        self.run("up", "--nodes", nodes, timeout=120)

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


def main(test, nodes=1):
    """Runs test(lab) in a fresh lab of its own; always tears it down. Exit 0 on pass."""
    name = Path(sys.argv[0]).stem
    if os.geteuid() != 0:
        log(f"FAIL {name}: needs root (network namespaces)")
        return 1
    lab = Lab(name)
    for b in ("nodeplaned", "nodeplanectl"):
        if not (lab.bin / b).exists():
            log(f"FAIL {name}: {lab.bin / b} not found (set NP_BUILD_DIR or build first)")
            return 1
    log(f"== e2e {name} (lab prefix {lab.prefix})")
    started = time.monotonic()
    ok = False
    try:
        if nodes:
            lab.up(nodes)
        test(lab)
        ok = True
    except CheckFailed as e:
        log(f"\nCHECK FAILED: {e}")
    except Exception:
        log("\nERROR:\n" + traceback.format_exc())
    finally:
        if not ok:
            for n in range(1, (nodes or 1) + 1):
                log(f"--- tail of node{n}'s log")
                log("\n".join(lab.node_log(f"node{n}").splitlines()[-30:]))
        lab.down()
    log(f"{'PASS' if ok else 'FAIL'} {name} ({time.monotonic() - started:.1f}s)")
    return 0 if ok else 1
