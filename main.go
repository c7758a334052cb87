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
  tinkerbox version

--sim runs on simulated devices (no Raspberry Pi needed); the front panel in the
browser stands in for the buttons, lights, display, printer and camera.
`

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
	var o appliance.Options
	fs.StringVar(&o.ConfigPath, "config", "", "config file (default: ./tinkerbox.toml, /boot/tinkerbox.toml or /etc/tinkerbox.toml, else built-in defaults)")
	fs.StringVar(&o.DataDir, "data", "", "data directory (default from the config; ./data with --sim)")
	fs.BoolVar(&o.Sim, "sim", false, "use simulated devices")
	o.Version = version
	o.Stdout, o.Stderr = stdout, stderr

	var err error
	switch cmd {
	case "run":
		fs.StringVar(&o.Listen, "listen", "", "web listen address (default from the config; 127.0.0.1:8080 with --sim)")
		if err = fs.Parse(args); err == nil {
			err = appliance.Run(ctx, o)
		}
	case "selftest":
		var record string
		fs.StringVar(&record, "record", "", "save each probe's bus traffic in DIR (for playback tests)")
		if err = fs.Parse(args); err == nil {
			o.RecordDir = record
			err = appliance.Selftest(ctx, o)
		}
	case "print":
		if err = fs.Parse(args); err == nil {
			if fs.NArg() != 1 {
				fmt.Fprintln(stderr, "usage: tinkerbox print [--sim] [--config FILE] FILE.png")
				return 2
			}
			err = appliance.Print(ctx, o, fs.Arg(0))
		}
	case "comic":
		err = appliance.Comic(ctx, o, args) // parses its own flags
	case "catalog":
		if err = fs.Parse(args); err == nil {
			err = appliance.Catalog(ctx, o, fs.Args())
		}
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
