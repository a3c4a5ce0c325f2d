#!/bin/sh
# Runs every Go fuzz target of sipfront for a bounded time each (default
# 10s; FUZZTIME=5m for a longer run, see docs/security.md#fuzzing). The
# seed corpora under each package's testdata/fuzz/ run as plain tests in
# `go test ./...` too; this script mutates beyond them. A failing input is
# written to testdata/fuzz/<Target>/ by go test: commit it with the fix.
set -eu
cd "$(dirname "$0")/.."
FUZZTIME=${FUZZTIME:-10s}
GO=${GO:-go}
status=0
for target in \
	./runtime/sanity:FuzzCheck \
	./runtime/sanity:FuzzParse \
	./lang:FuzzCSV \
	./lang:FuzzLoad \
	./compiler:FuzzCompile \
	./compiler:FuzzCondition \
	./compiler/graph:FuzzFastPath; do
	pkg=${target%%:*}
	name=${target##*:}
	echo "== $pkg $name ($FUZZTIME)"
	if ! $GO test "$pkg" -run '^$' -fuzz "^$name\$" -fuzztime "$FUZZTIME"; then
		status=1
	fi
done
exit $status
