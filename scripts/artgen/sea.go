package main

import "math"

// whalePose draws the whale facing right.
type whalePose struct {
	pose  string // swim, jump, spout, sleep, wide
	extra string // "", bang, zzz, heart, fish
}

func whaleBody(p *pen, eye string, smile bool) {
	// Tail fluke at the left, a round head at the right.
	p.shape(func() {
		p.dc.MoveTo(16, 44)
		p.dc.LineTo(4, 30)
		p.dc.QuadraticTo(14, 32, 20, 40)
		p.dc.QuadraticTo(22, 28, 32, 24)
		p.dc.QuadraticTo(28, 38, 24, 50)
		p.dc.ClosePath()
	})
	p.shape(func() {
		p.dc.MoveTo(22, 52)
		p.dc.CubicTo(30, 30, 60, 22, 80, 30)
		p.dc.CubicTo(98, 38, 98, 70, 82, 76)
		p.dc.CubicTo(60, 84, 34, 76, 22, 52)
		p.dc.ClosePath()
	})
	// Belly grooves and a flipper.
	for i := 0; i < 3; i++ {
		y := 66 + float64(i)*4
		p.seg(thin*0.8, 58+float64(i)*2, y, 86-float64(i)*4, y-2)
	}
	p.shape(func() {
		p.dc.MoveTo(52, 62)
		p.dc.QuadraticTo(48, 76, 40, 80)
		p.dc.QuadraticTo(52, 78, 60, 64)
		p.dc.ClosePath()
	})
	switch eye {
	case "look":
		p.eye(78, 48, 4.2, 1.5, 0)
	case "wide":
		p.eye(78, 47, 5.8, 0, 0)
	case "shut":
		p.closedEye(78, 47, 4)
	}
	if smile {
		p.line(thin, func() { p.dc.MoveTo(84, 60); p.dc.QuadraticTo(90, 62, 94, 56) })
	}
}

func whale(p *pen, o whalePose) {
	switch o.pose {
	case "swim":
		whaleBody(p, "look", true)
		p.waves(0, 100, 82, 4)
	case "spout":
		for _, a := range []float64{-0.5, -0.2, 0.1, 0.4} {
			p.line(thin, func() {
				p.dc.MoveTo(70, 26)
				p.dc.QuadraticTo(70+a*10, 10, 70+a*30, 8+math.Abs(a)*10)
			})
		}
		p.dc.Push()
		whaleBody(p, "look", true)
		p.dc.Pop()
		p.waves(0, 100, 82, 4)
	case "jump":
		p.rotate(-30, 50, 50, func() { whaleBody(p, "wide", true) })
		for _, d := range [][3]float64{{14, 90, 4}, {24, 84, 3}, {80, 92, 4}, {90, 84, 3}} {
			p.circle(d[0], d[1], d[2])
		}
		p.waves(0, 100, 96, 3.5)
	case "wide":
		whaleBody(p, "wide", false)
		p.circle(88, 66, 2.5)
		p.waves(0, 100, 82, 4)
		p.bang(60, 4, 16)
	case "sleep":
		whaleBody(p, "shut", true)
		p.waves(0, 100, 82, 4)
		p.zzz(84, 20, 7)
	}
	switch o.extra {
	case "heart":
		p.heart(50, 14, 12, true)
	case "fish":
		smallFish(p, 8, 16, 0.8)
		smallFish(p, 18, 8, 0.6)
	}
}

func smallFish(p *pen, x, y, s float64) {
	p.shape(func() { p.dc.DrawEllipse(x+8*s, y, 8*s, 5*s) })
	p.shape(func() { p.dc.MoveTo(x+1*s, y); p.dc.LineTo(x-6*s, y-5*s); p.dc.LineTo(x-6*s, y+5*s); p.dc.ClosePath() })
	p.dot(x+12*s, y-1*s, 1.3)
}

