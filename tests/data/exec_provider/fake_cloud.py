#!/usr/bin/env python3
"""A stand-in for a user's provider program, for lbctl's exec provider tests.

usage: fake_cloud.py MODE RECORD_FILE [ARGS...]

Every mode first appends its argv (as one JSON list per line) to RECORD_FILE,
so a test can see exactly which arguments arrived. Modes:
  clone NAMES [BASE_PORT]  print {"name", "address"} per comma-separated name
  ok                       exit 0, print nothing
  fail                     print a message to stderr, exit 3
  bad-json                 print a line that is not JSON, exit 0
  hang                     print to stderr, then sleep for a minute
"""
import json
import sys
import time


def main():
    mode, record = sys.argv[1], sys.argv[2]
    args = sys.argv[3:]
    with open(record, "a") as f:
        f.write(json.dumps(sys.argv[1:]) + "\n")
    if mode == "clone":
        names = args[0].split(",")
        base = int(args[1]) if len(args) > 1 else 8200
        print("cloning", len(names), "servers", file=sys.stderr)
        for i, name in enumerate(names):
            print(json.dumps({"name": name, "address": "127.0.0.1:%d" % (base + i + 1)}))
            print()
        return 0
    if mode == "ok":
        return 0
    if mode == "fail":
        print("contacting the cloud API", file=sys.stderr)
        print("error: quota exceeded for project shop", file=sys.stderr)
        return 3
    if mode == "bad-json":
        print("launched v2-1 at 127.0.0.21")
        print("warning: output format is not JSON", file=sys.stderr)
        return 0
    if mode == "hang":
        print("waiting for the cloud API", file=sys.stderr, flush=True)
        time.sleep(60)
        return 0
    print("unknown mode " + mode, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
