// Package e2e holds sipfront's end-to-end tests: the real binary (or the
// runtime in-process where a test must look at the dialog table) in front
// of sipp boxes and callers, over real sockets on 127.0.0.1.
//
// The tests need sipp (Debian package sip-tester). Without it they skip,
// except on CI (CI=true) where they fail. Run them with
//
//	go test ./test/e2e/ -v
package e2e