func sea() []art {
	char := func(name string, size int, role string, o whalePose, minCells int, weight float64) art {
		return art{name: name, theme: "sea", w: size, h: size,
			spec: imageSpec{Character: "whale", Role: role, Anchor: "bottom", Facing: "right", Flip: true,
				Horizon: hz(0.3, 0.8), MinW: minCells, MinH: minCells, Weight: weight},
			draw: func(p *pen) { whale(p, o) }}
	}
	return []art{
		char("whale-swim", 390, "action", whalePose{pose: "swim"}, 1, 1.5),
		char("whale-spout", 390, "closing", whalePose{pose: "spout"}, 1, 1.2),
		char("whale-jump", 400, "action", whalePose{pose: "jump"}, 1, 1.2),
		char("whale-surprised", 390, "reaction", whalePose{pose: "wide"}, 1, 1.5),
		char("whale-sleep", 390, "closing", whalePose{pose: "sleep"}, 1, 1),
		char("whale-friends", 390, "reaction", whalePose{pose: "swim", extra: "fish"}, 1, 1),
		char("whale-love", 390, "reaction", whalePose{pose: "swim", extra: "heart"}, 1, 0.8),
		char("whale-jump-big", 780, "action", whalePose{pose: "jump"}, 2, 1.5),
		{name: "lighthouse", theme: "sea", w: 360, h: 430,
			spec: imageSpec{Role: "establishing", Anchor: "bottom", Horizon: hz(0.5, 0.9), Weight: 1.3}, draw: lighthouse},
		{name: "island", theme: "sea", w: 860, h: 380,
			spec: imageSpec{Role: "establishing", Anchor: "bottom", MinW: 2, Horizon: hz(0.45, 0.9), Focal: &[4]int{220, 20, 420, 340}, Weight: 1.3}, draw: island},
		{name: "sailboat", theme: "sea", w: 360, h: 400,
			spec: imageSpec{Character: "boat", Role: "action", Anchor: "bottom", Facing: "right", Flip: true, Horizon: hz(0.4, 0.85), Weight: 0.8}, draw: sailboat},
		{name: "sunset", theme: "sea", w: 860, h: 360,
			spec: imageSpec{Role: "closing", Anchor: "bottom", MinW: 2, Horizon: hz(0.45, 0.85), Focal: &[4]int{230, 40, 400, 300}, Weight: 1.2}, draw: sunset},
		{name: "octopus", theme: "sea", w: 340, h: 360,
			spec: imageSpec{Character: "octopus", Role: "reaction", Anchor: "bottom", Facing: "left", Flip: true, Weight: 0.7}, draw: octopus},
		{name: "fish-school", theme: "sea", w: 380, h: 260,
			spec: imageSpec{Role: "action", Anchor: "none", Facing: "right", Flip: true, Weight: 0.6}, draw: fishSchool},
		{name: "treasure", theme: "sea", w: 340, h: 300,
			spec: imageSpec{Role: "reaction", Anchor: "bottom", Weight: 0.6}, draw: treasure},
		{name: "gull", theme: "sea", w: 300, h: 200,
			spec: imageSpec{Character: "gull", Role: "action", Anchor: "none", Facing: "left", Flip: true, Weight: 0.5}, draw: gull},
	}
}

func lighthouse(p *pen) {
	cx := p.W() / 2
	// Beams first, tower over them, rocks and water at the foot.
	p.line(thin, func() { p.dc.MoveTo(cx+8, 18); p.dc.LineTo(cx+40, 8); p.dc.MoveTo(cx+8, 24); p.dc.LineTo(cx+40, 32) })
	p.line(thin, func() { p.dc.MoveTo(cx-8, 18); p.dc.LineTo(cx-40, 8); p.dc.MoveTo(cx-8, 24); p.dc.LineTo(cx-40, 32) })
	p.shape(func() {
		p.dc.MoveTo(cx-14, 86)
		p.dc.LineTo(cx-9, 30)
		p.dc.LineTo(cx+9, 30)
		p.dc.LineTo(cx+14, 86)
		p.dc.ClosePath()
	})
	p.solid(func() {
		p.dc.MoveTo(cx-11.5, 58)
		p.dc.LineTo(cx-10.5, 46)
		p.dc.LineTo(cx+10.5, 46)
		p.dc.LineTo(cx+11.5, 58)
		p.dc.ClosePath()
	})
	p.rrect(cx-9, 14, 18, 16, 1)
	p.seg(thin, cx-9, 22, cx+9, 22)
	p.shape(func() { p.dc.MoveTo(cx-12, 14); p.dc.LineTo(cx, 4); p.dc.LineTo(cx+12, 14); p.dc.ClosePath() })
	p.rrect(cx-13, 29, 26, 4, 1)
	p.rrect(cx-4, 72, 8, 14, 1)
	p.shape(func() {
		p.dc.MoveTo(cx-40, 100)
		p.dc.QuadraticTo(cx-36, 84, cx-20, 84)
		p.dc.LineTo(cx+22, 84)
		p.dc.QuadraticTo(cx+38, 86, cx+42, 100)
		p.dc.ClosePath()
	})
	p.waves(cx-50, cx-36, 96, 3)
	p.waves(cx+38, cx+50, 96, 3)
}

