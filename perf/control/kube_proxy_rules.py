#!/usr/bin/python3
"""Writes the iptables-restore input kube-proxy's iptables mode would program for N ClusterIP
Services of E endpoints each (the nat table: KUBE-SERVICES -> KUBE-SVC-* with one `statistic
random` rule per endpoint -> KUBE-SEP-* with the masquerade mark for hairpin and the DNAT): the
baseline the service table is compared with in perf/RESULTS.md.

Usage: kube_proxy_rules.py [--services N] [--endpoints E] > rules.txt
"""
import argparse
import hashlib


def chain(prefix, text):
    # kube-proxy names chains by a hash of the service port / endpoint (16 characters).
    return prefix + hashlib.sha256(text.encode()).hexdigest()[:16].upper()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--services", type=int, default=10000)
    ap.add_argument("--endpoints", type=int, default=10)
    a = ap.parse_args()
    chains = ["KUBE-SERVICES", "KUBE-MARK-MASQ", "KUBE-POSTROUTING", "KUBE-NODEPORTS"]
    rules = [
        "-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000",
        "-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN",
        "-A KUBE-POSTROUTING -j MARK --set-xmark 0x4000/0x0",
        "-A KUBE-POSTROUTING -j MASQUERADE --random-fully",
    ]
    for i in range(a.services):
        vip = "10.%d.%d.%d" % (96 + (i >> 16), (i >> 8) & 255, i & 255)
        name = "bench/svc-%d:http" % i
        svc = chain("KUBE-SVC-", name)
        chains.append(svc)
        rules.append('-A KUBE-SERVICES -d %s/32 -p tcp -m comment --comment "%s cluster IP" '
                     "-m tcp --dport 80 -j %s" % (vip, name, svc))
        rules.append('-A %s ! -s 10.244.0.0/16 -d %s/32 -p tcp -m comment --comment "%s cluster '
                     'IP" -m tcp --dport 80 -j KUBE-MARK-MASQ' % (svc, vip, name))
        n = a.endpoints
        for e in range(n):
            k = i * 16 + e
            ep = "10.%d.%d.%d" % (128 + (k >> 16), (k >> 8) & 255, k & 255)
            sep = chain("KUBE-SEP-", name + ep)
            chains.append(sep)
            left = n - e
            if left > 1:
                rules.append('-A %s -m comment --comment "%s -> %s:8080" -m statistic --mode '
                             "random --probability %.11f -j %s" % (svc, name, ep, 1.0 / left, sep))
            else:
                rules.append('-A %s -m comment --comment "%s -> %s:8080" -j %s' %
                             (svc, name, ep, sep))
            rules.append('-A %s -s %s/32 -m comment --comment "%s" -j KUBE-MARK-MASQ' %
                         (sep, ep, name))
            rules.append('-A %s -p tcp -m comment --comment "%s" -m tcp -j DNAT '
                         "--to-destination %s:8080" % (sep, name, ep))
    rules.append('-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports" '
                 "-m addrtype --dst-type LOCAL -j KUBE-NODEPORTS")
    print("*nat")
    for c in chains:
        print(":%s - [0:0]" % c)
    for r in rules:
        print(r)
    print("COMMIT")


if __name__ == "__main__":
    main()
