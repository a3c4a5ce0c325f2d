package metrics

import "github.com/sipfront/sipfront/runtime"

// Metrics is the Observer serve passes to runtime.New, and the server is
// what Attach reads at scrape time.
var (
	_ runtime.Observer = (*Metrics)(nil)
	_ Source           = (*runtime.Server)(nil)
	_ Admission        = (*runtime.Server)(nil)
	_ Edger            = (*runtime.Server)(nil)
)
