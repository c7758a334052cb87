package appliance

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"text/tabwriter"

	"tinkerbox/appliance/board"
	"tinkerbox/images/imgdecode"
	"tinkerbox/scenes/scene"
)

// Selftest probes every configured device and prints a table. It fails when
// a configured device is missing or broken.
func Selftest(ctx context.Context, o Options) error {
	// The table says it all: only warnings go to the log.
	log := slog.New(slog.NewTextHandler(stderrOf(o), &slog.HandlerOptions{Level: slog.LevelWarn}))
	if o.Clock == nil {
		o.Clock = scene.SystemClock{}
	}
	cfg, err := loadConfig(&o, log)
	if err != nil {
		return err
	}
	b, err := board.Open(ctx, cfg, board.Options{Sim: o.Sim, Clock: o.Clock, Log: log, RecordDir: o.RecordDir, ScanI2C: true})
	if err != nil {
		return err
	}
	defer b.Halt()
	tw := tabwriter.NewWriter(o.Stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "DEVICE\tWHERE\tSTATUS\tDETAIL")
	for _, p := range b.Probes {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", p.Device, p.Where, p.Status, p.Detail)
	}
	tw.Flush()
	if !b.OK() {
		return errors.New("selftest: some devices are missing or failed (see the table)")
	}
	if o.RecordDir != "" {
		fmt.Fprintf(o.Stdout, "bus traffic saved in %s\n", o.RecordDir)
	}
	return nil
}

func stderrOf(o Options) io.Writer {
	if o.Stderr == nil {
		return os.Stderr
	}
	return o.Stderr
}

// Print dithers and prints one image file.
func Print(ctx context.Context, o Options, file string) error {
	log := newLogger(o.Stderr)
	if o.Clock == nil {
		o.Clock = scene.SystemClock{}
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		defer debug.SetMemoryLimit(debug.SetMemoryLimit(memoryLimit)) // as the appliance
	}
	// Checked from the header first: a small file can claim gigabytes.
	img, err := imgdecode.ReadFile(file, imgdecode.Photo())
	if err != nil {
		return fmt.Errorf("print: %w", err)
	}
	cfg, err := loadConfig(&o, log)
	if err != nil {
		return err
	}
	b, err := board.Open(ctx, cfg, board.Options{Sim: o.Sim, Clock: o.Clock, Log: log})
	if err != nil {
		return err
	}
	defer b.Halt()
	if b.Printer == nil {
		return errors.New("print: no printer (see `tinkerbox selftest`)")
	}
	if err := b.Printer.Print(ctx, img); err != nil {
		return err
	}
	if b.Sim != nil {
		out := filepath.Join(cfg.Appliance.DataDir, "sim-roll.png")
		if err := os.MkdirAll(cfg.Appliance.DataDir, 0o755); err != nil {
			return err
		}
		w, err := os.Create(out)
		if err != nil {
			return err
		}
		defer w.Close()
		if err := b.Sim.Printer.WritePNG(w); err != nil {
			return err
		}
		fmt.Fprintf(o.Stdout, "printed on the simulated printer: %s\n", out)
	}
	return nil
}
