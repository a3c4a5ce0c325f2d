package lang

import (
	"fmt"
	"time"

	"github.com/hashicorp/hcl/v2"
)

// Pool is a pool block: PBX members behind a balancing strategy.
type Pool struct {
	Block
	Balance  Value[string]
	Affinity Value[string]
	Resource Value[string]
	// Failover and Probe are nil when their block is absent.
	Failover *Failover
	Probe    *Probe
	Members  []*Member
}

// Failover is a pool's failover block.
type Failover struct {
	Block
	On       List[int]
	MaxTries Value[int]
	Timeout  Value[time.Duration]
}

// Probe is a pool's probe block (OPTIONS health checks).
type Probe struct {
	Block
	Interval  Value[time.Duration]
	Timeout   Value[time.Duration]
	Threshold Value[int]
	Recover   Value[int]
	// Accept holds "2xx"-style classes or codes as strings.
	Accept List[string]
}

// Member is a member block inside a pool.
type Member struct {
	Block
	URI      Value[string]
	Weight   Value[int]
	Capacity Value[map[string]int]
}

var poolSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "balance"}, {Name: "affinity"}, {Name: "resource"}},
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "failover"}, {Type: "probe"}, {Type: "member", LabelNames: []string{"name"}},
	},
}

var failoverSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "on"}, {Name: "max_tries"}, {Name: "timeout"}},
}

var probeSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "interval"}, {Name: "timeout"}, {Name: "threshold"}, {Name: "recover"}, {Name: "accept"},
	},
}

var memberSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "uri", Required: true}, {Name: "weight"}, {Name: "capacity"}},
}

func decodePool(b *hcl.Block) (*Pool, hcl.Diagnostics) {
	content, diags := b.Body.Content(poolSchema)
	p := &Pool{Block: blockOf(b)}
	a := content.Attributes
	attr(a, "balance", decodeString, &p.Balance, &diags)
	attr(a, "affinity", decodeString, &p.Affinity, &diags)
	attr(a, "resource", decodeString, &p.Resource, &diags)
	if fb, d := nestedOne(content, "failover"); fb != nil {
		diags = append(diags, d...)
		p.Failover, d = decodeFailover(fb)
		diags = append(diags, d...)
	}
	if pb, d := nestedOne(content, "probe"); pb != nil {
		diags = append(diags, d...)
		p.Probe, d = decodeProbe(pb)
		diags = append(diags, d...)
	}
	seen := make(map[string]hcl.Range)
	for _, mb := range content.Blocks {
		if mb.Type != "member" {
			continue
		}
		m, d := decodeMember(mb)
		diags = append(diags, d...)
		if prev, dup := seen[m.Name]; dup {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Duplicate Member Name",
				Detail:   fmt.Sprintf("Pool %q already has a member named %q, declared at %s. Rename or remove one of them.", p.Name, m.Name, prev.String()),
				Subject:  m.NameRange.Ptr(),
			})
			continue
		}
		seen[m.Name] = m.DeclRange
		p.Members = append(p.Members, m)
	}
	return p, diags
}

func decodeFailover(b *hcl.Block) (*Failover, hcl.Diagnostics) {
	content, diags := b.Body.Content(failoverSchema)
	f := &Failover{Block: blockOf(b)}
	a := content.Attributes
	attr(a, "on", decodeIntList, &f.On, &diags)
	attr(a, "max_tries", decodeInt, &f.MaxTries, &diags)
	attr(a, "timeout", decodeDuration, &f.Timeout, &diags)
	return f, diags
}

func decodeProbe(b *hcl.Block) (*Probe, hcl.Diagnostics) {
	content, diags := b.Body.Content(probeSchema)
	p := &Probe{Block: blockOf(b)}
	a := content.Attributes
	attr(a, "interval", decodeDuration, &p.Interval, &diags)
	attr(a, "timeout", decodeDuration, &p.Timeout, &diags)
	attr(a, "threshold", decodeInt, &p.Threshold, &diags)
	attr(a, "recover", decodeInt, &p.Recover, &diags)
	attr(a, "accept", decodeStringList, &p.Accept, &diags)
	return p, diags
}

func decodeMember(b *hcl.Block) (*Member, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	m := &Member{Block: blockOf(b)}
	if !validName(m.Name) {
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Invalid Block Name",
			Detail:   fmt.Sprintf("%q cannot be used in references. A name starts with a letter and holds letters, digits, underscores and dashes.", m.Name),
			Subject:  m.NameRange.Ptr(),
		})
	}
	content, d := b.Body.Content(memberSchema)
	diags = append(diags, d...)
	a := content.Attributes
	attr(a, "uri", decodeString, &m.URI, &diags)
	attr(a, "weight", decodeInt, &m.Weight, &diags)
	attr(a, "capacity", decodeIntMap, &m.Capacity, &diags)
	return m, diags
}
