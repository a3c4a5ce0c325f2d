package graph

// LCRTable maps number prefixes to the carriers that serve them, for
// routes whose target is every carrier (least-cost routing). It is built
// once by Seal and read without locks.
//
// The index is a flat open-addressing hash table of prefix hashes (no
// pointers, so the garbage collector never scans it), probed once per
// prefix length present in the table, longest first; the hashes of every
// prefix of a number come from one FNV-1a pass over it. A lookup in a
// table of a million rows touches a few cache lines and allocates nothing.
//
// Entries of one prefix lie next to each other in entries, ordered by
// priority (lower first), then carrier declaration order; the weighted
// order inside a priority is decided per call (see Graph.carriers).
type LCRTable struct {
	slots   []lcrSlot // len is a power of two; span 0 marks an empty slot
	mask    uint64
	spans   []lcrSpan
	entries []lcrEntry
	// lengths has bit n set when some prefix is n bytes long.
	lengths uint64
	maxLen  int
	rows    int
}

// MaxLCRPrefix is the longest prefix least-cost routing indexes, in bytes.
const MaxLCRPrefix = 32

// lcrSlot is one slot of the index. It holds what a lookup needs (the
// prefix's bytes to verify a hash match, and where its entries are), so
// that a probe touches one cache line: 32 bytes, two slots a line.
type lcrSlot struct {
	hash uint64
	span uint32 // index in spans + 1; 0 marks an empty slot
	off  uint32 // entries[off:off+n] of the span, set once counted
	n    uint16
	plen uint8
	// head holds the prefix's first bytes: the whole prefix when plen
	// fits, else the lookup compares the span's prefix.
	head [lcrHead]byte
}

const lcrHead = 13

type lcrSpan struct {
	prefix   string
	off, len uint32
}

type lcrEntry struct {
	carrier  *Carrier
	priority int32
	order    int32 // carrier declaration order, the tie breaker
}

// NewLCRTable builds the table from every carrier's prefixes (longer
// than MaxLCRPrefix are ignored; the compiler rejects them). It counts the
// entries of each prefix first so that they land contiguous without
// sorting the whole table.
func NewLCRTable(carriers []*Carrier) *LCRTable {
	t := &LCRTable{}
	for _, c := range carriers {
		t.rows += len(c.Prefixes)
	}
	size := 16
	for size < 2*t.rows {
		size <<= 1
	}
	t.slots, t.mask = make([]lcrSlot, size), uint64(size-1)
	spanOf := make([]uint32, 0, t.rows) // span of every row, in row order
	for _, c := range carriers {
		for _, p := range c.Prefixes {
			if len(p.Prefix) > MaxLCRPrefix {
				spanOf = append(spanOf, ^uint32(0))
				continue
			}
			spanOf = append(spanOf, t.insert(p.Prefix))
		}
	}
	off := uint32(0)
	for i := range t.spans {
		t.spans[i].off, off = off, off+t.spans[i].len
		t.spans[i].len = 0
	}
	t.entries = make([]lcrEntry, off)
	row := 0
	for order, c := range carriers {
		for _, p := range c.Prefixes {
			if si := spanOf[row]; si != ^uint32(0) {
				s := &t.spans[si]
				t.entries[s.off+s.len] = lcrEntry{carrier: c, priority: p.Priority, order: int32(order)}
				s.len++
			}
			row++
		}
	}
	for _, s := range t.spans {
		sortEntries(t.entries[s.off : s.off+s.len])
	}
	for i := range t.slots {
		if sl := &t.slots[i]; sl.span != 0 {
			sp := t.spans[sl.span-1]
			sl.off, sl.n = sp.off, uint16(min(sp.len, 1<<16-1))
		}
	}
	return t
}

// insert finds or adds the span of prefix and counts one more row for it.
func (t *LCRTable) insert(prefix string) uint32 {
	h := prefixHash(prefix)
	for i := mix64(h) & t.mask; ; i = (i + 1) & t.mask {
		sl := &t.slots[i]
		if sl.span == 0 {
			t.spans = append(t.spans, lcrSpan{prefix: prefix, len: 1})
			sl.hash, sl.span, sl.plen = h, uint32(len(t.spans)), uint8(len(prefix))
			copy(sl.head[:], prefix)
			t.maxLen = max(t.maxLen, len(prefix))
			t.lengths |= 1 << len(prefix)
			return sl.span - 1
		}
		if sl.hash == h && t.spans[sl.span-1].prefix == prefix {
			t.spans[sl.span-1].len++
			return sl.span - 1
		}
	}
}

