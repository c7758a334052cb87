//go:build !unix

package appliance

// actAsDataOwner does nothing where there are no Unix owners.
func actAsDataOwner(string) (string, error) { return "", nil }
