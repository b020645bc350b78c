#!/usr/bin/env python3
"""Compare two EVE alert files flow by flow: for each flow (5-tuple, either direction), the set of
SIDs each engine raised. Prints every difference; exits 1 if there is any.

usage: ids-compare.py SURICATA_EVE EDGEWARD_EVE [--rules DIR]
"""
import collections
import json
import sys


def flows(path):
    out = collections.defaultdict(set)
    msgs = {}
    with open(path) as f:
        for line in f:
            e = json.loads(line)
            if e.get("event_type") != "alert":
                continue
            a = (e["src_ip"], e.get("src_port", 0))
            b = (e["dest_ip"], e.get("dest_port", 0))
            key = (e["proto"],) + tuple(sorted([a, b]))
            sid = e["alert"]["signature_id"]
            out[key].add(sid)
            msgs[sid] = e["alert"]["signature"]
    return out, msgs


def main():
    suri, m1 = flows(sys.argv[1])
    ew, m2 = flows(sys.argv[2])
    msgs = {**m1, **m2}
    keys = sorted(set(suri) | set(ew), key=str)
    differences = 0
    both = set()
    for k in keys:
        s, e = suri.get(k, set()), ew.get(k, set())
        both |= s & e
        for sid in sorted(s - e):
            differences += 1
            print(f"MISSED by edgeward  {k}: {sid} {msgs.get(sid, '')}")
        for sid in sorted(e - s):
            differences += 1
            print(f"EXTRA in edgeward   {k}: {sid} {msgs.get(sid, '')}")
    print(
        f"flows with alerts: suricata {len(suri)}, edgeward {len(ew)}; "
        f"distinct SIDs: suricata {len(set().union(*suri.values()) if suri else set())}, "
        f"edgeward {len(set().union(*ew.values()) if ew else set())}, agreed {len(both)}; "
        f"differences {differences}"
    )
    sys.exit(1 if differences else 0)


if __name__ == "__main__":
    main()
