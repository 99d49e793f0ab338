#!/usr/bin/python3
"""e2e lab_teardown: `down` of a running lab stops nodeplaned cleanly (SIGTERM, exit 0); after
`up`, a pod and a process in it, and the daemon killed with SIGKILL, `down` reports the crash and
leaves no netns with the prefix, no process of the lab, no /run/PREFIX and no DPDK runtime dir;
a second `down` succeeds too."""
import os
import signal
import subprocess
import sys
from pathlib import Path

import lablib
from lablib import check, check_eq, poll


def lab_netns(prefix):
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=True).stdout
    return [l.split()[0] for l in out.splitlines() if l.split() and l.split()[0].startswith(prefix + "-")]


def lab_processes(prefix, pids):
    """Pids still alive among `pids`, plus any process whose command line names the prefix."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state == "Z":
            continue
        if int(entry.name) in pids or any(prefix.encode() in arg for arg in cmdline):
            found.add(int(entry.name))
    return sorted(found)


def alive(pid):
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test(lab):
    prefix = lab.prefix
    # A running lab: SIGTERM is a clean shutdown (the lab's supervisor records the exit status).
    lab.pod_add("node1", "default/a")
    r = lab.run("down", check=False)
    lablib.log(r.stdout.rstrip() + ("\n" + r.stderr.rstrip() if r.stderr.strip() else ""))
    check_eq(r.returncode, 0, "down of a running lab exits 0")
    check("node1: nodeplaned stopped cleanly" in r.stdout and "nodeplaned was ended" not in r.stderr,
          "nodeplaned exits 0 on SIGTERM", "'node1: nodeplaned stopped cleanly'",
          (r.stdout + r.stderr).strip().splitlines()[-6:])
    check_eq(lab_netns(prefix), [], f"no netns named {prefix}-* left after a clean down")

    lab.run("up")
    lab.pod_add("node1", "default/a")
    sleeper = lab.popen("default/a", "sleep", "300")
    pid = int(Path(f"/run/{prefix}/node1.pid").read_text().strip())
    check(alive(pid), "nodeplaned runs", f"pid {pid} alive", "gone")
    check(Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0].endswith(b"nodeplaned"),
          "the pid file names the daemon", "nodeplaned", Path(f"/proc/{pid}/cmdline").read_bytes())
    check(any(p.name.startswith(prefix + "-") for p in Path("/var/run/dpdk").glob("*")),
          "the daemon has a DPDK runtime dir", f"/var/run/dpdk/{prefix}-node1",
          sorted(p.name for p in Path("/var/run/dpdk").glob("*")))

    os.kill(pid, signal.SIGKILL)
    check(poll(lambda: not alive(pid), timeout=5), "SIGKILL ends the daemon", "gone", "still alive")

    r = lab.run("down", check=False)
    lablib.log(r.stdout.rstrip() + ("\n" + r.stderr.rstrip() if r.stderr.strip() else ""))
    check_eq(r.returncode, 0, "down after the crash exits 0")
    check("SIGKILL" in r.stderr, "down reports how the daemon ended", "a warning naming SIGKILL",
          r.stderr.strip())
    try:  # `down` also ends what runs inside the lab's namespaces
        sleeper.wait(timeout=5)
    except subprocess.TimeoutExpired:
        pass
    check(sleeper.poll() is not None, "a process left in a pod's netns was stopped", "exited", "running")

    check_eq(lab_netns(prefix), [], f"no netns named {prefix}-* left")
    check_eq(lab_processes(prefix, {pid, sleeper.pid}), [], "no process of the lab left")
    check(not Path(f"/run/{prefix}").exists(), f"/run/{prefix} removed", "absent", "present")
    left = sorted(p.name for p in Path("/var/run/dpdk").glob(f"{prefix}-*"))
    check_eq(left, [], "no DPDK runtime dir of the lab left")

    r = lab.run("down", check=False)
    check_eq(r.returncode, 0, "a second down (nothing left) exits 0")
    r = lab.run("status", check=False)
    check("is down" in r.stdout, "status says the lab is down", "'is down'", r.stdout.strip())


if __name__ == "__main__":
    sys.exit(lablib.main(test))
