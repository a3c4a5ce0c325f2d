package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	mrand "math/rand/v2"
	"net/netip"
	"os"
	"time"
)

// SecretEnv names the environment variable that gives the nonce secret, so
// that several proxies behind one address accept each other's nonces.
const SecretEnv = "SIPFRONT_NONCE_SECRET"

// Nonces issues and checks stateless nonces: the proxy keeps no state per
// nonce, a nonce carries its issue time and an HMAC over that time, the
// realm and the source address it was issued to.
//
// Layout (hex in the header): 8 bytes issue time (Unix ns), 8 bytes that
// make it unique, 16 bytes HMAC-SHA-256 truncated.
type Nonces struct {
	// ipad and opad are the secret XORed with the HMAC pads (RFC 2104),
	// kept so that a MAC costs two SHA-256 sums and no allocation.
	ipad, opad [sha256.BlockSize]byte
}

const (
	nonceRaw = 32
	nonceHex = 2 * nonceRaw
	macLen   = 16
	// maxSkew is how far in the future an issue time may lie: a nonce from
	// a peer proxy whose clock runs slightly ahead.
	maxSkew = 5 * time.Second
)

// NewNonces returns nonces keyed by secret (any length; at least 16 bytes
// of entropy).
func NewNonces(secret []byte) *Nonces {
	key := secret
	if len(key) > sha256.BlockSize {
		sum := sha256.Sum256(key)
		key = sum[:]
	}
	n := &Nonces{}
	for i := range n.ipad {
		var k byte
		if i < len(key) {
			k = key[i]
		}
		n.ipad[i], n.opad[i] = k^0x36, k^0x5c
	}
	return n
}

// SecretFromEnv returns the nonce secret from SIPFRONT_NONCE_SECRET, or 32
// random bytes when it is unset (nonces then die with the process, and a
// client answering a restarted proxy is challenged once more). fromEnv
// says which, for the start-up log.
func SecretFromEnv() (secret []byte, fromEnv bool, err error) {
	if s, ok := os.LookupEnv(SecretEnv); ok {
		if len(s) < 16 {
			return nil, true, fmt.Errorf("%s holds %d characters; give at least 16 random ones (such as `openssl rand -hex 32`)", SecretEnv, len(s))
		}
		return []byte(s), true, nil
	}
	secret = make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return nil, false, fmt.Errorf("nonce secret: %w", err)
	}
	return secret, false, nil
}

// Issue returns a new nonce for realm and the source address src.
func (n *Nonces) Issue(realm string, src netip.Addr, now time.Time) string {
	var raw [nonceRaw]byte
	binary.BigEndian.PutUint64(raw[0:8], uint64(now.UnixNano()))
	binary.BigEndian.PutUint64(raw[8:16], mrand.Uint64())
	mac := n.mac(raw[:16], realm, src)
	copy(raw[16:], mac[:macLen])
	return hex.EncodeToString(raw[:])
}

// nonceStatus is what Check found.
type nonceStatus uint8

const (
	nonceBad   nonceStatus = iota // malformed, forged, or for another source
	nonceOK                       // issued here (or by a peer) and not expired
	nonceStale                    // genuine but older than the TTL
)

// nonceKey identifies a nonce in the replay table: its MAC, which is unique
// per issued nonce.
type nonceKey [macLen]byte

// Check verifies a nonce for realm and src. issued is its issue time.
func (n *Nonces) Check(nonce, realm string, src netip.Addr, now time.Time, ttl time.Duration) (key nonceKey, issued time.Time, st nonceStatus) {
	var raw [nonceRaw]byte
	if !decodeHex(raw[:], nonce) {
		return key, issued, nonceBad
	}
	mac := n.mac(raw[:16], realm, src)
	if subtle.ConstantTimeCompare(mac[:macLen], raw[16:]) != 1 {
		return key, issued, nonceBad
	}
	copy(key[:], raw[16:])
	issued = time.Unix(0, int64(binary.BigEndian.Uint64(raw[0:8])))
	switch {
	case issued.After(now.Add(maxSkew)):
		return key, issued, nonceBad
	case now.Sub(issued) > ttl:
		return key, issued, nonceStale
	}
	return key, issued, nonceOK
}

// mac is HMAC-SHA-256(secret, head || realm || source) computed with two
// stack buffers.
func (n *Nonces) mac(head []byte, realm string, src netip.Addr) [sha256.Size]byte {
	var buf [sha256.BlockSize + 16 + 256 + 16]byte
	in := append(buf[:0], n.ipad[:]...)
	in = append(in, head...)
	if len(realm) > 256 {
		realm = realm[:256] // a realm is the policy's, short; bound the buffer anyway
	}
	in = append(in, realm...)
	ip := src.As16()
	in = append(in, ip[:]...)
	inner := sha256.Sum256(in)
	in = append(buf[:0], n.opad[:]...)
	in = append(in, inner[:]...)
	return sha256.Sum256(in)
}

// decodeHex decodes exactly len(dst)*2 hex digits of s into dst without
// converting s to a byte slice.
func decodeHex(dst []byte, s string) bool {
	if len(s) != 2*len(dst) {
		return false
	}
	for i := range dst {
		hi, ok1 := fromHex(s[2*i])
		lo, ok2 := fromHex(s[2*i+1])
		if !ok1 || !ok2 {
			return false
		}
		dst[i] = hi<<4 | lo
	}
	return true
}

func fromHex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}
