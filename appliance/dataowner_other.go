//go:build !unix

package appliance

// dataOwner has nothing to do where there are no Unix owners.
func dataOwner(string) func() (int, error) { return nil }