func island(p *pen) {
	W := p.W()
	p.waves(0, W, 80, 5)
	p.shape(func() { p.dc.MoveTo(60, 82); p.dc.QuadraticTo(110, 50, 160, 82); p.dc.ClosePath() })
	// A palm tree leaning right.
	p.line(thick, func() { p.dc.MoveTo(104, 68); p.dc.QuadraticTo(110, 40, 124, 20) })
	p.line(thick*0.6, func() { p.dc.MoveTo(106, 62); p.dc.LineTo(112, 60); p.dc.MoveTo(110, 48); p.dc.LineTo(117, 46) })
	for _, a := range []float64{-160, -120, -60, -20, 20} {
		r := gRad(a)
		p.shape(func() {
			p.dc.MoveTo(124, 20)
			p.dc.QuadraticTo(124+math.Cos(r-0.3)*16, 20+math.Sin(r-0.3)*16-4, 124+math.Cos(r)*26, 20+math.Sin(r)*26+6)
			p.dc.QuadraticTo(124+math.Cos(r+0.3)*14, 20+math.Sin(r+0.3)*14, 124, 20)
			p.dc.ClosePath()
		})
	}
	p.circle(120, 26, 3)
	p.circle(127, 27, 3)
	p.waves(10, W-10, 94, 4)
	// Far birds.
	for _, b := range [][2]float64{{40, 20}, {52, 14}, {190, 24}} {
		p.line(thin, func() {
			p.dc.MoveTo(b[0]-5, b[1])
			p.dc.QuadraticTo(b[0]-2, b[1]-4, b[0], b[1])
			p.dc.QuadraticTo(b[0]+2, b[1]-4, b[0]+5, b[1])
		})
	}
}

func gRad(deg float64) float64 { return deg * math.Pi / 180 }

func sailboat(p *pen) {
	p.shape(func() { p.dc.MoveTo(46, 12); p.dc.LineTo(46, 70); p.dc.LineTo(82, 70); p.dc.ClosePath() })
	p.shape(func() { p.dc.MoveTo(42, 20); p.dc.LineTo(42, 70); p.dc.LineTo(18, 70); p.dc.ClosePath() })
	p.seg(thick, 44, 8, 44, 74)
	p.shape(func() { p.dc.DrawRectangle(40, 4, 12, 6) })
	p.shape(func() {
		p.dc.MoveTo(8, 74)
		p.dc.LineTo(92, 74)
		p.dc.LineTo(80, 90)
		p.dc.LineTo(18, 90)
		p.dc.ClosePath()
	})
	p.circle(30, 81, 3)
	p.circle(46, 81, 3)
	p.circle(62, 81, 3)
	p.waves(0, 100, 94, 4)
}

func sunset(p *pen) {
	W := p.W()
	cx := W / 2
	p.shape(func() { p.dc.DrawArc(cx, 70, 34, math.Pi, 2*math.Pi); p.dc.ClosePath() })
	for i := 0; i < 9; i++ {
		a := math.Pi + float64(i+1)*math.Pi/10
		p.seg(thin, cx+math.Cos(a)*42, 70+math.Sin(a)*42, cx+math.Cos(a)*54, 70+math.Sin(a)*54)
	}
	p.seg(thick, 0, 70, W, 70)
	p.waves(cx-50, cx+50, 80, 4)
	p.waves(cx-30, cx+30, 90, 3)
	p.waves(10, 60, 96, 3)
	p.waves(W-70, W-10, 96, 3)
}

