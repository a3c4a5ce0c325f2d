// Package lang parses and checks sipfront policy files: HCL blocks (proxy,
// filter, trusted, credentials, auth, aliases, registrar, pool, prefixes,
// carrier, route, test) and the CSV files they reference.
//
// It decodes every block into a plain struct that keeps the source ranges of
// its declaration and attributes, so that the compiler can point its own
// diagnostics at the exact label or value. References between blocks
// (pool.asterisk, trusted.carriers, ...) are kept as static traversals and
// never evaluated; literal attributes are evaluated once, with env() as the
// only function.
//
// lang must not import the compiler or the runtime: it knows the language,
// not the graph.
package lang
