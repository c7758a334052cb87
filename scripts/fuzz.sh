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
		for try in 1 2; do
			if out=$("$go" test -run '^$' -fuzz "^$name\$" -fuzztime "$fuzztime" \
				-fuzzminimizetime "$mintime" "$dir" 2>&1); then
				break
			fi
			# Go's fuzzing engine sometimes ends a run that found nothing
			# with "context deadline exceeded" when -fuzztime runs out
			# mid-exchange with a worker: no failing input is written.
			# Run that target once more; a real finding always writes
			# its input (testdata/fuzz) and fails again.
			if [ "$try" = 1 ] && printf '%s' "$out" | grep -q 'context deadline exceeded' &&
				! printf '%s' "$out" | grep -q 'Failing input written'; then
				echo "fuzz $name: the fuzzing engine timed out without a finding; once more"
				continue
			fi
			printf '%s\n' "$out" | tail -n 30
			failed=1
			break
		done
	done
done
exit "$failed"
