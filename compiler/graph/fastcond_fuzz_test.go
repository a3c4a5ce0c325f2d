package graph

import "testing"

// FuzzFastPath: any CEL text that compiles onto the fast path gives
// cel-go's value and error for every request and state of the
// differential test (TestFastPathAgreesWithCEL), so the fast path can
// never decide a request differently from the condition's CEL meaning.
func FuzzFastPath(f *testing.F) {
	for _, c := range fastConditions {
		f.Add(c.expr)
	}
	g, states := fastGraphAndStates(f)
	f.Fuzz(func(t *testing.T, src string) {
		cond, errs := CompileCondition(src)
		if errs != nil || cond.fast == nil {
			return
		}
		agree(t, cond, g, states)
	})
}
