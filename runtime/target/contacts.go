package target

import (
	"net"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/sipfront/sipfront/compiler/graph"
	"github.com/sipfront/sipfront/runtime/registrar"
	"github.com/sipfront/sipfront/runtime/sipmsg"
)

// ContactsID is the graph ID every registered contact is accounted under
// (the registrar node): dialog counts stay bounded however many phones
// come and go.
const ContactsID graph.ID = "registrar"

// Contacts iterates over the registered contacts of one user, in the
// registrar's order (highest q first). Forking takes them all (runtime/
// fork rings them in parallel or by q group); the failover loop may take
// them one by one.
type Contacts struct {
	list []registrar.Binding
	next int
}

// NewContacts returns the iterator over bs, which it keeps.
func NewContacts(bs []registrar.Binding) *Contacts { return &Contacts{list: bs} }

// Len is the number of contacts.
func (c *Contacts) Len() int { return len(c.list) }

// Binding returns the i-th contact's binding.
func (c *Contacts) Binding(i int) *registrar.Binding { return &c.list[i] }

// OfBinding returns the target for a binding: the contact URI is the
// Request-URI, but the request goes where the REGISTER came from (source
// address and transport), so that a phone behind NAT is reached through
// the mapping its REGISTER opened.
func OfBinding(b *registrar.Binding) Target {
	t := Target{ID: ContactsID, Group: graph.ID(b.User), URI: b.URI}
	if b.Source != "" {
		t.Addr, t.Transport = b.Source, sipmsg.LowerTransport(b.Transport)
		return t
	}
	var u sip.Uri
	if err := sip.ParseUri(b.URI, &u); err == nil {
		t.Addr, t.Transport = sipmsg.URITarget(&u)
	} else {
		t.Addr, t.Transport = strings.TrimPrefix(b.URI, "sip:"), "udp"
	}
	if _, _, err := net.SplitHostPort(t.Addr); err != nil {
		t.Addr = net.JoinHostPort(t.Addr, "5060")
	}
	return t
}

// Next implements Iterator.
func (c *Contacts) Next() (Target, bool) {
	if c.next >= len(c.list) {
		return Target{}, false
	}
	c.next++
	return OfBinding(&c.list[c.next-1]), true
}

// Retries implements Iterator: any failure but a 6xx (the callee declined
// everywhere) moves on to the next contact.
func (c *Contacts) Retries(code int) bool { return code < 600 }

// NoAnswer implements Iterator: the transaction timers only.
func (c *Contacts) NoAnswer() time.Duration { return 0 }

// Failed implements Iterator: a contact has no health to report to.
func (c *Contacts) Failed(Target, int, string, bool) {}

// Answered implements Iterator.
func (c *Contacts) Answered(Target, int) {}

var _ Iterator = (*Contacts)(nil)
