package graph

import "time"

// Carrier is a PSTN carrier (trunk) for least-cost routing.
type Carrier struct {
	ID        ID
	Name      string
	Pos       Pos
	URI       string
	Host      string
	Port      int
	Transport string
	// Prefixes are the number prefixes the carrier serves, each with its
	// priority (the carrier's unless a prefixes_file row set one).
	Prefixes []CarrierPrefix
	// PrefixesFile is the CSV the rows came from, "" for inline prefixes.
	PrefixesFile string
	Priority     int
	Weight       int
	// Strip leading characters are removed from the R-URI user, then
	// Prepend is put in front: the number the carrier receives.
	Strip   int
	Prepend string
	// Failover says which of this carrier's answers send the call to the
	// next carrier, how many carriers a call tries, and how long this one
	// may stay silent.
	Failover Failover
	Limits   Limits
	// Quality is nil when the carrier has no quality block.
	Quality *Quality
	// Auth is nil when the carrier needs no authentication.
	Auth *CarrierAuth
	// Probe is nil when the carrier is not probed.
	Probe *Probe
	// Exit is the socket traffic to this carrier leaves from: its own
	// exit, else the proxy's; the zero Listen when neither is set.
	Exit Listen
	// Sources are the addresses the carrier sends from; source_in and
	// auth trust accept the carrier by its ID ("carrier.acme"). Nil when
	// neither sources nor an IP address in the URI say where it sends from.
	Sources *Trusted

	addr string // host:port, computed by Seal
	seed uint64 // rendezvous seed, computed by Seal
}

// CarrierPrefix is one prefix a carrier serves and the priority it serves
// it at.
type CarrierPrefix struct {
	Prefix   string
	Priority int32
	// Line is the row's line in the carrier's PrefixesFile (0 inline).
	Line int32
}

// Addr returns host:port of the carrier, computed once by Seal.
func (c *Carrier) Addr() string {
	if c.addr != "" {
		return c.addr
	}
	return joinHostPort(c.Host, c.Port)
}

// Number is the number the carrier receives for the R-URI user: Strip
// leading characters removed, then Prepend put in front.
func (c *Carrier) Number(user string) string {
	if c.Strip == 0 && c.Prepend == "" {
		return user
	}
	return c.Prepend + user[min(c.Strip, len(user)):]
}

// Limits caps a carrier's concurrent calls and calls per second; zero means
// unlimited.
type Limits struct {
	Calls int
	// CPS is the most calls started in any sliding second.
	CPS int
}

// Quality holds qrouting-style thresholds on a carrier's answer-seizure
// ratio (ASR) and post-dial delay (PDD), judged over Window once
// MinSamples calls were placed in it.
type Quality struct {
	// MinASR is the critical level: below it the carrier is tried only
	// when no other carrier can take the call.
	MinASR float64
	// WarnASR is the warning level: below it the carrier's share of its
	// priority group is reduced (WarnShare). Zero disables it.
	WarnASR    float64
	MinSamples int
	// MaxPDD is the longest average post-dial delay (time to the first
	// ringing or answer) before the carrier counts as critical; zero
	// disables it.
	MaxPDD time.Duration
	Window time.Duration
}

// WarnShare multiplies the weight of a carrier below its warning level, as
// qrouting's default warn_penalty.
const WarnShare = 0.5

// CarrierAuth holds the credentials sipfront answers a carrier's challenge
// with, and its outbound registration. Password comes from env() at
// compile time and must never be logged.
type CarrierAuth struct {
	Username string
	Password string
	// Register keeps sipfront registered with the carrier, renewing before
	// RegisterExpires runs out.
	Register        bool
	RegisterExpires time.Duration
}
