package registrar

import (
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkLookup measures Registered and Contacts, the calls on the request
// path, on 10,000 users while a writer keeps re-registering, against a
// baseline in the same run: one map behind one global RWMutex.
func BenchmarkLookup(b *testing.B) {
	const users = 10000
	r, _ := New(MemStore{}, Policy{Limits: Limits{MinExpires: time.Second, MaxExpires: time.Hour, MaxContacts: 5}, IsLocal: func(string) bool { return true }})
	names := make([]string, users)
	global := struct {
		sync.RWMutex
		m map[string][]Binding
	}{m: make(map[string][]Binding)}
	for i := range names {
		names[i] = "user" + strconv.Itoa(i)
		req := &Request{User: names[i], Domain: "d", CallID: names[i], CSeq: 1, Expires: 3600,
			Contacts: []Contact{{URI: "sip:" + names[i] + "@10.0.0.1", Expires: NoExpires, Q: QUnset}}}
		res := r.Register(req)
		global.m[names[i]] = res.Bindings
	}
	writer := func(b *testing.B, write func(i int)) func() {
		var stop atomic.Bool
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; !stop.Load(); i++ {
				write(i)
			}
		}()
		return func() { stop.Store(true); wg.Wait() }
	}
	b.Run("Registered/sharded", func(b *testing.B) {
		cseq := uint32(1)
		done := writer(b, func(i int) {
			cseq++
			u := names[i%users]
			r.Register(&Request{User: u, Domain: "d", CallID: u, CSeq: cseq, Expires: 3600,
				Contacts: []Contact{{URI: "sip:" + u + "@10.0.0.1", Expires: NoExpires, Q: QUnset}}})
		})
		defer done()
		b.ReportAllocs()
		var n atomic.Int64
		b.RunParallel(func(pb *testing.PB) {
			i := int(n.Add(1)) * 7919
			for pb.Next() {
				i++
				if !r.Registered(names[i%users]) {
					b.Fatal("not registered")
				}
			}
		})
	})
	b.Run("Registered/global-rwmutex-baseline", func(b *testing.B) {
		done := writer(b, func(i int) {
			u := names[i%users]
			global.Lock()
			global.m[u] = append([]Binding(nil), global.m[u]...)
			global.Unlock()
		})
		defer done()
		b.ReportAllocs()
		var n atomic.Int64
		b.RunParallel(func(pb *testing.PB) {
			i := int(n.Add(1)) * 7919
			for pb.Next() {
				i++
				global.RLock()
				bs := global.m[names[i%users]]
				global.RUnlock()
				now := time.Now().UnixNano()
				ok := false
				for j := range bs {
					ok = ok || bs[j].Live(now)
				}
				if !ok {
					b.Fatal("not registered")
				}
			}
		})
	})
	b.Run("Contacts/sharded", func(b *testing.B) {
		b.ReportAllocs()
		buf := make([]Binding, 0, 8)
		for i := 0; i < b.N; i++ {
			if len(r.Contacts(names[i%users], buf[:0])) != 1 {
				b.Fatal("no contact")
			}
		}
	})
}

// BenchmarkRegister measures a REGISTER refresh written through to the
// bbolt store (fsync included; concurrent REGISTERs share one through
// bbolt's Batch) against the in-memory store in the same run.
func BenchmarkRegister(b *testing.B) {
	for _, tc := range []struct {
		name string
		open func(b *testing.B) Store
	}{
		{"mem-baseline", func(*testing.B) Store { return MemStore{} }},
		{"bolt", func(b *testing.B) Store {
			st, err := OpenBolt(b.TempDir())
			if err != nil {
				b.Fatal(err)
			}
			return st
		}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			r, err := New(tc.open(b), Policy{Limits: Limits{MinExpires: time.Second, MaxExpires: time.Hour, MaxContacts: 5}, IsLocal: func(string) bool { return true }})
			if err != nil {
				b.Fatal(err)
			}
			defer r.Close()
			var n atomic.Int64
			b.ReportAllocs()
			b.SetParallelism(16) // many phones at once, as a REGISTER storm after an outage
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := n.Add(1)
					u := "user" + strconv.Itoa(int(i%1000))
					res := r.Register(&Request{User: u, Domain: "d", CallID: u + "-" + strconv.Itoa(int(i)), CSeq: 1, Expires: 3600,
						Contacts: []Contact{{URI: "sip:" + u + "@10.0.0.1", Expires: NoExpires, Q: QUnset}}})
					if res.Status != 200 {
						b.Fatalf("%d %s", res.Status, res.Reason)
					}
				}
			})
		})
	}
}
