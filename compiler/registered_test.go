package compiler

import (
	"fmt"
	"testing"

	"github.com/sipfront/sipfront/compiler/graph"
)

func TestRegisteredEntries(t *testing.T) {
	for _, tc := range []struct {
		in   []string
		want string
		err  bool
	}{
		{[]string{"alice"}, "users=map[alice:true] contacts=map[]", false},
		{[]string{"alice=sip:alice@10.0.0.1;q=0.5", "alice=sip:alice@10.0.0.2", "alice=sip:alice@10.0.0.3;q=0.5"},
			"users=map[] contacts=map[alice:[{sip:alice@10.0.0.2 -1 } {sip:alice@10.0.0.1 500 } {sip:alice@10.0.0.3 500 }]]", false},
		{[]string{"alice=sip:alice@10.0.0.1;q=1.5"}, "", true},
		{[]string{"=sip:x@y"}, "", true},
		{[]string{"alice=not a uri"}, "", true},
	} {
		st := graph.StaticState{Users: map[string]bool{}}
		var err error
		for _, e := range tc.in {
			if err = registered(&st, e); err != nil {
				break
			}
		}
		if (err != nil) != tc.err {
			t.Errorf("%v: err %v", tc.in, err)
			continue
		}
		if got := fmt.Sprintf("users=%v contacts=%v", st.Users, st.Contacts); err == nil && got != tc.want {
			t.Errorf("%v:\n got %s\nwant %s", tc.in, got, tc.want)
		}
		if err == nil && !st.Registered("alice") {
			t.Errorf("%v: alice not registered", tc.in)
		}
	}
}
