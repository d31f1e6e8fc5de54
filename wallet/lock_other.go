//go:build !unix

package wallet

// Lock is a no-op where flock is unavailable.
func Lock(path string) (unlock func(), err error) { return func() {}, nil }
