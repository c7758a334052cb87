#!/bin/sh
# Runs every fuzz target in the module briefly: FUZZTIME each (default 5s),
# with a short minimisation budget so a finding is reported, not polished for
# a minute. A failure leaves its input in the package's testdata/fuzz.
set -eu
fuzztime=${FUZZTIME:-5s}
mintime=${FUZZMINIMIZETIME:-2s}
go=${GO:-go}
failed=0
for file in $(git ls-files '*_test.go' 2>/dev/null || find . -name '*_test.go'); do
	dir=./$(dirname "$file")
	names=$(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p' "$file")
	for name in $names; do
		printf 'fuzz %-28s %s\n' "$name" "$dir"
		if ! out=$("$go" test -run '^$' -fuzz "^$name\$" -fuzztime "$fuzztime" \
			-fuzzminimizetime "$mintime" "$dir" 2>&1); then
			printf '%s\n' "$out" | tail -n 30
			failed=1
		fi
	done
done
exit "$failed"
