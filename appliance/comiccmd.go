package appliance

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/png"
	"io"
	"io/fs"
	"os"
	"runtime/debug"

	"tinkerbox/drivers/escpos"
	art "tinkerbox/images/comic"
	"tinkerbox/scenes/comic"
	"tinkerbox/scenes/scene"
)

const comicUsage = `usage:
  tinkerbox comic [--seed N] [--width DOTS] [--orientation auto|across|along] [--pack DIR] --png FILE [--escpos FILE]
  tinkerbox comic check [--sheet FILE] DIR
flags may come before or after DIR; -- ends the flags. The same --seed and pack
give the same strip, byte for byte: the footer names them (no date).`

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
	orient := fs.String("orientation", comic.OrientAuto.String(), "how the strip lies on the paper for --escpos: auto (along when wider than tall), across or along")
	packDir := fs.String("pack", "", "art pack directory (default: the built-in pack)")
	pngOut := fs.String("png", "", "write the full-resolution strip here (required)")
	escOut := fs.String("escpos", "", "write the printer byte stream here")
	fs.StringVar(&o.ConfigPath, "config", o.ConfigPath, "config file (accepted for symmetry; unused)")
	fs.StringVar(&o.DataDir, "data", o.DataDir, "accepted for symmetry, unused: the comic command writes only the files named; "+DataDirHelp)
	pos, err := ParseFlags(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return UsageError{err}
	}
	if *pngOut == "" || len(pos) != 0 {
		return UsageError{errors.New("comic: --png FILE is required\n" + comicUsage)}
	}
	if *width < 8 || *width > escpos.MaxWidth {
		return UsageError{fmt.Errorf("comic: --width %d out of range 8..%d", *width, escpos.MaxWidth)}
	}
	orientation, err := comic.ParseOrientation(*orient)
	if err != nil || *orient == "" {
		return UsageError{fmt.Errorf("comic: --orientation %q: want auto, across or along", *orient)}
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if !set["seed"] {
		clk := o.Clock
		if clk == nil {
			clk = scene.SystemClock{}
		}
		*seed = uint64(clk.Now().UnixNano())
	}
	pack, err := loadComicPack(*packDir, newLogger(stderr))
	if err != nil {
		return err
	}
	sum, err := packHash(*packDir)
	if err != nil {
		return err
	}
	strip, err := pack.Compose(*seed)
	if err != nil {
		return err
	}
	left, right := comicFooter(*seed, pack.Name, sum)
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
			err = dev.Print(ctx, pack.RenderPrint(strip, *width, orientation, left, right))
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
		sz := comic.PrintSize(strip, *width, orientation, true)
		fmt.Fprintf(stdout, "printer stream at %d dots, %s the paper, %.1f x %.1f mm -> %s\n", *width,
			map[bool]string{true: "along", false: "across"}[orientation.Along(strip)],
			float64(sz.X)/comic.DotsPerMM, float64(sz.Y)/comic.DotsPerMM, *escOut)
	}
	return nil
}

// comicFooter names what makes the strip reproducible: the seed and the
// pack (its name and a hash of its files). A date here once made two runs
// with the same seed differ.
func comicFooter(seed uint64, pack, sum string) (left, right string) {
	if pack == "" {
		pack = "pack"
	}
	return fmt.Sprintf("tinkerbox comic seed %d", seed), fmt.Sprintf("pack %s %s", pack, sum)
}

// packHash is a short hash of every file of the pack in dir ("" = the
// built-in one), in path order: another drawing, another strip.
func packHash(dir string) (string, error) {
	fsys := art.Pack()
	if dir != "" {
		fsys = os.DirFS(dir)
	}
	h := sha256.New()
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		f, err := fsys.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		fmt.Fprintf(h, "%s\x00", p)
		_, err = io.Copy(h, f)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("comic: pack hash: %w", err)
	}
	return hex.EncodeToString(h.Sum(nil))[:8], nil
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
	fs.Usage = func() { fmt.Fprintln(stderr, comicUsage); fs.PrintDefaults() }
	sheet := fs.String("sheet", "contact-sheet.png", "write the contact sheet here")
	pos, err := ParseFlags(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return UsageError{err}
	}
	if len(pos) != 1 {
		return UsageError{fmt.Errorf("comic: check needs one pack directory (got %d arguments)\n%s", len(pos), comicUsage)}
	}
	dir := pos[0]
	// A maker's pack may be drawn on the built-in one (its "base").
	pack, probs, err := comic.LoadPackOn(os.DirFS(dir), art.Pack())
	for _, p := range probs {
		fmt.Fprintln(stdout, p)
	}
	if err != nil {
		return err
	}
	if err := writePNG(*sheet, comic.ContactSheet(pack, 6)); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: %d grids, %d images, themes %v; contact sheet -> %s\n", dir, len(pack.Grids), len(pack.Images), pack.Themes(), *sheet)
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
