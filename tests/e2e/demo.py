#!/usr/bin/python3
"""e2e demo: `nodeplane-lab demo` (what `scripts/setup.sh lab` runs) brings up the seed
application on two nodes and checks each Service and NetworkPolicy against the seed's intent.
It must end with 'N checks as expected, 0 not' and exit 0; every check line says what happened."""
import re
import sys

import lablib
from lablib import check, check_eq


def test(lab):
    r = lab.run("demo", check=False, timeout=240)
    for line in r.stdout.splitlines():
        lablib.log(f"    {line}")
    if r.stderr.strip():
        lablib.log("--- stderr\n" + r.stderr)
    summary = re.search(r"^(\d+) checks as expected, (\d+) not$", r.stdout, re.M)
    check(summary is not None, "the demo prints its summary", "N checks as expected, M not",
          r.stdout.strip().splitlines()[-5:])
    ok, bad = int(summary.group(1)), int(summary.group(2))
    lines = re.findall(r"^  \[(as expected|NOT as expected)\] ", r.stdout, re.M)
    check_eq(len(lines), ok + bad, "one line per check, counted in the summary")
    check_eq(ok + bad, 12, "every check ran")
    check_eq(bad, 0, "no check is off the seed's intent")
    check_eq(r.returncode, 0, "the demo exits 0")
    # The demo cleans up after itself: nothing of the lab is left.
    check(not lab.state_dir().exists(), "the demo ends with 'down'", "no state dir", lab.state_dir())


if __name__ == "__main__":
    sys.exit(lablib.main(test, nodes=0, linux_nodes=0))
