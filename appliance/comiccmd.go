package appliance

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/png"
	"io"
	"os"
	"runtime/debug"
	"time"

	"tinkerbox/drivers/escpos"
	"tinkerbox/scenes/comic"
)

const comicUsage = `usage:
  tinkerbox comic [--seed N] [--width DOTS] [--pack DIR] --png FILE [--escpos FILE]
  tinkerbox comic check [--sheet FILE] DIR`

// Comic implements `tinkerbox comic`: compose one strip without hardware and
// write the full-resolution PNG and, optionally, the printer's ESC/POS byte
// stream; or `comic check DIR`: validate a pack and draw a contact sheet.
func Comic(ctx context.Context, o Options, args []string) error {
	stdout := o.Stdout
	if stdout == nil {
		stdout = os.Stdout
	}
	stderr := o.Stderr
	if stderr == nil {
		stderr = os.Stderr
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		// The same soft heap limit as the appliance: a pack's large scans
		// are decoded one after the other, and each must be collected
		// before the next rather than when the heap has doubled.
		defer debug.SetMemoryLimit(debug.SetMemoryLimit(memoryLimit))
	}
	if len(args) > 0 && args[0] == "check" {
		return comicCheck(args[1:], stdout, stderr)
	}
	fs := flag.NewFlagSet("tinkerbox comic", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprintln(stderr, comicUsage); fs.PrintDefaults() }
	seed := fs.Uint64("seed", 0, "strip seed (default: from the clock; printed)")
	width := fs.Int("width", 384, "printer width in dots for --escpos")
	packDir := fs.String("pack", "", "art pack directory (default: the built-in pack)")
	pngOut := fs.String("png", "", "write the full-resolution strip here (required)")
	escOut := fs.String("escpos", "", "write the printer byte stream here")
	fs.StringVar(&o.ConfigPath, "config", o.ConfigPath, "config file (accepted for symmetry; unused)")
	fs.StringVar(&o.DataDir, "data", o.DataDir, "data directory (accepted for symmetry; unused)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return UsageError{err}
	}
	if *pngOut == "" || fs.NArg() != 0 {
		return UsageError{errors.New("comic: --png FILE is required\n" + comicUsage)}
	}
	if *width < 8 || *width > escpos.MaxWidth {
		return UsageError{fmt.Errorf("comic: --width %d out of range 8..%d", *width, escpos.MaxWidth)}
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if !set["seed"] {
		*seed = uint64(time.Now().UnixNano())
	}
	pack, err := loadComicPack(*packDir, newLogger(stderr))
	if err != nil {
		return err
	}
	strip, err := pack.Compose(*seed)
	if err != nil {
		return err
	}
	left, right := fmt.Sprintf("tinkerbox comic seed %d", *seed), time.Now().Format("2006-01-02")
	big := pack.Render(strip, comic.ArchiveSize(strip), left, right)
	if err := writePNG(*pngOut, big); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "seed %d: %s, %s, grid %s, %d panels -> %s (%dx%d)\n", *seed, strip.Theme, orNone(strip.Character), strip.Grid.ID,
		len(strip.Panels), *pngOut, big.Rect.Dx(), big.Rect.Dy())
	if *escOut != "" {
		f, err := os.Create(*escOut)
		if err != nil {
			return fmt.Errorf("comic: %w", err)
		}
		w := bufio.NewWriter(f)
		opts := escpos.DefaultOpts()
		opts.Width = *width
		dev, err := escpos.New(w, opts)
		if err == nil {
			err = dev.Print(ctx, pack.Render(strip, *width, left, right))
		}
		if err == nil {
			err = w.Flush()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("comic: %s: %w", *escOut, err)
		}
		fmt.Fprintf(stdout, "printer stream at %d dots -> %s\n", *width, *escOut)
	}
	return nil
}

func orNone(s string) string {
	if s == "" {
		return "no recurring character"
	}
	return s
}

func comicCheck(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("tinkerbox comic check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	sheet := fs.String("sheet", "contact-sheet.png", "write the contact sheet here")
	if err := fs.Parse(args); err != nil {
		return UsageError{err}
	}
	if fs.NArg() != 1 {
		return UsageError{errors.New("comic: check needs the pack directory\n" + comicUsage)}
	}
	pack, probs, err := comic.LoadPack(os.DirFS(fs.Arg(0)))
	for _, p := range probs {
		fmt.Fprintln(stdout, p)
	}
	if err != nil {
		return err
	}
	if err := writePNG(*sheet, comic.ContactSheet(pack, 6)); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: %d grids, %d images, themes %v; contact sheet -> %s\n", fs.Arg(0), len(pack.Grids), len(pack.Images), pack.Themes(), *sheet)
	if len(probs) > 0 {
		return fmt.Errorf("comic: check: %d items skipped", len(probs))
	}
	return nil
}

func writePNG(name string, img image.Image) error {
	f, err := os.Create(name)
	if err != nil {
		return fmt.Errorf("comic: %w", err)
	}
	err = png.Encode(f, img)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("comic: write %s: %w", name, err)
	}
	return nil
}
