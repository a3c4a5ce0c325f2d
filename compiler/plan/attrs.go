package plan

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Attr is one attribute of a node's canonical view. Value is a plain Go
// value (string, int, float64, bool, []string, []int, map[string]int,
// time.Duration, Ref or nil for unset) so JSON output keeps its type; Text
// renders it as an HCL literal for humans and for comparison.
type Attr struct {
	Name  string
	Value any
	// Sensitive values are compared but never shown.
	Sensitive bool
}

// Ref is a reference to another node, rendered unquoted as in the policy
// (pool.asterisk, prefixes.did-owners).
type Ref string

// sensitiveText replaces a sensitive value everywhere it would be shown.
const sensitiveText = "(sensitive)"

// Text renders the attribute's value as an HCL literal; "null" when unset.
func (a Attr) Text() string { return Format(a.Value) }

// shown is the text displayed for the value, hiding sensitive ones.
func (a Attr) shown() string {
	if a.Sensitive && a.Value != nil {
		return sensitiveText
	}
	return a.Text()
}

// Format renders a canonical attribute value as an HCL literal, the way a
// policy author would write it: strings quoted, references bare, durations
// in their shortest unit, maps with sorted keys.
func Format(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case string:
		return strconv.Quote(v)
	case Ref:
		return string(v)
	case time.Duration:
		return strconv.Quote(FormatDuration(v))
	case float64:
		return strconv.FormatFloat(v, 'g', -1, 64)
	case []string:
		return formatList(len(v), func(i int) string { return strconv.Quote(v[i]) })
	case []Ref:
		return formatList(len(v), func(i int) string { return string(v[i]) })
	case []int:
		return formatList(len(v), func(i int) string { return strconv.Itoa(v[i]) })
	case map[string]int:
		return formatMap(v)
	}
	return fmt.Sprint(v)
}

func formatList(n int, item func(int) string) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = item(i)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

func formatMap(m map[string]int) string {
	if len(m) == 0 {
		return "{}"
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s = %d", k, m[k]))
	}
	return "{ " + strings.Join(parts, ", ") + " }"
}

// FormatDuration writes d in the largest unit that divides it ("1h", "10m",
// "5s", "250ms"), as policies write durations, instead of Go's "1h0m0s".
func FormatDuration(d time.Duration) string {
	units := []struct {
		d    time.Duration
		name string
	}{{time.Hour, "h"}, {time.Minute, "m"}, {time.Second, "s"}, {time.Millisecond, "ms"}}
	for _, u := range units {
		if d != 0 && d%u.d == 0 {
			return strconv.FormatInt(int64(d/u.d), 10) + u.name
		}
	}
	return d.String()
}

// Attrs is a node's canonical view in order. It encodes to JSON as an
// object whose keys keep that order; sensitive values encode as
// "(sensitive)".
type Attrs []Attr

// Get returns the attribute with that name.
func (as Attrs) Get(name string) (Attr, bool) {
	for _, a := range as {
		if a.Name == name {
			return a, true
		}
	}
	return Attr{}, false
}

// MarshalJSON implements json.Marshaler.
func (as Attrs) MarshalJSON() ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteByte('{')
	for i, a := range as {
		if i > 0 {
			buf.WriteByte(',')
		}
		k, _ := json.Marshal(a.Name)
		v, err := json.Marshal(jsonValue(a))
		if err != nil {
			return nil, fmt.Errorf("attribute %s: %w", a.Name, err)
		}
		buf.Write(k)
		buf.WriteByte(':')
		buf.Write(v)
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

// jsonValue is the value JSON output shows for an attribute: durations as
// policy strings, sensitive values hidden.
func jsonValue(a Attr) any {
	if a.Sensitive && a.Value != nil {
		return sensitiveText
	}
	if d, ok := a.Value.(time.Duration); ok {
		return FormatDuration(d)
	}
	return a.Value
}
