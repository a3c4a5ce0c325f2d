package graph

// Carriers is the carrier state a decision reads: health, admin
// overrides, limits and quality.
type Carriers interface {
	// CarrierStatus reports whether c may take a new call now and, when
	// not, why; and its quality level. It reads counters, it claims
	// nothing: the runtime claims a carrier's limits when it sends.
	CarrierStatus(c *Carrier) CarrierStatus
}

// CarrierStatus is what a decision knows of a carrier at that moment.
type CarrierStatus struct {
	Skip    CarrierSkip
	Quality QualityLevel
}

// CarrierSkip says why a carrier cannot take a new call; CarrierOK when it
// can.
type CarrierSkip uint8

// Reasons a carrier is skipped.
const (
	CarrierOK CarrierSkip = iota
	// SkipDown: observed down (probing or failures).
	SkipDown
	// SkipDisabled: an admin override disabled it.
	SkipDisabled
	// SkipDraining: an admin override drains it.
	SkipDraining
	// SkipCalls: at its concurrent calls limit.
	SkipCalls
	// SkipCPS: at its calls-per-second limit.
	SkipCPS
	// SkipTried: already tried for this call (failover).
	SkipTried
)

var skipNames = [...]string{"ok", "down", "disabled", "draining", "calls limit", "cps limit", "tried"}

// String names the reason as explain, the admin API and metrics show it.
func (s CarrierSkip) String() string {
	if int(s) < len(skipNames) {
		return skipNames[s]
	}
	return "unknown"
}

// QualityLevel is a carrier's quality as judged by its quality block.
type QualityLevel uint8

// Quality levels (qrouting's warn and critical thresholds).
const (
	// QualityOK: no quality block, too few samples, or above warn_asr.
	QualityOK QualityLevel = iota
	// QualityWarn: below warn_asr; its share of traffic is reduced.
	QualityWarn
	// QualityCritical: below min_asr or above max_pdd; tried only when no
	// other carrier can take the call.
	QualityCritical
)

var qualityNames = [...]string{"ok", "warn", "critical"}

// String names the level.
func (q QualityLevel) String() string {
	if int(q) < len(qualityNames) {
		return qualityNames[q]
	}
	return "unknown"
}
