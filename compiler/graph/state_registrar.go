package graph

import "strconv"

// Registrations is the registrar state a decision reads.
type Registrations interface {
	// Registered reports whether user has a live registration.
	Registered(user string) bool
}

// ContactLister is implemented by registration states that know the
// contacts themselves (the live registrar, a test block's
// registered = ["alice=sip:..."]): explain and plan show which contacts a
// call to a registered user rings, in which order.
type ContactLister interface {
	// ContactsOf returns the live contacts of user, highest q first.
	ContactsOf(user string) []Contact
}

// Contact is one registered contact as explain and plan show it.
type Contact struct {
	URI string `json:"uri"`
	// Q is the q value in thousandths, QUnset when the phone gave none (it
	// ranks as 1.0).
	Q int `json:"q"`
	// Source is where the REGISTER came from (requests go there).
	Source string `json:"source,omitempty"`
}

// QUnset is the Q of a contact registered without q.
const QUnset = -1

// Rank is the q used for ordering: a contact without q ranks as 1.0.
func (c Contact) Rank() int {
	if c.Q == QUnset {
		return 1000
	}
	return c.Q
}

// QText renders the contact's q as SIP writes it ("1.0" when unset).
func (c Contact) QText() string {
	q := c.Rank()
	if q >= 1000 {
		return "1.0"
	}
	s := strconv.Itoa(q + 1000)[1:]
	for len(s) > 1 && s[len(s)-1] == '0' {
		s = s[:len(s)-1]
	}
	return "0." + s
}

// ForkGroups splits contacts, ordered highest q first, into the groups a
// route's fork rings one after another: one group of all for a parallel
// fork, one group per q value for a serial fork (equal q rings together).
func ForkGroups(r *Route, contacts []Contact) [][]Contact {
	if len(contacts) == 0 {
		return nil
	}
	if r.Fork != ForkSerial {
		return [][]Contact{contacts}
	}
	var groups [][]Contact
	for i, c := range contacts {
		if i == 0 || c.Rank() != contacts[i-1].Rank() {
			groups = append(groups, nil)
		}
		groups[len(groups)-1] = append(groups[len(groups)-1], c)
	}
	return groups
}
