package main

import "math"

// catPose draws the cat in profile, facing right.
type catPose struct {
	pose  string // sit, walk, pounce, sleep, arch, eat
	eyes  string // look, wide, shut
	extra string // "", bang, zzz, heart, yarn, bowl
}

func catHead(p *pen, x, y, s float64, eyes string) {
	// Ears, head, muzzle, whiskers.
	p.shape(func() {
		p.dc.MoveTo(x-9*s, y-5*s)
		p.dc.LineTo(x-8*s, y-17*s)
		p.dc.LineTo(x-1*s, y-9*s)
		p.dc.ClosePath()
	})
	p.shape(func() {
		p.dc.MoveTo(x+3*s, y-9*s)
		p.dc.LineTo(x+10*s, y-17*s)
		p.dc.LineTo(x+11*s, y-4*s)
		p.dc.ClosePath()
	})
	p.shape(func() { p.dc.DrawEllipse(x, y, 13*s, 11*s) })
	switch eyes {
	case "look":
		p.eye(x+1*s, y-2*s, 3.2*s, 1.2*s, 0)
		p.eye(x+8*s, y-2*s, 3.2*s, 1.2*s, 0)
	case "wide":
		p.eye(x+0.5*s, y-2.5*s, 4.2*s, 0, 0)
		p.eye(x+8.5*s, y-2.5*s, 4.2*s, 0, 0)
	case "shut":
		p.closedEye(x+1*s, y-3*s, 2.8*s)
		p.closedEye(x+8*s, y-3*s, 2.8*s)
	}
	p.dot(x+5*s, y+3*s, 1.5*s)
	p.line(thin, func() {
		p.dc.MoveTo(x+5*s, y+4*s)
		p.dc.QuadraticTo(x+3*s, y+7*s, x+1*s, y+5.5*s)
		p.dc.MoveTo(x+5*s, y+4*s)
		p.dc.QuadraticTo(x+7*s, y+7*s, x+9*s, y+5.5*s)
	})
	p.seg(thin*0.7, x+11*s, y+2*s, x+20*s, y)
	p.seg(thin*0.7, x+11*s, y+4*s, x+20*s, y+5*s)
}

