package memberlist

// Added to a temporary copy of Debian's memberlist 0.2.2 source by test/interop/go/build.sh, only
// for the interop helper: the public API cannot tell a dead member from one that left (Members()
// hides both, and Node.State is always 0), and the interop suite asserts exactly that difference.

// InteropNodeStates returns every known member's state: 0 alive, 1 suspect, 2 dead, 3 left.
func (m *Memberlist) InteropNodeStates() map[string]int {
	m.nodeLock.RLock()
	defer m.nodeLock.RUnlock()
	out := make(map[string]int, len(m.nodes))
	for _, n := range m.nodes {
		out[n.Name] = int(n.State)
	}
	return out
}
