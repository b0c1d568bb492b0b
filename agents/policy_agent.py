#!/usr/bin/env python3
"""Network policy agent for npa-conntrack-race, following the design in the report: the datapath
(an nftables table standing in for the eBPF programs and map) admits new connections to --port and
records their 5-tuple in the set "allowed" (the conntrack map); a reply of the server is allowed
only if its flow is in that set, otherwise it is dropped and counted per flow in the set "denied".
The agent periodically cleans the map: it snapshots the kernel conntrack table, then walks the map
(spending --per-entry-delay seconds on each entry) and removes entries the snapshot lacks, either
at once (immediate-delete, the report's algorithm) or on the second consecutive miss
(consecutive-miss, the proposed fix). It shells out to the stock `nft` and `conntrack` tools."""
import argparse
import json
import subprocess
import time

from labagent import emit, stop_event


def nft(args, stdin=None):
    return subprocess.run(["nft"] + args, input=stdin, capture_output=True, text=True, check=True).stdout


def tuple_key(elem):
    c = elem["concat"] if isinstance(elem, dict) and "concat" in elem else elem.get("elem", {}).get("val", {}).get("concat")
    return "%s:%s>%s:%s" % tuple(c)


def set_elements(table, name):
    text = nft(["-j", "list", "set", "inet", table, name])
    if not text.strip():
        raise RuntimeError("'nft -j list set %s' printed nothing: is the nft on PATH the nftables tool?" % name)
    data = json.loads(text)
    for item in data["nftables"]:
        if "set" in item:
            out = []
            for e in item["set"].get("elem", []):
                if "elem" in e:
                    key = tuple_key(e["elem"]["val"])
                    packets = e["elem"].get("counter", {}).get("packets")
                else:
                    key, packets = tuple_key(e), None
                out.append((key, packets))
            return out
    return []


def kernel_flows(port):
    """5-tuples (client ip:port > server ip:port) of the kernel's conntrack entries for the policed port; None when
    conntrack -L failed (an empty table and a failed dump are not the same)."""
    res = subprocess.run(["conntrack", "-L", "-p", "tcp", "--dport", str(port)], capture_output=True, text=True)
    if res.returncode != 0:
        emit("conntrack_failed", exitCode=res.returncode, stderr=res.stderr.strip()[-200:])
        return None
    flows = set()
    for line in res.stdout.splitlines():
        parts = [kv for kv in line.split() if "=" in kv]
        src = next((p.split("=")[1] for p in parts if p.startswith("src=")), None)
        dst = next((p.split("=")[1] for p in parts if p.startswith("dst=")), None)
        sport = next((p.split("=")[1] for p in parts if p.startswith("sport=")), None)
        dport = next((p.split("=")[1] for p in parts if p.startswith("dport=")), None)
        if src and sport and dst and dport:
            flows.add("%s:%s>%s:%s" % (src, sport, dst, dport))
    return flows


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--port", type=int, default=9100, help="the policed server port")
    ap.add_argument("--table", default="npa")
    ap.add_argument("--algorithm", choices=["immediate-delete", "consecutive-miss"], required=True)
    ap.add_argument("--cleanup-period", type=float, default=5.0)
    ap.add_argument("--per-entry-delay", type=float, default=0.3)
    ap.add_argument("--duration", type=float, default=120.0)
    args = ap.parse_args()
    stop = stop_event()
    t, p = args.table, args.port
    key = "ip saddr . tcp sport . ip daddr . tcp dport"
    reply = "ip daddr . tcp dport . ip saddr . tcp sport"
    subprocess.run(["nft", "delete", "table", "inet", t], capture_output=True)
    # The counter inside the update statement: the set's own "counter" reaches elements added from the packet
    # path only since "netfilter: nft_dynset: honor stateful expressions in set definition" (fca05d4d61e6, 5.11);
    # on Debian's 5.10 they were listed without one, so no denial was ever counted there.
    nft(["-f", "-"], stdin="""table inet %(t)s {
  set allowed { type ipv4_addr . inet_service . ipv4_addr . inet_service; flags dynamic; size 65535; }
  set denied { type ipv4_addr . inet_service . ipv4_addr . inet_service; flags dynamic; size 65535; counter; }
  chain ingress_new { type filter hook input priority 0; policy accept;
    tcp dport %(p)d ct state new add @allowed { %(key)s }
  }
  chain egress_replies { type filter hook output priority 0; policy accept;
    tcp sport %(p)d %(reply)s @allowed accept
    tcp sport %(p)d update @denied { %(reply)s counter } counter drop
  }
}
""" % dict(t=t, p=p, key=key, reply=reply))
    emit("ready", table=t, port=p, algorithm=args.algorithm, cleanupPeriod=args.cleanup_period, perEntryDelay=args.per_entry_delay)

    started = time.time()
    cycle = 0
    missed_before = set()
    deletions = []
    reported_denied = {}
    conntrack_failures = 0
    while not stop.is_set() and time.time() - started < args.duration:
        cycle_start = started + cycle * args.cleanup_period
        while time.time() < cycle_start and not stop.is_set():
            time.sleep(0.02)
        if stop.is_set():
            break
        snapshot = kernel_flows(p)
        if snapshot is None:
            # Without a snapshot every entry would look stale: skip the walk, as the agent must.
            conntrack_failures += 1
            cycle += 1
            continue
        entries = [k for k, _ in set_elements(t, "allowed")]
        emit("cleanup_start", cycle=cycle, snapshotSize=len(snapshot), mapSize=len(entries), snapshot=sorted(snapshot), map=sorted(entries))
        missed_now = set()
        for entry in entries:
            if stop.is_set():
                break
            time.sleep(args.per_entry_delay)
            if entry in snapshot:
                continue
            if args.algorithm == "immediate-delete" or entry in missed_before:
                src, dst = entry.split(">")
                (sip, sport), (dip, dport) = src.rsplit(":", 1), dst.rsplit(":", 1)
                res = subprocess.run(["nft", "delete", "element", "inet", t, "allowed", "{ %s . %s . %s . %s }" % (sip, sport, dip, dport)], capture_output=True, text=True)
                flows = kernel_flows(p)
                conntrack_failures += flows is None
                live = flows is not None and entry in flows
                rec = {"tuple": entry, "cycle": cycle, "reason": "missing" if args.algorithm == "immediate-delete" else "missing twice", "kernelHadFlowAtDeletion": live, "ok": res.returncode == 0}
                deletions.append(dict(rec, t=time.time()))
                emit("deleted", **rec)
            else:
                missed_now.add(entry)
                emit("missed", tuple=entry, cycle=cycle)
        missed_before = missed_now
        for k, packets in set_elements(t, "denied"):
            if packets and packets != reported_denied.get(k):
                reported_denied[k] = packets
                emit("denied", tuple=k, packets=packets)
        emit("cleanup_end", cycle=cycle, deleted=sum(1 for d in deletions if d["cycle"] == cycle))
        cycle += 1

    denied = [{"tuple": k, "packets": n} for k, n in set_elements(t, "denied") if n]
    subprocess.run(["nft", "delete", "table", "inet", t], capture_output=True)
    emit("summary", algorithm=args.algorithm, cycles=cycle, deletions=deletions, deniedFlows=denied, deniedPackets=sum(d["packets"] for d in denied),
         conntrackFailures=conntrack_failures)


if __name__ == "__main__":
    main()
