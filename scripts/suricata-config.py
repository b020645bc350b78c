#!/usr/bin/env python3
"""Write a suricata.yaml for the benchmarks: Debian's own configuration with EVE reduced to
alerts (what edgeward writes) and logging to suricata.log only.

usage: suricata-config.py OUT [--unix-socket PATH] [--af-packet IFACE]
"""
import argparse

import yaml

p = argparse.ArgumentParser()
p.add_argument("out")
p.add_argument("--unix-socket")
p.add_argument("--af-packet")
a = p.parse_args()
conf = yaml.safe_load(open("/etc/suricata/suricata.yaml"))
outs = []
for o in conf.get("outputs", []):
    if "eve-log" in o:
        o["eve-log"]["types"] = [{"alert": {"tagged-packets": False}}]
        outs.append(o)
conf["outputs"] = outs
conf.setdefault("logging", {})["outputs"] = [
    {"console": {"enabled": True}},
    {"file": {"enabled": True, "level": "info", "filename": "suricata.log"}},
]
if a.unix_socket:
    conf["unix-command"] = {"enabled": True, "filename": a.unix_socket}
if a.af_packet:
    conf["af-packet"] = [{"interface": a.af_packet, "cluster-id": 98, "cluster-type": "cluster_flow", "defrag": True, "threads": "auto"}]
with open(a.out, "w") as f:
    f.write("%YAML 1.1\n---\n")
    yaml.safe_dump(conf, f, default_flow_style=False)
