// Command tinkerbox is the firmware of the tinkerbox maker appliance. It is
// thin: it parses the command line, turns signals into a cancelled context,
// and maps errors to exit codes; the appliance package does the work.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"tinkerbox/appliance"
)

// version is stamped by the Makefile (-ldflags "-X main.version=…").
var version = "dev"

const usage = `tinkerbox — firmware for the tinkerbox maker appliance

usage:
  tinkerbox run      [--sim] [--config FILE] [--listen ADDR] [--data DIR]
  tinkerbox selftest [--sim] [--config FILE] [--data DIR] [--record DIR]
  tinkerbox print    [--sim] [--config FILE] FILE.png
  tinkerbox comic    [--seed N] [--width DOTS] [--pack DIR] --png FILE [--escpos FILE]
  tinkerbox comic    check [--sheet FILE] DIR
  tinkerbox catalog  import FILE.json|FILE.csv [--images DIR]
  tinkerbox catalog  images [--dir DIR] [--rate N] [--no-hash]
  tinkerbox catalog  export-hashes FILE | import-hashes FILE
  tinkerbox catalog  identify IMAGE...
                     (every catalog command: [--data DIR] [--config FILE] [--sim])
  tinkerbox update   FILE.tbup|URL | --status | --rollback
                     (on the device, as root: see README "Updating")
  tinkerbox version

Flags may come before or after the other arguments; -- ends the flags.
--sim runs on simulated devices (no Raspberry Pi needed); the front panel in the
browser stands in for the buttons, lights, display, printer and camera.
Every command finds its data dir the same way: --data DIR, else $TINKERBOX_DATA,
else the config's appliance.data_dir (unless it is the default /data), else /data
on the device image and ./data elsewhere (the one make run uses).
`

// usages are the one-line synopses each subcommand's --help starts with.
var usages = map[string]string{
	"run":      "tinkerbox run [--sim] [--config FILE] [--listen ADDR] [--data DIR]",
	"selftest": "tinkerbox selftest [--sim] [--config FILE] [--data DIR] [--record DIR]",
	"print": "tinkerbox print [--sim] [--config FILE] [--data DIR] FILE.png\n" +
		"  (goes through the running appliance's printer when one runs on the same data dir)",
	"catalog": "tinkerbox catalog import|images|export-hashes|import-hashes|identify ... (tinkerbox catalog --help)",
}

// noArgs parses flags for a command that takes no other argument.
func noArgs(fs *flag.FlagSet, args []string, do func() error) error {
	pos, err := appliance.ParseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return appliance.UsageError{Err: fmt.Errorf("%s: unexpected argument %q", fs.Name(), pos[0])}
	}
	return do()
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run returns the exit code: 0 ok, 1 failure, 2 bad usage.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	cmd, args := args[0], args[1:]
	fs := flag.NewFlagSet("tinkerbox "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		if u, ok := usages[cmd]; ok {
			fmt.Fprintf(stderr, "usage: %s\n", u)
		}
		fs.PrintDefaults()
	}
	var o appliance.Options
	fs.StringVar(&o.ConfigPath, "config", "", "config file (default: ./tinkerbox.toml, /boot/tinkerbox.toml or /etc/tinkerbox.toml, else built-in defaults)")
	fs.StringVar(&o.DataDir, "data", "", appliance.DataDirHelp)
	fs.BoolVar(&o.Sim, "sim", false, "use simulated devices")
	o.Version = version
	o.Stdout, o.Stderr = stdout, stderr

	var err error
	switch cmd {
	case "run":
		fs.StringVar(&o.Listen, "listen", "", "web listen address (default from the config; 127.0.0.1:8080 with --sim)")
		err = noArgs(fs, args, func() error { return appliance.Run(ctx, o) })
	case "selftest":
		var record string
		fs.StringVar(&record, "record", "", "save what each probed device received in DIR, with an index.txt (I2C traffic on hardware; printer stream, display frame and LEDs in --sim)")
		err = noArgs(fs, args, func() error {
			o.RecordDir = record
			return appliance.Selftest(ctx, o)
		})
	case "print":
		var pos []string
		if pos, err = appliance.ParseFlags(fs, args); err == nil {
			if len(pos) != 1 {
				fmt.Fprintln(stderr, "usage:", usages[cmd])
				return 2
			}
			err = appliance.Print(ctx, o, pos[0])
		}
	case "comic":
		err = appliance.Comic(ctx, o, args) // parses its own flags
	case "catalog":
		// Only the flags before the subcommand: Catalog parses the rest,
		// which may come before or after its files.
		if err = fs.Parse(args); err == nil {
			err = appliance.Catalog(ctx, o, fs.Args())
		} else if !errors.Is(err, flag.ErrHelp) {
			err = appliance.UsageError{Err: err}
		}
	case "update":
		err = appliance.Update(ctx, o, args)
	case "update-service":
		err = noArgs(fs, args, func() error { return appliance.UpdateService(ctx, o) })
	case "reboot-hook":
		err = noArgs(fs, args, appliance.RebootHook)
	case "version", "--version", "-v":
		fmt.Fprintln(stdout, "tinkerbox", version)
		return 0
	case "help", "--help", "-h":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "tinkerbox: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, new(appliance.UsageError)):
		fmt.Fprintln(stderr, "tinkerbox:", err)
		return 2
	default:
		fmt.Fprintln(stderr, "tinkerbox:", err)
		return 1
	}
}
