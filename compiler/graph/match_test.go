package graph

import (
	"math/rand/v2"
	"regexp"
	"testing"
)

// TestSimpleMatcherAgreesWithRegexp checks simpleMatcher against the
// regexp package on the patterns it takes, over chosen and random inputs,
// and that it declines the patterns it cannot run.
func TestSimpleMatcherAgreesWithRegexp(t *testing.T) {
	patterns := []string{
		`^[+][0-9]+$`, `^[0-9]{1,3}[.][0-9]{1,3}[.][0-9]{1,3}`, `^\+?1[0-9]{10}$`, `[0-9]+`,
		`^$`, ``, `a.b`, `^a*b?c+$`, `00$`, `^sip`, `[^0-9]`, `^[0-9]*[0-9]$`, `^.{2,4}$`, `a|b`, `^[0-9]{2,}$`, `é+`,
		`x*`, `^[a-c]?[b-d]*[c-e]{2}$`,
	}
	inputs := []string{"", "+15551230001", "15551230001", "+1555x", "192.168.1.10", "10.0.0", "example.com",
		"a.b", "aab", "abcc", "ac", "c", "100", "sip:bob", "é", "éé", "xyz", "0", "00", "12345", "bcde", "ccdd", "dd",
		"1\xff2", "\xffab", "é1.2.3", "+1é", "x\n"}
	rng := rand.New(rand.NewPCG(1, 2))
	const alphabet = "+0123456789.abcdexé\xff\n"
	for range 300 {
		b := make([]rune, rng.IntN(14))
		for i := range b {
			b[i] = []rune(alphabet)[rng.IntN(len([]rune(alphabet)))]
		}
		inputs = append(inputs, string(b))
	}
	for _, p := range patterns {
		sm := newSimpleMatcher(p)
		if sm == nil {
			t.Errorf("%q: not taken by simpleMatcher", p)
			continue
		}
		re := regexp.MustCompile(p)
		for _, in := range inputs {
			if got, want := sm.MatchString(in), re.MatchString(in); got != want {
				t.Errorf("%q matches %q: %v, regexp says %v", p, in, got, want)
			}
		}
	}
	for _, p := range []string{`ab|cd`, `(ab)+`, `(?i)sip`, `\bx`, `^a$|^b$`, `[0-9]{100}`} {
		if newSimpleMatcher(p) != nil {
			t.Errorf("%q: taken by simpleMatcher, which cannot run it", p)
		}
	}
}
