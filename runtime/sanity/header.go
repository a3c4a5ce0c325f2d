package sanity

import "bytes"

// header checks one header field, folded lines included.
func (s *scan) header(h []byte) *fail {
	s.headers++
	switch {
	case s.headers > s.lim.MaxHeaders:
		return failHeaderCount
	case len(h) > s.lim.MaxHeaderLine:
		return failHeaderLine
	}
	if f := checkBytes(h); f != nil {
		return f
	}
	colon := bytes.IndexByte(h, ':')
	if colon <= 0 {
		return failHeaderSyntax
	}
	name := trimLWS(h[:colon])
	if len(name) == 0 || !allToken(name) {
		return failHeaderSyntax
	}
	k := kindOf(name)
	s.count[k]++
	if single[k] && s.count[k] > 1 {
		return failDuplicate[k]
	}
	v := trimLWS(h[colon+1:])
	switch k {
	case kindVia:
		return s.via(v)
	case kindCSeq:
		return s.cseq(v)
	case kindMaxForwards:
		if n, ok := number(v, 255); !ok || n < 0 {
			return failMaxForwards
		}
	case kindContentLength:
		n, ok := number(v, 1<<31-1)
		if !ok {
			return failCL
		}
		s.cl = n
	case kindExpires:
		if _, ok := number(v, 1<<32-1); !ok {
			return failExpires
		}
	case kindCallID:
		if len(v) == 0 || bytes.IndexAny(v, " \t\r\n") >= 0 {
			return failCallID
		}
	case kindFrom, kindTo:
		return nameAddr(v)
	case kindContact:
		if len(v) == 1 && v[0] == '*' {
			return nil
		}
		return eachValue(v, nameAddr)
	}
	return nil
}

// kindOf classifies a header name, long or compact form (RFC 3261 §7.3.3),
// without allocating.
func kindOf(name []byte) kind {
	if len(name) == 0 {
		return kindOther
	}
	if len(name) == 1 {
		switch name[0] | 0x20 {
		case 'v':
			return kindVia
		case 'f':
			return kindFrom
		case 't':
			return kindTo
		case 'i':
			return kindCallID
		case 'l':
			return kindContentLength
		case 'c':
			return kindContentType
		case 'm':
			return kindContact
		}
		return kindOther
	}
	// The first letter and the length rule out all but one candidate.
	var k kind
	switch name[0] | 0x20 {
	case 'v':
		k = kindVia
	case 'f':
		k = kindFrom
	case 't':
		k = kindTo
	case 'm':
		k = kindMaxForwards
	case 'e':
		k = kindExpires
	case 'c':
		switch len(name) {
		case 7: // Call-ID or Contact
			k = kindCallID
			if name[1]|0x20 == 'o' {
				k = kindContact
			}
		case 4:
			k = kindCSeq
		case 14:
			k = kindContentLength
		case 12:
			k = kindContentType
		default:
			k = kindContact
		}
	default:
		return kindOther
	}
	if len(kindNames[k]) == len(name) && bytes.EqualFold(name, []byte(kindNames[k])) {
		return k
	}
	return kindOther
}

// number parses 1*DIGIT surrounded by nothing; ok is false for anything
// else (a sign, a fraction) or a value above max.
func number(v []byte, max int) (int, bool) {
	if len(v) == 0 {
		return 0, false
	}
	n := 0
	for _, b := range v {
		if !isDigit(b) {
			return 0, false
		}
		n = n*10 + int(b-'0')
		if n > max {
			return 0, false
		}
	}
	return n, true
}

// cseq checks "1*DIGIT LWS Method" (RFC 3261 §20.16): the number below
// 2^31 (§8.1.1.5) and the method the request line's.
func (s *scan) cseq(v []byte) *fail {
	i := 0
	for i < len(v) && isDigit(v[i]) {
		i++
	}
	if _, ok := number(v[:i], 1<<31-1); !ok {
		return failCSeq
	}
	m := trimLWS(v[i:])
	if len(m) == len(v[i:]) || len(m) == 0 || !allToken(m) {
		return failCSeq // no LWS before the method, or no method
	}
	// Methods are case-sensitive (RFC 3261 §7.1), but the proxy's
	// validation after the parse cannot tell case apart (sipgo upper-cases
	// the request line), so neither does this check: the two agree.
	if !s.response && !bytes.EqualFold(m, s.method) {
		return failCSeqMethod
	}
	return nil
}

// via counts the Via values and checks that none is empty and each starts
// with a sent-protocol (RFC 3261 §20.42).
func (s *scan) via(v []byte) *fail {
	f := eachValue(v, func(e []byte) *fail {
		if len(e) < 3 || !bytes.EqualFold(e[:3], []byte("SIP")) {
			return failVia
		}
		s.vias++
		if s.vias > s.lim.MaxVia {
			return failViaCount
		}
		return nil
	})
	if f != nil && f != failViaCount {
		return failVia
	}
	return f
}

