package compiler

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/sipfront/sipfront/compiler/graph"
)

// registered adds one entry of a test's (or explain's) registered list to
// st: "alice" registers alice without naming a contact;
// "alice=sip:alice@10.0.0.5:5062;q=0.5" registers that contact, with its q,
// so that explain and tests show which contacts a call rings, in order.
func registered(st *graph.StaticState, entry string) error {
	user, contact, ok := strings.Cut(entry, "=")
	if !ok {
		st.Users[entry] = true
		return nil
	}
	if user == "" || contact == "" {
		return fmt.Errorf("registered %q: write USER or USER=CONTACT-URI[;q=Q]", entry)
	}
	c := graph.Contact{URI: contact, Q: graph.QUnset}
	if i := strings.LastIndex(contact, ";q="); i >= 0 {
		f, err := strconv.ParseFloat(contact[i+3:], 64)
		if err != nil || f < 0 || f > 1 {
			return fmt.Errorf("registered %q: q must be between 0 and 1", entry)
		}
		c.URI, c.Q = contact[:i], int(f*1000+0.5)
	}
	if _, err := ParseURI(c.URI); err != nil {
		return fmt.Errorf("registered %q: %w", entry, err)
	}
	if st.Contacts == nil {
		st.Contacts = make(map[string][]graph.Contact)
	}
	cs := append(st.Contacts[user], c)
	// Highest q first; entries of equal q keep their written order.
	slices.SortStableFunc(cs, func(a, b graph.Contact) int { return b.Rank() - a.Rank() })
	st.Contacts[user] = cs
	return nil
}
