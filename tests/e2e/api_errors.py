#!/usr/bin/python3
"""e2e api_errors: AttachPod errors carry the right gRPC code (NOT_FOUND, ALREADY_EXISTS,
INVALID_ARGUMENT naming the field), nodeplanectl exits 1, and the running generation is
unchanged after each."""
import subprocess
import sys

import lablib
from lablib import check, check_eq


def generations(lab):
    status = lab.ctl_json("node1", "status")
    state = lab.ctl_json("node1", "state")
    return int(status.get("generation", "0")), int(state.get("generation", "0"))


def expect_error(lab, what, code, args, also=()):
    before = generations(lab)
    r = lab.ctl("node1", *args, check=False)
    lablib.log(f"  {what}: exit {r.returncode}, stderr: {r.stderr.strip()}")
    check_eq(r.returncode, 1, f"{what}: nodeplanectl exits 1")
    check(code in r.stderr, f"{what}: stderr names {code}", code, r.stderr.strip())
    for word in also:
        check(word in r.stderr, f"{what}: stderr names '{word}'", word, r.stderr.strip())
    check_eq(generations(lab), before, f"{what}: status/state generation unchanged")


def test(lab):
    a = lab.pod_add("node1", "default/a")
    gen = generations(lab)
    check(gen[0] > 0 and gen[0] == gen[1], "status and state report the same, non-zero generation",
          "equal, > 0", gen)

    missing = f"/run/netns/{lab.prefix}-pod-default-missing"
    expect_error(lab, "attach to a missing netns", "NOT_FOUND",
                 ["attach", "default/ghost", "--netns", missing, "--ip", "10.244.1.50"])
    pods = lab.ctl("node1", "pods").stdout
    check("ghost" not in pods, "the failed attach left no pod behind", "no 'ghost'", pods.strip())

    expect_error(lab, "attach the same pod twice", "ALREADY_EXISTS",
                 ["attach", "default/a", "--netns", f"/run/netns/{a['netns']}", "--ip", a["ip"]])

    # A netns of the lab's own for a pod that never gets attached.
    bad_ns = f"{lab.prefix}-pod-default-bad"
    subprocess.run(["ip", "netns", "add", bad_ns], check=True)
    expect_error(lab, "attach with a malformed IP", "INVALID_ARGUMENT",
                 ["attach", "default/bad", "--netns", f"/run/netns/{bad_ns}", "--ip", "10.244.1.999"],
                 also=("ips",))
    links = lab.exec("default/bad", "ip", "-o", "link", "show").stdout
    check("eth0" not in links, "the rejected attach created no eth0", "no eth0", links.strip())

    check_eq(generations(lab), gen, "generation unchanged after all rejected calls")

    # The daemon still takes good requests, and traffic flows.
    b = lab.pod_add("node1", "default/b")
    check(generations(lab)[0] > gen[0], "a good attach moves the generation on", f"> {gen[0]}",
          generations(lab)[0])
    r = lab.ping("default/a", b["ip"], count=2)
    check("2 received" in r.stdout, "ping a -> b after the rejected calls", "2 received", r.stdout.strip())


if __name__ == "__main__":
    sys.exit(lablib.main(test))
