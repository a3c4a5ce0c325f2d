package registrar

import (
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"
)

// BadRequest is a malformed REGISTER; its text is the reason phrase of
// the 400 that answers it.
type BadRequest string

func (b BadRequest) Error() string { return string(b) }

// FromSIP reduces a REGISTER to a Request. An error (a BadRequest) means a
// malformed request that deserves a 400 with the error as reason phrase.
func FromSIP(req *sip.Request) (Request, error) {
	r := Request{Expires: NoExpires, Source: req.Source(), Transport: req.Transport()}
	to := req.To()
	if to == nil {
		return r, BadRequest("Missing To")
	}
	r.User, r.Domain = to.Address.User, strings.ToLower(to.Address.Host)
	if id := req.CallID(); id != nil {
		r.CallID = id.Value()
	}
	if cs := req.CSeq(); cs != nil {
		r.CSeq = cs.SeqNo
	}
	if ua := req.GetHeader("User-Agent"); ua != nil {
		r.UserAgent = ua.Value()
	}
	if h := req.GetHeader("Expires"); h != nil {
		n, err := strconv.ParseUint(strings.TrimSpace(h.Value()), 10, 32)
		if err != nil {
			return r, BadRequest("Invalid Expires")
		}
		r.Expires = clampSecs(n)
	}
	for _, h := range req.GetHeaders("Contact") {
		c, ok := h.(*sip.ContactHeader)
		if !ok {
			return r, BadRequest("Invalid Contact")
		}
		if c.Address.Wildcard {
			if r.Star {
				return r, BadRequest("Contact * Needs Expires 0 Alone")
			}
			r.Star = true
			continue
		}
		ct, err := contactOf(c)
		if err != nil {
			return r, err
		}
		r.Contacts = append(r.Contacts, ct)
	}
	return r, nil
}

func contactOf(c *sip.ContactHeader) (Contact, error) {
	ct := Contact{URI: c.Address.String(), Key: Key(&c.Address), Expires: NoExpires, Q: QUnset}
	if v, ok := c.Params.Get("expires"); ok {
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return ct, BadRequest("Invalid Contact Expires")
		}
		ct.Expires = clampSecs(n)
	}
	if v, ok := c.Params.Get("q"); ok {
		q, ok := ParseQ(v)
		if !ok {
			return ct, BadRequest("Invalid Contact q")
		}
		ct.Q = q
	}
	return ct, nil
}

// clampSecs keeps an expiry of up to 2^32-1 seconds (RFC 3261 §20.19) in
// an int on every platform.
func clampSecs(n uint64) int {
	if n > 1<<31-1 {
		return 1<<31 - 1
	}
	return int(n)
}

// Key is the comparison form of a contact URI (RFC 3261 §19.1.4, in
// short): scheme and host compared case-insensitively, the user exactly,
// the default port made explicit, and the transport parameter, which
// changes where requests go.
func Key(u *sip.Uri) string {
	port := u.Port
	if port == 0 {
		port = 5060
		if strings.EqualFold(u.Scheme, "sips") {
			port = 5061
		}
	}
	tr, _ := u.UriParams.Get("transport")
	return strings.ToLower(u.Scheme) + ":" + u.User + "@" + strings.ToLower(u.Host) + ":" + strconv.Itoa(port) + ";" + strings.ToLower(tr)
}

// Response builds the answer to req from res: the 200 lists every current
// binding with its remaining time (and q), a 423 carries Min-Expires.
func Response(req *sip.Request, res Result, now time.Time) *sip.Response {
	resp := sip.NewResponseFromRequest(req, res.Status, res.Reason, nil)
	switch res.Status {
	case 200:
		for i := range res.Bindings {
			b := &res.Bindings[i]
			v := "<" + b.URI + ">;expires=" + strconv.Itoa(b.Remaining(now))
			if b.Q != QUnset {
				v += ";q=" + FormatQ(b.Q)
			}
			resp.AppendHeader(sip.NewHeader("Contact", v))
		}
		resp.AppendHeader(sip.NewHeader("Date", now.UTC().Format(http1123)))
	case 423:
		resp.AppendHeader(sip.NewHeader("Min-Expires", strconv.Itoa(res.MinExpires)))
	}
	return resp
}

// http1123 is the SIP Date format (RFC 3261 §20.17).
const http1123 = "Mon, 02 Jan 2006 15:04:05 GMT"
