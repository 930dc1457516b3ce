#!/usr/bin/env python3
"""Where the heap goes, from a V8 .heapsnapshot (benchmarks/sim-scale.ts --heap-snapshot).

Prints (1) self size by (node type, name), and (2) for every Map/Set, object and array, the bytes it
and its hidden backing stores (hash table, properties, elements) take, grouped by *who holds it*: the
holder's constructor name and the edge name (e.g. `ProbeActor.#peers`). Divide by N² for B/pair.

  python3 scripts/heap-summary.py file.heapsnapshot [pairs]
"""
import json, sys
from collections import defaultdict

snap = json.load(open(sys.argv[1]))
pairs = float(sys.argv[2]) if len(sys.argv) > 2 else 1.0
meta = snap['snapshot']['meta']
nf = meta['node_fields']; ef = meta['edge_fields']
ntypes = meta['node_types'][0]; etypes = meta['edge_types'][0]
nodes = snap['nodes']; edges = snap['edges']; strings = snap['strings']
NF = len(nf); EF = len(ef)
i_type = nf.index('type'); i_name = nf.index('name'); i_size = nf.index('self_size'); i_ec = nf.index('edge_count')
e_type = ef.index('type'); e_name = ef.index('name_or_index'); e_to = ef.index('to_node')
n = len(nodes) // NF
first_edge = [0] * (n + 1)
for k in range(n):
    first_edge[k + 1] = first_edge[k] + nodes[k * NF + i_ec] * EF

def ntype(k): return ntypes[nodes[k * NF + i_type]]
def nname(k): return strings[nodes[k * NF + i_name]]
def nsize(k): return nodes[k * NF + i_size]

by_type = defaultdict(lambda: [0, 0])
for k in range(n):
    key = (ntype(k), nname(k) if ntype(k) in ('object', 'closure', 'native', 'hidden', 'array', 'code') else '')
    by_type[key][0] += nsize(k); by_type[key][1] += 1

# Hidden backing stores owned by one object: its internal edges to arrays/hidden nodes.
def own_size(k):
    s = nsize(k)
    for e in range(first_edge[k], first_edge[k + 1], EF):
        et = etypes[edges[e + e_type]]
        to = edges[e + e_to] // NF
        if et in ('internal', 'hidden') or (et == 'property' and ntype(to) in ('array', 'hidden')):
            nm = edges[e + e_name]
            name = strings[nm] if et != 'hidden' and isinstance(nm, int) and et != 'element' else ''
            if ntype(to) in ('array', 'hidden') or name in ('table', 'elements', 'properties'):
                s += nsize(to)
    return s

holder = defaultdict(lambda: [0, 0])
for k in range(n):
    if ntype(k) != 'object':
        continue
    cname = nname(k)
    for e in range(first_edge[k], first_edge[k + 1], EF):
        et = etypes[edges[e + e_type]]
        if et not in ('property',):
            continue
        to = edges[e + e_to] // NF
        if ntype(to) not in ('object',):
            continue
        ename = strings[edges[e + e_name]]
        key = f'{cname}.{ename} -> {nname(to)}'
        holder[key][0] += own_size(to); holder[key][1] += 1

total = sum(nodes[k * NF + i_size] for k in range(n))
print(f'total self size {total/1048576:.1f} MiB; per pair {total/pairs:.0f} B')
print('\n== self size by type/name (top 40) ==')
for (t, nm), (s, c) in sorted(by_type.items(), key=lambda x: -x[1][0])[:40]:
    print(f'{s/pairs:9.1f} B/pair {s/1048576:9.1f} MiB {c:10d}  {t} {nm[:70]}')
print('\n== objects (own + backing stores) by holder.field (top 50) ==')
for key, (s, c) in sorted(holder.items(), key=lambda x: -x[1][0])[:50]:
    print(f'{s/pairs:9.1f} B/pair {s/1048576:9.1f} MiB {c:10d}  {key[:110]}')