func octopus(p *pen) {
	cx := p.W() / 2
	for i := 0; i < 6; i++ {
		x := cx - 30 + float64(i)*12
		dir := 1.0
		if i%2 == 1 {
			dir = -1
		}
		p.line(thick, func() { p.dc.MoveTo(x, 60); p.dc.CubicTo(x+8*dir, 74, x-8*dir, 86, x+6*dir, 98) })
	}
	p.shape(func() {
		p.dc.MoveTo(cx-34, 66)
		p.dc.CubicTo(cx-40, 10, cx+40, 10, cx+34, 66)
		p.dc.QuadraticTo(cx, 74, cx-34, 66)
		p.dc.ClosePath()
	})
	// Looking left.
	p.eye(cx-14, 40, 6, -2.5, 0)
	p.eye(cx+4, 40, 6, -2.5, 0)
	p.line(thin, func() { p.dc.DrawArc(cx-5, 50, 6, 0.2*math.Pi, 0.8*math.Pi) })
	p.circle(cx+18, 24, 2.5)
	p.circle(cx+24, 30, 2)
}

func fishSchool(p *pen) {
	W := p.W()
	for i, f := range [][3]float64{{20, 30, 1.4}, {60, 20, 1.1}, {50, 60, 1.5}, {100, 44, 1.2}, {90, 80, 1}, {W - 30, 66, 1.3}} {
		if i == 2 {
			p.shape(func() { p.dc.DrawEllipse(f[0]+8*f[2]+4, f[1], 4, 3) }) // a bubble trail start
		}
		smallFish(p, f[0], f[1], f[2]*1.6)
	}
}

func treasure(p *pen) {
	W := p.W()
	cx := W / 2
	for _, c := range [][2]float64{{cx - 30, 94}, {cx + 32, 95}, {cx + 44, 92}} {
		p.circle(c[0], c[1], 5)
	}
	p.rrect(cx-34, 50, 68, 44, 3)
	// The open lid and the glitter.
	p.shape(func() {
		p.dc.MoveTo(cx-34, 50)
		p.dc.LineTo(cx-40, 24)
		p.dc.QuadraticTo(cx, 12, cx+40, 24)
		p.dc.LineTo(cx+34, 50)
		p.dc.ClosePath()
	})
	p.seg(thick, cx-34, 64, cx+34, 64)
	p.rrect(cx-6, 58, 12, 14, 2)
	for _, s := range [][2]float64{{cx - 20, 8}, {cx + 26, 6}, {cx + 4, 2}} {
		p.seg(thin, s[0]-4, s[1]+4, s[0]+4, s[1]+4)
		p.seg(thin, s[0], s[1], s[0], s[1]+8)
	}
}

func gull(p *pen) {
	W := p.W()
	// Wings up, facing left.
	p.shape(func() {
		p.dc.MoveTo(W/2, 56)
		p.dc.QuadraticTo(W/2-30, 10, W/2-70, 30)
		p.dc.QuadraticTo(W/2-40, 36, W/2-10, 62)
		p.dc.ClosePath()
	})
	p.shape(func() {
		p.dc.MoveTo(W/2, 56)
		p.dc.QuadraticTo(W/2+30, 8, W/2+66, 20)
		p.dc.QuadraticTo(W/2+36, 34, W/2+14, 62)
		p.dc.ClosePath()
	})
	p.shape(func() { p.dc.DrawEllipse(W/2, 66, 22, 11) })
	p.circle(W/2-22, 60, 9)
	p.shape(func() { p.dc.MoveTo(W/2-30, 58); p.dc.LineTo(W/2-44, 63); p.dc.LineTo(W/2-30, 64); p.dc.ClosePath() })
	p.dot(W/2-24, 57, 1.8)
}
