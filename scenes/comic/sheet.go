package comic

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"

	xdraw "golang.org/x/image/draw"

	"tinkerbox/images/font"
)

// ContactSheet draws every image of the pack as a thumbnail with its
// metadata on top: the focal area (red), the anchor edge (blue bar), the
// horizon range (green ticks), and a caption (file, theme/character, role,
// facing and flip, minimum panel size). cols thumbnails per row.
func ContactSheet(p *Pack, cols int) *image.RGBA {
	if cols < 1 {
		cols = 6
	}
	const box, capH, pad = 300, 44, 12
	rows := (len(p.Images) + cols - 1) / cols
	cw, ch := box+2*pad, box+capH+2*pad
	sheet := image.NewRGBA(image.Rect(0, 0, max(cols*cw, 1), max(rows*ch, 1)))
	draw.Draw(sheet, sheet.Rect, image.White, image.Point{}, draw.Src)
	red := &image.Uniform{color.RGBA{220, 30, 30, 255}}
	blue := &image.Uniform{color.RGBA{30, 80, 220, 255}}
	green := &image.Uniform{color.RGBA{20, 150, 60, 255}}
	grey := &image.Uniform{color.RGBA{200, 200, 200, 255}}
	face := font.Font5x7()
	for i, im := range p.Images {
		ox, oy := (i%cols)*cw+pad, (i/cols)*ch+pad
		iw, ih := im.Bounds.Dx(), im.Bounds.Dy()
		f := min(float64(box)/float64(iw), float64(box)/float64(ih), 1)
		w, h := max(int(float64(iw)*f), 1), max(int(float64(ih)*f), 1)
		dst := image.Rect(ox+(box-w)/2, oy+(box-h)/2, ox+(box-w)/2+w, oy+(box-h)/2+h)
		outline(sheet, dst.Inset(-1), grey, 1)
		if art, _, err := im.Pixels(); err == nil {
			xdraw.CatmullRom.Scale(sheet, dst, art, art.Rect, xdraw.Over, nil)
		}
		fr := image.Rect(int(float64(im.Focal.Min.X)*f), int(float64(im.Focal.Min.Y)*f),
			int(float64(im.Focal.Max.X)*f), int(float64(im.Focal.Max.Y)*f)).Add(dst.Min)
		outline(sheet, fr, red, 2)
		var bar image.Rectangle
		switch im.Anchor {
		case EdgeBottom:
			bar = image.Rect(dst.Min.X, dst.Max.Y, dst.Max.X, dst.Max.Y+5)
		case EdgeTop:
			bar = image.Rect(dst.Min.X, dst.Min.Y-5, dst.Max.X, dst.Min.Y)
		case EdgeLeft:
			bar = image.Rect(dst.Min.X-5, dst.Min.Y, dst.Min.X, dst.Max.Y)
		case EdgeRight:
			bar = image.Rect(dst.Max.X, dst.Min.Y, dst.Max.X+5, dst.Max.Y)
		}
		draw.Draw(sheet, bar, blue, image.Point{}, draw.Src)
		if hz := im.Horizon; hz != nil {
			for _, v := range hz {
				y := dst.Min.Y + int(v*float64(h))
				draw.Draw(sheet, image.Rect(dst.Min.X-8, y-1, dst.Min.X-2, y+1), green, image.Point{}, draw.Src)
				draw.Draw(sheet, image.Rect(dst.Max.X+2, y-1, dst.Max.X+8, y+1), green, image.Point{}, draw.Src)
			}
		}
		facing := string(im.Facing)
		if facing == "" {
			facing = "-"
		}
		if im.Flip {
			facing += "/flip"
		}
		who := im.Theme
		if im.Character != "" {
			who += "/" + im.Character
		}
		lines := []string{
			im.File,
			fmt.Sprintf("%s %s", who, im.Role),
			fmt.Sprintf("%s min %dx%d w%.1f", facing, im.MinW, im.MinH, im.Weight),
		}
		for j, s := range lines {
			face.Draw(sheet, ox, oy+box+4+j*(face.Height()+3), s, color.Black)
		}
	}
	return sheet
}

func outline(dst draw.Image, r image.Rectangle, c image.Image, t int) {
	for _, e := range []image.Rectangle{
		{r.Min, image.Pt(r.Max.X, r.Min.Y+t)}, {image.Pt(r.Min.X, r.Max.Y-t), r.Max},
		{r.Min, image.Pt(r.Min.X+t, r.Max.Y)}, {image.Pt(r.Max.X-t, r.Min.Y), r.Max},
	} {
		draw.Draw(dst, e, c, image.Point{}, draw.Src)
	}
}
