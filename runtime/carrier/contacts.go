package carrier

import (
	"sync"

	"github.com/emiago/sipgo/sip"
)

// contacts holds, for each dialog with a carrier, the caller's own Contact
// (the inside address the carrier never sees) and the Contact the carrier
// got instead (at the exit), by Call-ID and the caller's From tag.
type contacts struct{ m sync.Map }

// contactPair is one dialog's Contact, inside and as the carrier sees it.
type contactPair struct{ inside, outside sip.Uri }

// HideContact records that the caller of dialog callID/fromTag is reached
// at inside and that the carrier was given outside instead.
func (s *Store) HideContact(callID, fromTag string, inside, outside sip.Uri) {
	s.contacts.m.Store(shiftKey(callID, fromTag), contactPair{inside: inside, outside: outside})
}

// OutsideContact returns the Contact the carrier knows the caller of
// callID/fromTag by.
func (s *Store) OutsideContact(callID, fromTag string) (sip.Uri, bool) {
	if v, ok := s.contacts.m.Load(shiftKey(callID, fromTag)); ok {
		return v.(contactPair).outside, true
	}
	return sip.Uri{}, false
}

// InsideContact returns the caller's real Contact for a request a carrier
// sends in dialog callID, whose To tag is the caller's From tag.
func (s *Store) InsideContact(callID, callerTag string) (sip.Uri, bool) {
	if v, ok := s.contacts.m.Load(shiftKey(callID, callerTag)); ok {
		return v.(contactPair).inside, true
	}
	return sip.Uri{}, false
}
