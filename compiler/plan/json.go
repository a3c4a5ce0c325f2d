package plan

import (
	"encoding/json"
	"io"
)

// FormatVersion is the version of the JSON plan format; it changes only
// when a field is renamed or removed.
const FormatVersion = "1"

// RenderJSON writes the plan as one JSON document with the same content
// as the human output, plus the summary counts.
func RenderJSON(w io.Writer, p *Plan) error {
	doc := struct {
		FormatVersion string `json:"format_version"`
		*Plan
		Summary Summary `json:"summary"`
	}{FormatVersion, withEmptySlices(p), p.Summary()}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}

// withEmptySlices returns a copy of p whose nil lists encode as [] rather
// than null, so consumers can iterate without checks.
func withEmptySlices(p *Plan) *Plan {
	cp := *p
	if cp.Changes == nil {
		cp.Changes = []Change{}
	}
	if cp.Decisions == nil {
		cp.Decisions = []DecisionChange{}
	}
	return &cp
}
