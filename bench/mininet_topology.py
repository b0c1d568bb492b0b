#!/usr/bin/python3
"""Build and tear down a topology with Mininet (Debian's package), for comparison with lab and the
ip -batch floor: no switches and no controller, hosts wired directly, the same addresses and routes.
Input: a JSON file with nodes [{name, forward, interfaces: [{name, address, prefix, peer}], routes:
[{to, via, dev}]}] and links [{a, aIface, b, bIface}]. Output: one JSON line with upMs and downMs."""
import json
import sys
import time

from mininet.net import Mininet
from mininet.node import Host
from mininet.log import setLogLevel


def main():
    spec = json.load(open(sys.argv[1]))
    setLogLevel("error")
    t0 = time.time()
    # Mininet.init() (fixLimits) raises tcp_rmem, tcp_wmem, rmem_max, the neighbour table sizes and more in the
    # machine's own namespace and leaves them there; new namespaces inherit tcp_rmem, which changed docker-1090's TCP
    # windows and so its verdicts. The bench leaves the machine as it found it: Mininet starts without it.
    Mininet.inited = True
    net = Mininet(controller=None, build=False, autoSetMacs=False, autoStaticArp=False)
    hosts = {n["name"]: net.addHost(n["name"], cls=Host, ip=None) for n in spec["nodes"]}
    addr = {(n["name"], i["name"]): "%s/%d" % (i["address"], i["prefix"]) for n in spec["nodes"] for i in n["interfaces"]}
    for l in spec["links"]:
        net.addLink(hosts[l["a"]], hosts[l["b"]], intfName1=l["aIface"], intfName2=l["bIface"],
                    params1={"ip": addr[(l["a"], l["aIface"])]}, params2={"ip": addr[(l["b"], l["bIface"])]})
    net.build()
    for n in spec["nodes"]:
        h = hosts[n["name"]]
        if n["forward"]:
            h.cmd("sysctl -qw net.ipv4.ip_forward=1")
        if n["routes"]:
            h.cmd(" ; ".join("ip route add %s via %s dev %s" % (r["to"], r["via"], r["dev"]) for r in n["routes"]))
    up = time.time() - t0
    t1 = time.time()
    net.stop()
    down = time.time() - t1
    print(json.dumps({"upMs": round(up * 1000), "downMs": round(down * 1000)}))


if __name__ == "__main__":
    main()
