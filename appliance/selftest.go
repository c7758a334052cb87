package appliance

import (
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
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
	if o.RecordDir != "" {
		// Saved on failure too: a probe that failed is what to replay.
		if err := saveRecording(ctx, b, o); err != nil {
			return err
		}
	}
	if !b.OK() {
		return errors.New("selftest: some devices are missing or failed (see the table)")
	}
	return nil
}

// saveRecording writes what the probed devices received and lists it. The
// simulator's devices are only opened by a probe, which sends them
// nothing: there the selftest first sends each a test pattern through the
// same encoders as on hardware (a printed slip, a display frame, every LED
// on), so the recording holds real ESC/POS bytes and frames.
func saveRecording(ctx context.Context, b *board.Board, o Options) error {
	if b.Sim != nil {
		if err := simTestPattern(ctx, b); err != nil {
			return fmt.Errorf("selftest: test pattern: %w", err)
		}
	}
	files, err := b.SaveRecording()
	if err != nil {
		return err
	}
	what := "each I2C probe's bus traffic"
	if b.Sim != nil {
		what = "what the simulated devices received (test pattern)"
	}
	fmt.Fprintf(o.Stdout, "recorded %s in %s:\n", what, o.RecordDir)
	tw := tabwriter.NewWriter(o.Stdout, 2, 4, 2, ' ', 0)
	for _, f := range files {
		fmt.Fprintf(tw, "  %s\t%s\n", filepath.Join(o.RecordDir, f.File), f.What)
	}
	return tw.Flush()
}

// simTestPattern exercises the simulated printer, display and LEDs.
func simTestPattern(ctx context.Context, b *board.Board) error {
	if b.Printer != nil {
		lines := []string{"tinkerbox selftest", fmt.Sprintf("printer %d dots", b.Printer.Width())}
		if err := b.Printer.Print(ctx, slip(lines, b.Printer.Width())); err != nil {
			return err
		}
	}
	if b.Display != nil {
		frame := image.NewGray(image.Rect(0, 0, scene.DisplayWidth, scene.DisplayHeight))
		for y := range scene.DisplayHeight {
			for x := range scene.DisplayWidth {
				if (x+y)%2 == 0 { // a checkerboard: every LED shows, none is stuck
					frame.SetGray(x, y, color.Gray{Y: 255})
				}
			}
		}
		if err := b.Display.Show(frame); err != nil {
			return err
		}
	}
	for _, n := range b.Lights.Names() {
		if err := b.Lights.SetLight(n, scene.LightOn); err != nil {
			return err
		}
	}
	return nil
}

func stderrOf(o Options) io.Writer {
	if o.Stderr == nil {
		return os.Stderr
	}
	return o.Stderr
}

// Print dithers and prints one image file. When an appliance runs on the
// same data dir, the image goes to its printer through the control socket
// (the simulator's roll with --sim, the real printer's queue on hardware)
// rather than a second writer on the device; otherwise it is printed here,
// in --sim on a one-off simulated printer saved as <data>/sim-roll.png.
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
	dataDir := cfg.Appliance.DataDir
	stdout := o.Stdout
	if stdout == nil {
		stdout = os.Stdout
	}
	msg, err := printViaControl(ctx, dataDir, filepath.Base(file), o.Sim, img)
	var refused *controlRefused
	switch {
	case err == nil:
		fmt.Fprintf(stdout, "%s: sent to the tinkerbox running on data dir %s: %s\n", file, dataDir, msg)
		return nil
	case errors.As(err, &refused) && o.Sim:
		fmt.Fprintf(stdout, "%v; printing on a one-off simulated printer instead\n", err)
	case errors.Is(err, errNoAppliance):
		if o.Sim {
			fmt.Fprintf(stdout, "no tinkerbox is running on data dir %s (%s): printing on a one-off simulated printer\n", dataDir, o.dataWhy)
		}
	default:
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
		if err := checkDataDir(dataDir, o.dataWhy); err != nil {
			return fmt.Errorf("print: %w", err)
		}
		out := filepath.Join(dataDir, "sim-roll.png")
		w, err := os.Create(out)
		if err != nil {
			return fmt.Errorf("print: %w", err)
		}
		defer w.Close()
		if err := b.Sim.Printer.WritePNG(w); err != nil {
			return fmt.Errorf("print: %w", err)
		}
		fmt.Fprintf(stdout, "printed on the one-off simulated printer; the roll is in %s\n", out)
	}
	return nil
}