func cat(p *pen, o catPose) {
	switch o.pose {
	case "sit":
		// Tail curling round the front, body a pear, head on top.
		p.line(thick, func() { p.dc.MoveTo(30, 92); p.dc.CubicTo(10, 95, 8, 70, 20, 62) })
		p.shape(func() {
			p.dc.MoveTo(34, 98)
			p.dc.CubicTo(20, 96, 22, 50, 46, 42)
			p.dc.CubicTo(66, 46, 72, 80, 66, 98)
			p.dc.ClosePath()
		})
		p.seg(thin, 56, 70, 58, 98)
		p.rrect(54, 92, 14, 7, 3)
		catHead(p, 52, 34, 1.5, o.eyes)
	case "walk":
		p.line(thick, func() { p.dc.MoveTo(22, 50); p.dc.CubicTo(8, 40, 10, 20, 18, 16) })
		legs := [][4]float64{{30, 60, 24, 98}, {40, 60, 44, 98}, {64, 60, 60, 98}, {72, 60, 78, 98}}
		for _, l := range legs {
			p.seg(thick, l[0], l[1], l[2], l[3])
		}
		p.shape(func() { p.dc.DrawEllipse(50, 56, 30, 13) })
		catHead(p, 80, 40, 1.35, o.eyes)
	case "pounce":
		p.rotate(-18, 50, 50, func() {
			p.line(thick, func() { p.dc.MoveTo(18, 54); p.dc.CubicTo(4, 56, 0, 40, 6, 30) })
			p.seg(thick, 26, 58, 12, 74)
			p.seg(thick, 34, 60, 24, 80)
			p.seg(thick, 66, 58, 86, 70)
			p.seg(thick, 72, 56, 92, 62)
			p.shape(func() { p.dc.DrawEllipse(46, 52, 30, 11) })
			catHead(p, 80, 42, 1.35, o.eyes)
		})
		p.motion(14, 70, 12, 7, 3)
	case "sleep":
		p.shape(func() { p.dc.DrawEllipse(50, 80, 36, 18) })
		p.line(thick, func() { p.dc.MoveTo(16, 84); p.dc.CubicTo(20, 100, 70, 100, 78, 90) })
		catHead(p, 68, 72, 1.2, "shut")
		p.zzz(80, 50, 7)
	case "arch":
		// Surprised: back arched, fur up, tail a bottle brush.
		p.line(thick, func() { p.dc.MoveTo(24, 58); p.dc.LineTo(14, 20) })
		for y := 24.0; y < 56; y += 6 {
			p.seg(thin, 17, y, 11, y-3)
			p.seg(thin, 19, y, 25, y-4)
		}
		for _, l := range [][4]float64{{28, 62, 22, 98}, {36, 62, 36, 98}, {64, 62, 64, 98}, {72, 62, 78, 98}} {
			p.seg(thick, l[0], l[1], l[2], l[3])
		}
		p.shape(func() {
			p.dc.MoveTo(22, 66)
			p.dc.CubicTo(24, 30, 72, 30, 76, 66)
			p.dc.ClosePath()
		})
		for x := 34.0; x < 66; x += 6 {
			p.seg(thin, x, 40, x+1, 35)
		}
		catHead(p, 82, 50, 1.3, "wide")
		p.bang(82, 8, 16)
	case "eat":
		p.line(thick, func() { p.dc.MoveTo(20, 60); p.dc.CubicTo(6, 50, 8, 30, 14, 26) })
		for _, l := range [][4]float64{{28, 64, 26, 98}, {38, 64, 40, 98}, {60, 64, 62, 98}, {68, 64, 70, 98}} {
			p.seg(thick, l[0], l[1], l[2], l[3])
		}
		p.shape(func() { p.dc.DrawEllipse(46, 60, 26, 12) })
		bowl(p, 82, 98, 1)
		catHead(p, 78, 72, 1.25, "shut")
	}
	switch o.extra {
	case "heart":
		p.heart(86, 14, 12, true)
	case "yarn":
		yarn(p, 88, 86, 11)
	}
}

func bowl(p *pen, cx, bottom, s float64) {
	p.solid(func() { p.dc.DrawEllipse(cx, bottom-10*s, 12*s, 3*s) })
	p.shape(func() {
		p.dc.MoveTo(cx-16*s, bottom-10*s)
		p.dc.LineTo(cx+16*s, bottom-10*s)
		p.dc.LineTo(cx+11*s, bottom)
		p.dc.LineTo(cx-11*s, bottom)
		p.dc.ClosePath()
	})
	p.seg(thin, cx-12*s, bottom-5*s, cx+12*s, bottom-5*s)
}

func yarn(p *pen, x, y, r float64) {
	p.circle(x, y, r)
	p.line(thin, func() {
		p.dc.DrawArc(x-r*0.6, y, r*0.9, -0.4*math.Pi, 0.4*math.Pi)
		p.dc.NewSubPath()
		p.dc.DrawArc(x+r*0.2, y+r*0.9, r*0.9, -0.9*math.Pi, -0.3*math.Pi)
	})
	p.line(thin, func() { p.dc.MoveTo(x-r, y+r*0.4); p.dc.CubicTo(x-r*2, y+r, x-r*2.5, y-r*0.2, x-r*3.5, y+r*0.6) })
}

