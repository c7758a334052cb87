package appliance

import (
	"errors"
	"flag"
)

// ParseFlags parses fs's flags wherever they stand among args and returns
// the positional arguments in order. Go's flag package stops at the first
// non-flag, which left `comic check DIR --sheet F` with --sheet unparsed;
// here a positional is set aside and parsing goes on. "--" ends the flags.
// A bad flag is a UsageError.
func ParseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, UsageError{err} // exit code 2
		}
		rest := fs.Args()
		if used := len(args) - len(rest); used > 0 && args[used-1] == "--" {
			return append(pos, rest...), nil
		}
		if len(rest) == 0 {
			return pos, nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}
