package graph

// Carriers is the carrier state a decision reads: limits, quality, health.
type Carriers interface {
	// CarrierAvailable reports whether c may take a new call (within its
	// limits and quality).
	CarrierAvailable(c *Carrier) bool
}
