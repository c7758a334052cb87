package appliance

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"tinkerbox/appliance/config"
)

// DataDirHelp is the data-dir rule every subcommand states in its --help:
// each command resolves it the same way, so `catalog import` fills the
// database that `run` (and `make run`) reads.
const DataDirHelp = "data directory; the first of: --data, $TINKERBOX_DATA, the config's appliance.data_dir " +
	"(unless it is the default /data), /data on the device image, ./data elsewhere (as make run)"

// dataEnvVar names the data dir for every command of one shell.
const dataEnvVar = "TINKERBOX_DATA"

// deviceDataDir is the SD image's data partition.
const deviceDataDir = "/data"

// resolveDataDir applies DataDirHelp's rule and says which step chose. The
// config's "/data" is the built-in default (the example config spells it
// out): it means "the device's partition", which a laptop does not have.
func resolveDataDir(o *Options, cfg *config.Config, cfgFile string) (dir, why string) {
	getenv := o.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	onDevice := o.OnDevice
	if onDevice == nil {
		onDevice = onDeviceImage
	}
	switch {
	case o.DataDir != "":
		return o.DataDir, "--data"
	case getenv(dataEnvVar) != "":
		return getenv(dataEnvVar), "$" + dataEnvVar
	case cfg.Appliance.DataDir != "" && cfg.Appliance.DataDir != config.Default().Appliance.DataDir:
		return cfg.Appliance.DataDir, "appliance.data_dir of " + cfgFile
	case onDevice():
		return deviceDataDir, "the device's data partition"
	}
	return "data", "./data: not on the device image, as make run"
}

// onDeviceImage reports whether this is the tinkerbox SD image: it installs
// /etc/tinkerbox.toml (post-build.sh) and S05data mounts /data (its own
// partition, or a tmpfs) before anything else runs. A laptop has neither.
func onDeviceImage() bool {
	if _, err := os.Stat("/etc/tinkerbox.toml"); err != nil {
		return false
	}
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// Field 5 is the mount point (proc(5)).
		if fields := strings.Fields(sc.Text()); len(fields) > 4 && fields[4] == deviceDataDir {
			return true
		}
	}
	return false
}

// checkDataDir makes sure dir exists and can be written before a command
// starts work there, and otherwise says which dir, why it was chosen and
// what to do.
func checkDataDir(dir, why string) error {
	err := os.MkdirAll(dir, 0o755)
	if err == nil {
		var f *os.File
		if f, err = os.CreateTemp(dir, ".write-test-*"); err == nil {
			f.Close()
			os.Remove(f.Name())
		}
	}
	if err == nil {
		return nil
	}
	reason := err
	var pe *fs.PathError
	if errors.As(err, &pe) {
		reason = pe.Err
	}
	return fmt.Errorf("cannot write %s (data dir from %s): %w; pass --data DIR or set %s", filepath.Clean(dir), why, reason, dataEnvVar)
}
