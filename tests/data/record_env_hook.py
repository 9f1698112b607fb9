#!/usr/bin/env python3
"""A hook for tests: appends its LBCTL_* and PG* environment to OUTFILE as one
JSON line (a variable whose name holds URL or PASS as "(set)", never its value), then exits with EXIT_CODE (printing a reason on stderr when non-zero).
Usage: record_env_hook.py OUTFILE [EXIT_CODE]"""
import json
import os
import sys

with open(sys.argv[1], "a") as out:
    out.write(json.dumps({k: "(set)" if "URL" in k or "PASS" in k else v
                          for k, v in os.environ.items() if k.startswith("LBCTL_") or k.startswith("PG")}) + "\n")
code = int(sys.argv[2]) if len(sys.argv) > 2 else 0
if code:
    print("workers refused to stop", file=sys.stderr)
sys.exit(code)
