package sanity

import (
	"bytes"
	"strconv"
)

// replyFields locates the header fields an answer copies (RFC 3261
// §8.2.6.2: Via, From, To, Call-ID, CSeq): start and end of each field
// (folded lines included); vias holds every Via field in order.
type replyFields struct {
	vias                   [maxReplyVias][2]int
	nvia                   int
	from, to, callID, cseq [2]int
	clean                  bool
}

// maxReplyVias bounds the Via fields an answer copies; a message with more
// is dropped rather than answered.
const maxReplyVias = 64

// locate finds the reply fields of msg. clean is false when a Via is
// missing, unreadable or carries bytes that must not be echoed.
func locate(msg []byte, r *replyFields) {
	_, i, ok := nextLine(msg, 0)
	if !ok {
		return
	}
	r.clean = true
	start := i
	for {
		line, next, ok := nextLine(msg, i)
		folds := ok && len(line) > 0 && (line[0] == ' ' || line[0] == '\t')
		if !folds && i > start {
			r.field(msg, start, lineEnd(msg, i))
			start = i
		}
		if !ok || len(line) == 0 {
			break
		}
		i = next
	}
	if r.nvia == 0 || r.nvia > maxReplyVias {
		r.clean = false
	}
}

// field records one header field if it is one the reply copies.
func (r *replyFields) field(msg []byte, start, end int) {
	h := msg[start:end]
	colon := bytes.IndexByte(h, ':')
	if colon <= 0 {
		return
	}
	k := kindOf(trimLWS(h[:colon]))
	if k == kindOther || k > kindCSeq {
		return
	}
	echoable := checkBytes(h) == nil
	span := [2]int{start, end}
	switch k {
	case kindVia:
		r.nvia++
		if !echoable || r.nvia > maxReplyVias {
			r.clean = false
			return
		}
		r.vias[r.nvia-1] = span
		return
	}
	if !echoable {
		return
	}
	switch k {
	case kindFrom:
		r.from = first(r.from, span)
	case kindTo:
		r.to = first(r.to, span)
	case kindCallID:
		r.callID = first(r.callID, span)
	case kindCSeq:
		r.cseq = first(r.cseq, span)
	}
}

func first(have, span [2]int) [2]int {
	if have[1] > 0 {
		return have
	}
	return span
}

// Answerable reports whether an answer to msg can be built: it has Via
// fields that may be echoed.
func Answerable(msg []byte) bool {
	var r replyFields
	locate(msg, &r)
	return r.clean
}

// AppendReply appends to dst the response Verdict v calls for: its status
// and reason, the request's Via, From, To (with a To tag, derived from the
// message so that a retransmission gets the same one), Call-ID and CSeq,
// extra (whole header lines, each ending in CRLF: Server, Retry-After)
// and an empty body. It returns dst unchanged
// when msg cannot be answered. The answer is never larger than the request
// plus a few dozen octets: no amplification.
func AppendReply(dst, msg []byte, v Verdict, extra string) []byte {
	var r replyFields
	locate(msg, &r)
	if !r.clean || v.Status < 300 || v.Status > 699 {
		return dst
	}
	dst = append(dst, "SIP/2.0 "...)
	dst = strconv.AppendInt(dst, int64(v.Status), 10)
	dst = append(dst, ' ')
	dst = append(dst, v.Reason...)
	dst = append(dst, "\r\n"...)
	for _, sp := range r.vias[:r.nvia] {
		dst = appendField(dst, msg, sp)
	}
	dst = appendField(dst, msg, r.from)
	if r.to[1] > 0 {
		dst = append(dst, msg[r.to[0]:r.to[1]]...)
		if !hasTag(msg[r.to[0]:r.to[1]]) {
			dst = append(dst, ";tag=sf"...)
			dst = appendHex(dst, toTag(msg, &r))
		}
		dst = append(dst, "\r\n"...)
	}
	dst = appendField(dst, msg, r.callID)
	dst = appendField(dst, msg, r.cseq)
	dst = append(dst, extra...)
	return append(dst, "Content-Length: 0\r\n\r\n"...)
}