// eachValue calls f on every comma-separated value of a header, commas in
// quoted strings and <> excepted; an empty value is malformed (RFC 3261
// §7.3.1: the list is 1#element).
func eachValue(v []byte, f func([]byte) *fail) *fail {
	start, angle := 0, false
	for i := 0; i <= len(v); i++ {
		if i < len(v) {
			switch v[i] {
			case '"':
				end, ok := quotedEnd(v, i)
				if !ok {
					return failQuoted
				}
				i = end
				continue
			case '<':
				angle = true
				continue
			case '>':
				angle = false
				continue
			case ',':
				if angle {
					continue
				}
			default:
				continue
			}
		}
		e := trimLWS(v[start:i])
		if len(e) == 0 {
			return failHeaderSyntax
		}
		if fl := f(e); fl != nil {
			return fl
		}
		start = i + 1
	}
	return nil
}

// quotedEnd returns the index of the quote that closes the quoted string
// opening at i, honouring quoted-pairs (RFC 3261 §25.1).
func quotedEnd(v []byte, i int) (int, bool) {
	for j := i + 1; j < len(v); j++ {
		switch v[j] {
		case '\\':
			j++
		case '"':
			return j, true
		}
	}
	return 0, false
}

// nameAddr checks a From, To or Contact value: ( name-addr / addr-spec )
// *( SEMI param ) (RFC 3261 §20.10, §20.20, §20.39).
func nameAddr(v []byte) *fail {
	i := 0
	if len(v) > 0 && v[0] == '"' {
		end, ok := quotedEnd(v, 0)
		if !ok {
			return failQuoted
		}
		i = end + 1
		for i < len(v) && isLWS(v[i]) {
			i++
		}
		if i >= len(v) || v[i] != '<' {
			return failDisplayName
		}
	}
	lt := bytes.IndexByte(v[i:], '<')
	if lt < 0 {
		return addrSpec(v)
	}
	lt += i
	// display-name = *(token LWS): anything else before '<' is a
	// non-token display name (RFC 4475 baddn).
	for _, b := range v[i:lt] {
		if !isToken(b) && !isLWS(b) && b < 0x80 {
			return failDisplayName
		}
	}
	gt := bytes.IndexByte(v[lt:], '>')
	// LAQUOT addr-spec RAQUOT: no LWS inside the brackets (RFC 4475
	// badaspec).
	if gt < 2 || isLWS(v[lt+1]) || isLWS(v[lt+gt-1]) {
		return failAddrSpec
	}
	return params(v[lt+gt+1:])
}

// addrSpec checks a URI written without <>: it must hold no ',' or '?'
// (RFC 3261 §20: those need the name-addr form; RFC 4475 regbadct) and
// have a scheme.
func addrSpec(v []byte) *fail {
	end := bytes.IndexByte(v, ';')
	if end < 0 {
		end = len(v)
	}
	uri := trimLWS(v[:end])
	colon := bytes.IndexByte(uri, ':')
	if colon <= 0 || bytes.IndexAny(uri, ",?\"<> \t") >= 0 {
		return failAddrSpec
	}
	return params(v[end:])
}

// params checks the header parameters after a URI: quoted values closed.
func params(v []byte) *fail {
	for i := 0; i < len(v); i++ {
		if v[i] == '"' {
			end, ok := quotedEnd(v, i)
			if !ok {
				return failQuoted
			}
			i = end
		}
	}
	return nil
}

// trimLWS strips SP, HT, CR and LF at both ends.
func trimLWS(b []byte) []byte {
	for len(b) > 0 && isLWS(b[0]) {
		b = b[1:]
	}
	for len(b) > 0 && isLWS(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	return b
}

func isLWS(b byte) bool   { return b == ' ' || b == '\t' || b == '\r' || b == '\n' }
func isDigit(b byte) bool { return b >= '0' && b <= '9' }
func isAlpha(b byte) bool { return (b|0x20) >= 'a' && (b|0x20) <= 'z' }

// tokenChars marks the octets of token (RFC 3261 §25.1).
var tokenChars = func() (t [256]bool) {
	for b := range 256 {
		c := byte(b)
		t[b] = isAlpha(c) || isDigit(c) || bytes.IndexByte([]byte("-.!%*_+`'~"), c) >= 0
	}
	return t
}()

func isToken(b byte) bool { return tokenChars[b] }

func allToken(b []byte) bool {
	for _, c := range b {
		if !tokenChars[c] {
			return false
		}
	}
	return true
}
