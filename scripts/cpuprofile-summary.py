#!/usr/bin/env python3
"""Self and inclusive time per function from a .cpuprofile (node --cpu-prof).

  python3 scripts/cpuprofile-summary.py file.cpuprofile [top]
"""
import json, sys
from collections import defaultdict

p = json.load(open(sys.argv[1]))
top = int(sys.argv[2]) if len(sys.argv) > 2 else 40
nodes = {n['id']: n for n in p['nodes']}
parent = {}
for n in p['nodes']:
    for c in n.get('children', []):
        parent[c] = n['id']
dt = defaultdict(float)
samples, deltas = p['samples'], p['timeDeltas']
for i, s in enumerate(samples):
    dt[s] += deltas[i] / 1000.0 if i < len(deltas) else 0
def key(n):
    cf = n['callFrame']
    url = cf['url'].split('/')[-1]
    return f"{cf['functionName'] or '(anon)'} {url}:{cf['lineNumber']+1}"
self_t = defaultdict(float); incl = defaultdict(float)
for nid, t in dt.items():
    self_t[key(nodes[nid])] += t
    seen = set(); cur = nid
    while cur is not None:
        k = key(nodes[cur])
        if k not in seen:
            incl[k] += t; seen.add(k)
        cur = parent.get(cur)
total = sum(dt.values())
print(f'total {total/1000:.1f} s')
print('== self ==')
for k, t in sorted(self_t.items(), key=lambda x: -x[1])[:top]:
    print(f'{t/1000:8.2f} s {100*t/total:5.1f}%  {k}')
print('== inclusive ==')
for k, t in sorted(incl.items(), key=lambda x: -x[1])[:top]:
    print(f'{t/1000:8.2f} s {100*t/total:5.1f}%  {k}')
