// Package auth serves the auth stages of a policy: SIP digest
// authentication (RFC 3261 §22, RFC 7616 with the RFC 8760 algorithms MD5
// and SHA-256, qop=auth), stateless nonces, nonce-count replay protection,
// credential stores (a CSV file compiled into the graph, or PostgreSQL
// behind a cache) and a brute-force throttle per source and per user. The
// digest arithmetic and header syntax are runtime/digest's.
//
// Service implements graph.Authenticator. Its state (throttle tables,
// database pools and caches, nonce counts) is keyed by graph IDs and
// survives a policy reload.
package auth

import "github.com/sipfront/sipfront/runtime/digest"

// parseAlgorithm reads the algorithm parameter of an answer; an absent one
// means MD5. The -sess variants are not offered, so not accepted.
func parseAlgorithm(s string) (digest.Algorithm, bool) {
	alg, ok := digest.ParseAlgorithm(s)
	return alg, ok && !alg.Sess()
}
