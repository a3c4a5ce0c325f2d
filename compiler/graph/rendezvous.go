package graph

// Rendezvous (highest random weight) hashing for `balance = "hash"`. It
// lives here, not in the runtime, so that `sipfront test`, `explain` and
// `plan` predict exactly the member the proxy picks.

// FNV-1a, 64 bit.
const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

// HashString is FNV-1a (64 bit) over s, without converting it to bytes.
func HashString(s string) uint64 {
	h := uint64(fnvOffset)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= fnvPrime
	}
	return h
}

// RendezvousSeed is a member's constant in rendezvous scores; callers may
// compute it once per member.
func RendezvousSeed(id ID) uint64 { return mix64(HashString(string(id))) }

// RendezvousScore is the score of a member (by its seed) for a request key
// (HashString of the Call-ID); the available member with the highest score
// takes the request. Losing a member moves only the requests it had.
func RendezvousScore(key, seed uint64) uint64 { return mix64(key ^ seed) }

// mix64 is MurmurHash3's finaliser: it spreads every input bit over the
// output, which FNV alone does poorly for rendezvous scores.
func mix64(x uint64) uint64 {
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	x *= 0xc4ceb9fe1a85ec53
	x ^= x >> 33
	return x
}
