// Package stubs holds the parts of graph.State that this version does not
// serve yet: nobody is registered, every request is challenged, every
// carrier is available. serve refuses the policies that would need them
// (runtime.Served), so they answer only the conditions of served blocks,
// such as registered() in a route's condition. The packages that serve
// these domains replace them in runtime.Config.
package stubs

import "github.com/sipfront/sipfront/compiler/graph"

// NoRegistrations is the registrar before there is one: nobody is
// registered.
type NoRegistrations struct{}

// Registered implements graph.Registrations.
func (NoRegistrations) Registered(string) bool { return false }

// NoAuth is digest authentication before there is one: every request is
// challenged.
type NoAuth struct{}

// Authenticate implements graph.Authenticator.
func (NoAuth) Authenticate(*graph.Auth, *graph.Request) graph.AuthVerdict {
	return graph.AuthVerdict{Outcome: graph.AuthChallenge}
}

// AllCarriers is carrier state before there is one: every carrier is
// available.
type AllCarriers struct{}

// CarrierStatus implements graph.Carriers.
func (AllCarriers) CarrierStatus(*graph.Carrier) graph.CarrierStatus { return graph.CarrierStatus{} }
