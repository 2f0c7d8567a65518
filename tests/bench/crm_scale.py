#!/usr/bin/env python3
"""Organizations at scale to the CRM (issue 11): 500 organizations of 200 members each (100,000
memberships, one PUT each: the CRM contract has no bulk membership call), created by /Bulk and
delivered to the CRM fake. Runs tests/integration/test_delivery_crm_bulk.py's organization case
with that shape (the ctest runs 25 x 200) and prints its timing lines.

    SCIMD_BIN=build/scimd [SCIMD_TEST_DB=postgresql SCIMD_PG_PORT=PORT] \\
        /usr/bin/python3 tests/bench/crm_scale.py [--orgs 500] [--members 200] [--stores]

--stores also runs the 2,000-store case (timings of the bulk import)."""

import argparse
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
INTEGRATION = os.path.join(os.path.dirname(HERE), "integration")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orgs", type=int, default=500)
    parser.add_argument("--members", type=int, default=200)
    parser.add_argument("--stores", action="store_true")
    args = parser.parse_args()
    env = dict(os.environ)
    env.update({"SCIMD_CRM_ORGS": str(args.orgs), "SCIMD_CRM_MEMBERS": str(args.members),
                "PYTHONPATH": INTEGRATION, "PYTHONDONTWRITEBYTECODE": "1"})
    tests = ["test_delivery_crm_bulk.CrmAtScaleTest.test_organizations_reach_the_crm_with_their_members"]
    if args.stores:
        tests.append("test_delivery_crm_bulk.CrmAtScaleTest.test_stores_reach_the_crm_in_bulk_imports")
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "unittest", "-v"] + tests, cwd=INTEGRATION,
                          env=env, stderr=subprocess.PIPE, text=True)
    for line in proc.stderr.splitlines():
        if "crm-at-scale:" in line:
            print(line[line.index("crm-at-scale:"):])
        elif "FAIL" in line or "Error" in line or line.startswith("OK"):
            print(line)
    print(f"total {time.monotonic() - started:.1f} s, db {env.get('SCIMD_TEST_DB', 'sqlite')}, "
          f"load average {os.getloadavg()[0]:.2f}")
    return proc.returncode


if __name__ == "__main__":
    sys.exit(main())
