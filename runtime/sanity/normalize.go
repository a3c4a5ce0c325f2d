package sanity

import "bytes"

// Normalize rewrites, in place, a message that passed Check and folds
// header lines (RFC 3261 §7.3.1), into the canonical form sipgo's parser
// reads correctly: folded lines joined, and no LWS around ';', '=', ','
// and '/' in the header fields whose parameters the proxy needs (Via,
// From, To, Contact, Route, Record-Route). sipgo keeps that LWS in
// parameter names ("tag " is not "tag"; RFC 4475 wsinv). It returns the
// new length; the body moves down unchanged. A message without folded
// lines is returned as is, untouched and unscanned beyond its header
// block.
func Normalize(msg []byte) int {
	end := bytes.Index(msg, []byte("\r\n\r\n"))
	if end < 0 || !folded(msg[:end+2]) {
		return len(msg)
	}
	w := 0
	_, i, _ := nextLine(msg, 0)
	w = copy(msg, msg[:i])
	for i < end+2 {
		// One field: from i to the CRLF not followed by LWS.
		j := i
		for {
			k := bytes.Index(msg[j:end+2], []byte("\r\n"))
			j += k + 2
			if j >= end+2 || (msg[j] != ' ' && msg[j] != '\t') {
				break
			}
		}
		w += compactField(msg[w:], msg[i:j-2])
		msg[w], msg[w+1] = '\r', '\n'
		w += 2
		i = j
	}
	w += copy(msg[w:], msg[end+2:])
	return w
}

// folded reports whether a header block holds a continuation line.
func folded(head []byte) bool {
	return bytes.Contains(head, []byte("\n ")) || bytes.Contains(head, []byte("\n\t"))
}

// compactField writes field f to dst (dst may overlap f at or before it)
// with folds joined and, in the fields with parameters, LWS around the
// separators dropped; it returns the octets written.
func compactField(dst, f []byte) int {
	colon := bytes.IndexByte(f, ':')
	params := colon > 0 && hasParams(kindOfName(trimLWS(f[:colon])))
	w, quoted, space := 0, false, false
	for i := 0; i < len(f); i++ {
		c := f[i]
		if c == '\r' || c == '\n' || c == '\t' {
			c = ' '
		}
		if quoted || !params || i <= colon {
			if c == '"' && (i == 0 || f[i-1] != '\\') {
				quoted = !quoted
			}
			if c == ' ' && !quoted && space {
				continue // one SP for a run of LWS
			}
			space = c == ' '
			dst[w] = c
			w++
			continue
		}
		switch c {
		case ' ':
			space = true
			continue
		case ';', '=', ',', '/':
			space = false // LWS before a separator goes
		case '"':
			quoted = true
		}
		if space && w > 0 && !isSep(dst[w-1]) {
			dst[w] = ' '
			w++
		}
		space = false
		dst[w] = c
		w++
	}
	return w
}

func isSep(b byte) bool { return b == ';' || b == '=' || b == ',' || b == '/' }

func kindOfName(name []byte) kind {
	if len(name) > 0 && (bytes.EqualFold(name, []byte("Route")) || bytes.EqualFold(name, []byte("Record-Route"))) {
		return kindContact // same parameter grammar
	}
	return kindOf(name)
}

func hasParams(k kind) bool {
	return k == kindVia || k == kindFrom || k == kindTo || k == kindContact
}
