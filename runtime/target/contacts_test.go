package target

import (
	"testing"

	"github.com/sipfront/sipfront/runtime/registrar"
)

func TestContacts(t *testing.T) {
	bs := []registrar.Binding{
		// Behind NAT: the REGISTER came from another address than the
		// Contact; requests go to the source, the Contact stays the R-URI.
		{User: "alice", URI: "sip:alice@192.168.1.20:5062", Source: "203.0.113.7:40112", Transport: "UDP"},
		{User: "alice", URI: "sip:alice@10.0.0.5;transport=tcp"},
		{User: "alice", URI: "sip:alice@phone.example"},
	}
	want := []Target{
		{ID: ContactsID, Group: "alice", Addr: "203.0.113.7:40112", Transport: "udp", URI: "sip:alice@192.168.1.20:5062"},
		{ID: ContactsID, Group: "alice", Addr: "10.0.0.5:5060", Transport: "tcp", URI: "sip:alice@10.0.0.5;transport=tcp"},
		{ID: ContactsID, Group: "alice", Addr: "phone.example:5060", Transport: "udp", URI: "sip:alice@phone.example"},
	}
	it := NewContacts(bs)
	for i, w := range want {
		got, ok := it.Next()
		if !ok || got != w {
			t.Errorf("target %d: %+v, want %+v", i, got, w)
		}
	}
	if _, ok := it.Next(); ok {
		t.Error("more targets than contacts")
	}
	if !it.Retries(486) || !it.Retries(0) || it.Retries(603) {
		t.Error("a contact's failure moves on, a 6xx does not")
	}
}
