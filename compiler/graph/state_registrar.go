package graph

// Registrations is the registrar state a decision reads.
type Registrations interface {
	// Registered reports whether user has a live registration.
	Registered(user string) bool
}
