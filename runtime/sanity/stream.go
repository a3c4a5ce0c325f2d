package sanity

import "bytes"

// Frame is what Framer.Next found at the head of the stream.
type Frame uint8

const (
	// NeedMore: no whole message yet.
	NeedMore Frame = iota
	// Message: one whole message, ready for Check(msg, Streamed).
	Message
	// Keepalive: a CRLFCRLF ping between messages (RFC 5626 §3.5.1), to
	// be answered with CRLF.
	Keepalive
	// Broken: the stream cannot be framed any further (no or bad
	// Content-Length, a message above the size limit). msg holds what
	// was read of the message, for an answer; the connection must close.
	Broken
)

// Framer cuts SIP messages out of a byte stream (RFC 3261 §18.3: the
// header block ends with an empty line, Content-Length gives the body).
// One Framer serves one connection; it is not safe for concurrent use.
type Framer struct {
	buf  []byte
	off  int
	max  int
	fail Verdict
}

// NewFramer returns a Framer that refuses messages above l.MaxMessage.
func NewFramer(l Limits) *Framer {
	return &Framer{max: l.withDefaults().MaxMessage}
}

// Feed appends p, as read from the connection. Slices Next returned
// before are invalid afterwards.
func (f *Framer) Feed(p []byte) {
	if f.off > 0 {
		n := copy(f.buf, f.buf[f.off:])
		f.buf = f.buf[:n]
		f.off = 0
	}
	f.buf = append(f.buf, p...)
}

// Pending reports whether part of a message is buffered: a connection
// that stays in that state too long is a slow sender.
func (f *Framer) Pending() bool { return len(f.buf) > f.off }

// Failure returns the verdict for the last Broken frame: the status to
// answer before closing.
func (f *Framer) Failure() Verdict { return f.fail }

// Next returns the next frame; msg is valid until the next Feed.
func (f *Framer) Next() (msg []byte, fr Frame) {
	b := f.buf[f.off:]
	// CRLFs between messages: a double one is a ping, a single one is
	// ignored (RFC 3261 §7.5).
	for len(b) >= 2 && b[0] == '\r' && b[1] == '\n' {
		if len(b) >= 4 && b[2] == '\r' && b[3] == '\n' {
			f.off += 4
			return b[:4], Keepalive
		}
		if len(b) == 2 {
			return nil, NeedMore // maybe the first half of a ping
		}
		f.off += 2
		b = b[2:]
	}
	if len(b) == 0 {
		return nil, NeedMore
	}
	end := bytes.Index(b, []byte("\r\n\r\n"))
	if end < 0 {
		if len(b) > f.max {
			return f.broken(b, failMessageSize)
		}
		return nil, NeedMore
	}
	head := end + 4
	cl, found, ok := contentLength(b[:end+2])
	switch {
	case !found:
		return f.broken(b[:head], failCLMissing)
	case !ok:
		return f.broken(b[:head], failCL)
	case head+cl > f.max:
		return f.broken(b[:head], failMessageSize)
	case len(b) < head+cl:
		return nil, NeedMore
	}
	f.off += head + cl
	return b[:head+cl], Message
}

func (f *Framer) broken(msg []byte, fl *fail) ([]byte, Frame) {
	f.fail = Verdict{Action: Answer, Rule: fl.rule, Status: fl.status, Reason: fl.reason, Len: len(msg)}
	if !Answerable(msg) {
		f.fail.Action = Drop
	}
	f.off = len(f.buf)
	return msg, Broken
}

// contentLength finds the Content-Length (or "l") of a header block.
func contentLength(head []byte) (n int, found, ok bool) {
	for i := 0; i < len(head); {
		line, next, more := nextLine(head, i)
		if colon := bytes.IndexByte(line, ':'); colon > 0 && kindOf(trimLWS(line[:colon])) == kindContentLength {
			n, ok = number(trimLWS(line[colon+1:]), 1<<31-1)
			return n, true, ok
		}
		if !more {
			break
		}
		i = next
	}
	return 0, false, false
}
