//go:build !linux

package cli

import "errors"

// lowerPriority is Linux-only (see priority_linux.go).
func lowerPriority(int) error {
	return errors.New("lowering the load generator's priority is supported on Linux only")
}