func cats() []art {
	char := func(name string, size int, role string, o catPose, minCells int, weight float64) art {
		return art{name: name, theme: "cat", w: size, h: size,
			spec: imageSpec{Character: "cat", Role: role, Anchor: "bottom", Facing: "right", Flip: true,
				Horizon: hz(0.45, 0.8), MinW: minCells, MinH: minCells, Weight: weight},
			draw: func(p *pen) { cat(p, o) }}
	}
	return []art{
		char("cat-sit", 360, "reaction", catPose{pose: "sit", eyes: "look"}, 1, 1),
		char("cat-walk", 380, "action", catPose{pose: "walk", eyes: "look"}, 1, 1.5),
		char("cat-pounce", 400, "action", catPose{pose: "pounce", eyes: "wide"}, 1, 1),
		char("cat-sleep", 360, "closing", catPose{pose: "sleep"}, 1, 1.5),
		char("cat-arch", 380, "reaction", catPose{pose: "arch"}, 1, 1.5),
		char("cat-eat", 380, "closing", catPose{pose: "eat"}, 1, 1),
		char("cat-play", 400, "action", catPose{pose: "walk", eyes: "wide", extra: "yarn"}, 1, 1),
		char("cat-love", 360, "reaction", catPose{pose: "sit", eyes: "shut", extra: "heart"}, 1, 1),
		char("cat-pounce-big", 780, "action", catPose{pose: "pounce", eyes: "wide"}, 2, 1.5),
		char("cat-sit-big", 760, "closing", catPose{pose: "sit", eyes: "look"}, 2, 0.7),
		{name: "house", theme: "cat", w: 370, h: 390,
			spec: imageSpec{Role: "establishing", Anchor: "bottom", Horizon: hz(0.55, 0.92), Weight: 1.2}, draw: house},
		{name: "garden", theme: "cat", w: 880, h: 400,
			spec: imageSpec{Role: "establishing", Anchor: "bottom", MinW: 2, Horizon: hz(0.45, 0.8), Focal: &[4]int{160, 40, 560, 360}, Weight: 1.5}, draw: garden},
		{name: "night-window", theme: "cat", w: 360, h: 380,
			spec: imageSpec{Role: "closing", Anchor: "none", Weight: 1}, draw: nightWindow},
		{name: "sofa", theme: "cat", w: 700, h: 340,
			spec: imageSpec{Role: "establishing", Anchor: "bottom", MinW: 2, Weight: 1}, draw: sofa},
		{name: "yarn", theme: "cat", w: 260, h: 160,
			spec: imageSpec{Role: "action", Anchor: "bottom", Facing: "left", Flip: true, Weight: 0.5}, draw: func(p *pen) { yarn(p, 110, 70, 26) }},
		{name: "fishbowl", theme: "cat", w: 300, h: 320,
			spec: imageSpec{Role: "reaction", Anchor: "bottom", Weight: 0.7}, draw: fishbowl},
		{name: "mouse", theme: "cat", w: 300, h: 200,
			spec: imageSpec{Character: "mouse", Role: "action", Anchor: "bottom", Facing: "left", Flip: true, Horizon: hz(0.3, 0.8), Weight: 0.6}, draw: mouse},
	}
}

func house(p *pen) {
	p.shape(func() { p.dc.DrawRectangle(62, 14, 10, 22) })
	p.shape(func() { p.dc.DrawRectangle(14, 46, 66, 54) })
	p.shape(func() { p.dc.MoveTo(6, 48); p.dc.LineTo(47, 14); p.dc.LineTo(88, 48); p.dc.ClosePath() })
	p.rrect(38, 70, 18, 30, 1)
	p.dot(52, 86, 1.5)
	window := func(x, y float64) {
		p.rrect(x, y, 16, 14, 1)
		p.seg(thin, x+8, y, x+8, y+14)
		p.seg(thin, x, y+7, x+16, y+7)
	}
	window(19, 56)
	window(61, 56)
	p.circle(47, 34, 5)
	p.grass(0, 95, 100)
}

