package escpos

import (
	"context"
	"image"
	"testing"

	"tinkerbox/drivers/sim"
)

// TestDecodeBack prints through the simulator's printer, which decodes the
// real byte stream onto a paper roll, and checks the roll reproduces the
// dithered bitmap dot for dot.
func TestDecodeBack(t *testing.T) {
	photo := benchImage(384, 600)
	for _, tc := range []struct {
		name string
		img  image.Image
		opts Opts
	}{
		{"generic", photo, Opts{Width: 384, FeedLines: 2}},
		{"generic-bands", photo, Opts{Width: 384, BandRows: 37, Dither: Atkinson}},
		{"adafruit", photo, Opts{Width: 384, Profile: Adafruit, Dither: Bayer, FeedLines: 1}},
		{"80mm-scaled-cut", benchImage(1000, 700), Opts{Width: 576, Cut: true, FeedLines: 3}},
		{"centred", gradient(150, 80), Opts{Width: 384, Dither: Threshold}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := sim.NewPrinter(&sim.PrinterOpts{Width: tc.opts.Width})
			d, err := New(p, &tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if err := d.Print(context.Background(), tc.img); err != nil {
				t.Fatal(err)
			}
			if errs := p.Errors(); len(errs) > 0 {
				t.Fatalf("the simulator could not decode the stream: %q", errs)
			}
			want := Dither(tc.img, tc.opts.Width, &tc.opts).Gray()
			roll := p.Roll()
			if roll.Rect.Dx() != want.Rect.Dx() {
				t.Fatalf("roll %d dots wide, bitmap %d", roll.Rect.Dx(), want.Rect.Dx())
			}
			if roll.Rect.Dy() < want.Rect.Dy() {
				t.Fatalf("roll has %d rows, bitmap %d", roll.Rect.Dy(), want.Rect.Dy())
			}
			diff := 0
			for y := 0; y < want.Rect.Dy(); y++ {
				for x := 0; x < want.Rect.Dx(); x++ {
					if roll.GrayAt(roll.Rect.Min.X+x, roll.Rect.Min.Y+y).Y != want.GrayAt(x, y).Y {
						diff++
					}
				}
			}
			if diff > 0 {
				t.Fatalf("%d dots differ between the roll and the bitmap", diff)
			}
			// The feed that follows is blank paper (the simulator marks a
			// cut with a line after it).
			end := roll.Rect.Dy()
			if tc.opts.Cut {
				end = min(end, want.Rect.Dy()+tc.opts.FeedLines*24)
			}
			for y := want.Rect.Dy(); y < end; y++ {
				for x := 0; x < roll.Rect.Dx(); x++ {
					if roll.GrayAt(roll.Rect.Min.X+x, roll.Rect.Min.Y+y).Y != 255 {
						t.Fatalf("dot (%d,%d) after the image is not white", x, y)
					}
				}
			}
			st := p.Stats()
			if tc.opts.Cut && st.Cuts != 1 {
				t.Errorf("%d cuts", st.Cuts)
			}
		})
	}
}

func TestStatusFromSimulator(t *testing.T) {
	p := sim.NewPrinter(&sim.PrinterOpts{Width: 384})
	d, err := New(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	s, err := d.Status(ctx)
	if err != nil || s.PaperOut || s.Offline {
		t.Fatalf("fresh printer: %+v, %v", s, err)
	}
	p.SetPaperOut(true)
	s, err = d.Status(ctx)
	if err != nil || !s.PaperOut || !s.Offline {
		t.Fatalf("paper out: %+v, %v", s, err)
	}
	if err := d.Print(ctx, gradient(384, 10)); err == nil {
		t.Fatal("printing without paper succeeded")
	}
}
