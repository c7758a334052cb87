//go:build !linux

package appliance

import (
	"context"
	"errors"
)

// UpdateService runs only on the Linux device image.
func UpdateService(context.Context, Options) error {
	return errors.New("update-service: runs on the tinkerbox device image only")
}

// RebootHook runs only on the Linux device image.
func RebootHook() error { return errors.New("reboot-hook: runs on the tinkerbox device image only") }