func appendField(dst, msg []byte, sp [2]int) []byte {
	if sp[1] == 0 {
		return dst
	}
	dst = append(dst, msg[sp[0]:sp[1]]...)
	return append(dst, "\r\n"...)
}

// hasTag reports whether a To field carries a tag parameter: a ";tag="
// after the URI (outside <> and quotes), LWS allowed around it.
func hasTag(h []byte) bool {
	i := bytes.IndexByte(h, ':') + 1
	if gt := bytes.LastIndexByte(h, '>'); gt >= 0 {
		i = gt
	}
	for ; i < len(h); i++ {
		if h[i] != ';' {
			continue
		}
		p := trimLWS(h[i+1:])
		if len(p) >= 3 && bytes.EqualFold(p[:3], []byte("tag")) {
			if rest := trimLWS(p[3:]); len(rest) > 0 && rest[0] == '=' {
				return true
			}
		}
	}
	return false
}

// toTag derives the To tag of an answer from the Call-ID and the top Via
// (FNV-1a 64): the same request gets the same tag, as RFC 3261 §8.2.6.2
// wants for a retransmission, without any state.
func toTag(msg []byte, r *replyFields) uint64 {
	h := uint64(14695981039346656037)
	for _, sp := range [...][2]int{r.callID, r.vias[0]} {
		for _, c := range msg[sp[0]:sp[1]] {
			h = (h ^ uint64(c)) * 1099511628211
		}
	}
	return h
}

func appendHex(dst []byte, v uint64) []byte {
	const digits = "0123456789abcdef"
	for i := 60; i >= 0; i -= 4 {
		dst = append(dst, digits[(v>>uint(i))&0xf])
	}
	return dst
}

// TopVia returns what RFC 3261 §18.2.2 and RFC 3581 need to address an
// answer over UDP: the sent-by port of the top Via (0 when absent, meaning
// 5060) and whether it asks for rport.
func TopVia(msg []byte) (port int, rport bool, ok bool) {
	var r replyFields
	locate(msg, &r)
	if r.nvia == 0 || r.nvia > maxReplyVias {
		return 0, false, false
	}
	h := msg[r.vias[0][0]:r.vias[0][1]]
	h = trimLWS(h[bytes.IndexByte(h, ':')+1:])
	if c := bytes.IndexByte(h, ','); c >= 0 {
		h = h[:c]
	}
	// sent-protocol "SIP/2.0/UDP" (LWS allowed around '/'), LWS, sent-by.
	head := h
	if semi := bytes.IndexByte(h, ';'); semi >= 0 {
		head = h[:semi]
	}
	slash := bytes.LastIndexByte(head, '/')
	if slash < 0 {
		return 0, false, false
	}
	rest := trimLWS(h[slash+1:])
	i := 0
	for i < len(rest) && isToken(rest[i]) {
		i++ // the transport
	}
	rest = trimLWS(rest[i:])
	semi := bytes.IndexByte(rest, ';')
	sentBy, params := rest, []byte(nil)
	if semi >= 0 {
		sentBy, params = trimLWS(rest[:semi]), rest[semi:]
	}
	if c := bytes.LastIndexByte(sentBy, ':'); c >= 0 && bytes.IndexByte(sentBy[c:], ']') < 0 {
		if p, ok := number(trimLWS(sentBy[c+1:]), 65535); ok {
			port = p
		}
	}
	for len(params) > 0 {
		params = params[1:]
		e := bytes.IndexByte(params, ';')
		if e < 0 {
			e = len(params)
		}
		p := trimLWS(params[:e])
		if len(p) >= 5 && bytes.EqualFold(p[:5], []byte("rport")) && (len(p) == 5 || p[5] == '=' || isLWS(p[5])) {
			rport = true
		}
		params = params[e:]
	}
	return port, rport, true
}
