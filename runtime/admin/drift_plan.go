package admin

import (
	"fmt"

	"github.com/sipfront/sipfront/compiler/plan"
)

// Section keys of the plan sections Drift produces.
const (
	SectionDrift  = "drift"
	SectionPinned = "pinned_calls"
)

// Sections renders the drift as plan sections, for `sipfront plan NEW
// --against URL`: the runtime overrides (each an update of the member's
// effective state), then the members the new policy removes that still
// hold live calls. Both sections are always present (empty when there is
// nothing to report) and both count as changes for the exit code.
func (d Drift) Sections() []plan.Section {
	ov := plan.Section{Key: SectionDrift, Changes: true, Items: []plan.SectionItem{},
		Title: "Runtime overrides (drift from the policy; they survive the reload, `sipfront ctl clear MEMBER` removes one)"}
	for _, o := range d.Overrides {
		it := plan.SectionItem{Action: plan.Update, ID: o.Member, Text: overrideText(o.Override)}
		if !o.InNew {
			it.Details = append(it.Details, "# the new policy does not declare this member; the override waits for it")
		}
		for _, n := range o.Notes {
			it.Details = append(it.Details, "# "+n)
		}
		ov.Items = append(ov.Items, it)
	}
	pin := plan.Section{Key: SectionPinned, Changes: true, Items: []plan.SectionItem{},
		Title: "Live calls on members the new policy removes (they continue until they end; the member takes no new calls)"}
	for _, p := range d.Pinned {
		it := plan.SectionItem{Action: plan.Delete, ID: p.Member,
			Text: fmt.Sprintf("%d live %s", len(p.Calls), plural(len(p.Calls), "call", "calls"))}
		for i, c := range p.Calls {
			if i == maxCallsListed {
				it.Details = append(it.Details, fmt.Sprintf("... and %d more", len(p.Calls)-maxCallsListed))
				break
			}
			it.Details = append(it.Details, fmt.Sprintf("%s  %s -> %s  since %s", c.CallID, c.Caller, c.Callee, c.Started.UTC().Format("15:04:05")))
		}
		pin.Items = append(pin.Items, it)
	}
	return []plan.Section{ov, pin}
}