func garden(p *pen) {
	W := p.W()
	// A fence, a tree, a sun and a flower bed.
	for x := 4.0; x < W-4; x += 14 {
		p.shape(func() {
			p.dc.MoveTo(x, 100)
			p.dc.LineTo(x, 58)
			p.dc.LineTo(x+5, 52)
			p.dc.LineTo(x+10, 58)
			p.dc.LineTo(x+10, 100)
			p.dc.ClosePath()
		})
	}
	p.seg(thick, 0, 68, W, 68)
	p.seg(thick, 0, 88, W, 88)
	p.shape(func() { p.dc.DrawRectangle(150, 40, 10, 60) })
	for _, c := range [][3]float64{{140, 30, 16}, {170, 28, 16}, {155, 14, 16}, {155, 34, 14}} {
		p.circle(c[0], c[1], c[2])
	}
	p.circle(40, 20, 10)
	for i := 0; i < 8; i++ {
		a := float64(i) * math.Pi / 4
		p.seg(thin, 40+math.Cos(a)*14, 20+math.Sin(a)*14, 40+math.Cos(a)*19, 20+math.Sin(a)*19)
	}
	for _, x := range []float64{80, 96, 112} {
		p.seg(thin, x, 100, x, 80)
		for i := 0; i < 5; i++ {
			a := float64(i) * 2 * math.Pi / 5
			p.circle(x+math.Cos(a)*4, 78+math.Sin(a)*4, 3)
		}
		p.dot(x, 78, 2)
	}
}

func nightWindow(p *pen) {
	p.rrect(8, 6, 78, 78, 2)
	p.seg(thick, 47, 6, 47, 84)
	p.seg(thick, 8, 45, 86, 45)
	// A crescent moon and stars.
	p.solid(func() { p.dc.DrawCircle(28, 25, 10) })
	p.shape(func() { p.dc.DrawCircle(32, 22, 9) })
	for _, s := range [][2]float64{{66, 18}, {76, 32}, {60, 60}, {24, 66}, {74, 70}} {
		p.dot(s[0], s[1], 1.8)
		p.seg(thin*0.6, s[0]-4, s[1], s[0]+4, s[1])
		p.seg(thin*0.6, s[0], s[1]-4, s[0], s[1]+4)
	}
	p.rrect(2, 84, 90, 8, 1)
}

func sofa(p *pen) {
	W := p.W()
	p.rrect(14, 30, W-28, 44, 8)
	p.rrect(4, 46, 22, 48, 8)
	p.rrect(W-26, 46, 22, 48, 8)
	p.rrect(24, 62, (W-48)/2, 22, 4)
	p.rrect(24+(W-48)/2, 62, (W-48)/2, 22, 4)
	p.seg(thick, 16, 94, 16, 100)
	p.seg(thick, W-16, 94, W-16, 100)
	p.circle(W/2+30, 50, 8)
	// A lamp standing by the sofa.
	p.rrect(W/2-60, 6, 20, 10, 2)
}

func fishbowl(p *pen) {
	cx := p.W() / 2
	p.shape(func() {
		p.dc.DrawArc(cx, 54, 38, -0.3*math.Pi, 1.3*math.Pi)
		p.dc.ClosePath()
	})
	p.waves(cx-30, cx+30, 36, 3.5)
	// The goldfish.
	p.shape(func() { p.dc.DrawEllipse(cx-2, 60, 12, 8) })
	p.shape(func() { p.dc.MoveTo(cx+9, 60); p.dc.LineTo(cx+20, 52); p.dc.LineTo(cx+20, 68); p.dc.ClosePath() })
	p.dot(cx-8, 58, 1.8)
	p.circle(cx-18, 46, 2.5)
	p.circle(cx-14, 38, 2)
	p.rrect(cx-24, 92, 48, 7, 2)
}

func mouse(p *pen) {
	W := p.W()
	// Facing left: nose at the left.
	p.line(thick, func() { p.dc.MoveTo(W-40, 78); p.dc.CubicTo(W-10, 80, W-8, 50, W-20, 46) })
	p.shape(func() {
		p.dc.MoveTo(18, 76)
		p.dc.CubicTo(30, 40, W-60, 36, W-38, 90)
		p.dc.LineTo(40, 90)
		p.dc.ClosePath()
	})
	p.circle(62, 44, 13)
	p.dot(30, 64, 2.5)
	p.dot(16, 76, 3)
	p.seg(thin*0.7, 18, 74, 4, 68)
	p.seg(thin*0.7, 18, 78, 4, 82)
	p.seg(thick, 50, 90, 48, 98)
	p.seg(thick, 90, 90, 92, 98)
}