// sortEntries orders one prefix's entries by priority, then declaration
// order: an insertion sort, as they are few.
func sortEntries(e []lcrEntry) {
	for i := 1; i < len(e); i++ {
		for j := i; j > 0 && (e[j].priority < e[j-1].priority || e[j].priority == e[j-1].priority && e[j].order < e[j-1].order); j-- {
			e[j], e[j-1] = e[j-1], e[j]
		}
	}
}

// prefixHash is FNV-1a over s; prefixHashes computes it for every prefix
// of a number in one pass.
func prefixHash(s string) uint64 { return HashString(s) }

// prefixHashes fills h[n] with the hash of number[:n], n up to
// min(len(number), MaxLCRPrefix), and returns that n.
func prefixHashes(number string, h *[MaxLCRPrefix + 1]uint64) int {
	n := min(len(number), MaxLCRPrefix)
	x := uint64(fnvOffset)
	h[0] = x
	for i := 0; i < n; i++ {
		x ^= uint64(number[i])
		x *= fnvPrime
		h[i+1] = x
	}
	return n
}

// find returns the entries of number[:n] given its hash, and the slot.
func (t *LCRTable) find(number string, n int, h uint64) (*lcrSlot, bool) {
	for i := mix64(h) & t.mask; ; i = (i + 1) & t.mask {
		sl := &t.slots[i]
		if sl.span == 0 {
			return nil, false
		}
		if sl.hash == h && int(sl.plen) == n && t.samePrefix(sl, number[:n]) {
			return sl, true
		}
	}
}

// samePrefix verifies a hash match: hashes of numbers are not
// collision-proof, and a number must never borrow another prefix's route.
func (t *LCRTable) samePrefix(sl *lcrSlot, p string) bool {
	if len(p) > lcrHead {
		return t.spans[sl.span-1].prefix == p
	}
	return string(sl.head[:len(p)]) == p
}

// touch reads the first slot of every prefix length to probe before any
// is examined: the reads do not depend on each other, so the processor
// overlaps their cache misses instead of waiting for one after the other
// (in a table of a million rows, each is a miss to main memory).
// It returns a value made of the reads, which the caller keeps (in its
// Request) so that the compiler cannot drop them.
func (t *LCRTable) touch(h *[MaxLCRPrefix + 1]uint64, top int) uint64 {
	var sink uint64
	for n := top; n >= 0; n-- {
		if t.lengths&(1<<n) != 0 {
			sink += t.slots[mix64(h[n])&t.mask].hash
		}
	}
	return sink
}

// Rows is the number of (prefix, carrier) rows in the table.
func (t *LCRTable) Rows() int {
	if t == nil {
		return 0
	}
	return t.rows
}

// Prefixes is the number of distinct prefixes in the table.
func (t *LCRTable) Prefixes() int {
	if t == nil {
		return 0
	}
	return len(t.spans)
}

// Lookup returns the carriers of the longest prefix of number that any
// carrier serves, in priority then declaration order, and that prefix. It
// allocates the list; decisions use Graph.carriers instead.
func (t *LCRTable) Lookup(number string) ([]*Carrier, string) {
	if t == nil || len(t.spans) == 0 {
		return nil, ""
	}
	var h [MaxLCRPrefix + 1]uint64
	for n := min(prefixHashes(number, &h), t.maxLen); n >= 0; n-- {
		if t.lengths&(1<<n) == 0 {
			continue
		}
		if sl, ok := t.find(number, n, h[n]); ok {
			out := make([]*Carrier, 0, sl.n)
			for _, e := range t.entries[sl.off : sl.off+uint32(sl.n)] {
				out = append(out, e.carrier)
			}
			return out, number[:n]
		}
	}
	return nil, ""
}
