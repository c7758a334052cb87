package main

import "math"

// art is one drawing of the pack.
type art struct {
	name, theme string
	w, h        int
	spec        imageSpec
	draw        func(p *pen)
}

func hz(lo, hi float64) *[2]float64 { return &[2]float64{lo, hi} }

func drawings() []art {
	var out []art
	out = append(out, robots()...)
	out = append(out, cats()...)
	out = append(out, sea()...)
	return out
}

// bot is the robot. Poses are combinations of legs, arms, eyes and extras.
type botPose struct {
	legs   string // stand, walk, run, sit
	arms   string // down, wave, up, forward, swing
	eyes   string // look, wide, shut
	mouth  string // line, o, smile
	extra  string // "", bang, zzz, heart, sparks, battery
	tilt   float64
	motion bool
}

func bot(p *pen, o botPose) {
	cx := 50.0
	top := 6.0
	if o.legs == "sit" {
		top = 22
	}
	body := func() {
		// Legs first so the body covers their tops.
		switch o.legs {
		case "stand":
			p.rrect(cx-13, top+66, 8, 22, 2)
			p.rrect(cx+5, top+66, 8, 22, 2)
			p.rrect(cx-16, top+86, 13, 8, 3)
			p.rrect(cx+4, top+86, 13, 8, 3)
		case "walk", "run":
			spread := 10.0
			if o.legs == "run" {
				spread = 17
			}
			p.seg(thick, cx-6, top+66, cx-6-spread, top+90)
			p.seg(thick, cx+6, top+66, cx+6+spread, top+88)
			p.rrect(cx-6-spread-8, top+86, 13, 8, 3)
			p.rrect(cx+6+spread-3, top+84, 13, 8, 3)
		case "sit":
			p.rrect(cx-14, top+58, 36, 9, 3)
			p.rrect(cx+18, top+58, 9, 20, 3)
		}
		// Arms behind the body.
		arm := func(x1, y1, x2, y2 float64) {
			p.seg(thick, x1, y1, x2, y2)
			p.circle(x2, y2, 4.5)
		}
		switch o.arms {
		case "down":
			arm(cx-20, top+42, cx-27, top+62)
			arm(cx+20, top+42, cx+27, top+62)
		case "swing":
			arm(cx-20, top+42, cx-32, top+56)
			arm(cx+20, top+42, cx+30, top+60)
		case "wave":
			arm(cx-20, top+42, cx-27, top+62)
			arm(cx+20, top+42, cx+34, top+24)
		case "up":
			arm(cx-20, top+42, cx-34, top+22)
			arm(cx+20, top+42, cx+34, top+22)
		case "forward":
			arm(cx-20, top+42, cx+2, top+52)
			arm(cx+20, top+42, cx+36, top+50)
		}
		// Body with a chest dial.
		p.rrect(cx-21, top+36, 42, 32, 5)
		p.rrect(cx-9, top+44, 18, 12, 2)
		p.seg(thin, cx-5, top+53, cx+4, top+47)
		p.dot(cx-12, top+62, 1.6)
		p.dot(cx-6, top+62, 1.6)
		// Neck, head, antenna.
		p.seg(thick, cx, top+30, cx, top+36)
		p.line(thick, func() { p.dc.MoveTo(cx, top+4); p.dc.LineTo(cx, top-3) })
		p.circle(cx, top-4, 3.2)
		p.rrect(cx-19, top+3, 38, 28, 6)
		switch o.eyes {
		case "look":
			p.eye(cx+1, top+15, 5.2, 2, 0)
			p.eye(cx+13, top+15, 5.2, 2, 0)
		case "wide":
			p.eye(cx+1, top+14, 6.8, 0, 0)
			p.eye(cx+14, top+14, 6.8, 0, 0)
		case "shut":
			p.closedEye(cx+1, top+14, 4.5)
			p.closedEye(cx+13, top+14, 4.5)
		}
		switch o.mouth {
		case "line":
			p.seg(thin, cx+3, top+25, cx+13, top+25)
		case "o":
			p.circle(cx+8, top+25, 2.6)
		case "smile":
			p.line(thin, func() { p.dc.DrawArc(cx+8, top+21, 5, 0.2*math.Pi, 0.8*math.Pi) })
		}
		// A side bolt: the head is seen from the front-right.
		p.dot(cx-19, top+16, 2.6)
	}
	if o.tilt != 0 {
		p.rotate(o.tilt, cx, 60, body)
	} else {
		body()
	}
	switch o.extra {
	case "bang":
		p.bang(cx+30, 4, 16)
	case "zzz":
		p.zzz(cx+22, top-2, 7)
	case "heart":
		p.heart(cx+30, 12, 12, true)
	case "sparks":
		for i := 0; i < 5; i++ {
			a := -math.Pi/2 + (float64(i)-2)*0.45
			p.seg(thin, cx+math.Cos(a)*10, top-4+math.Sin(a)*10, cx+math.Cos(a)*17, top-4+math.Sin(a)*17)
		}
	case "battery":
		p.rrect(cx+6, top+40, 30, 16, 3)
		p.rrect(cx+36, top+44, 4, 8, 1)
		p.seg(thin, cx+13, top+48, cx+19, top+48)
		p.seg(thin, cx+16, top+45, cx+16, top+51)
		p.seg(thin, cx+25, top+48, cx+31, top+48)
	}
	if o.motion {
		p.motion(cx-30, top+30, 16, 9, 4)
	}
}

func robots() []art {
	char := func(name string, size int, role string, facing string, o botPose, minCells int, weight float64) art {
		return art{name: name, theme: "robots", w: size, h: size,
			spec: imageSpec{Character: "bot", Role: role, Anchor: "bottom", Facing: facing, Flip: true,
				Horizon: hz(0.45, 0.85), MinW: minCells, MinH: minCells, Weight: weight},
			draw: func(p *pen) { bot(p, o) }}
	}
	out := []art{
		char("bot-stand", 380, "reaction", "right", botPose{legs: "stand", arms: "down", eyes: "look", mouth: "line"}, 1, 1),
		char("bot-walk", 380, "action", "right", botPose{legs: "walk", arms: "swing", eyes: "look", mouth: "smile"}, 1, 1.5),
		char("bot-run", 380, "action", "right", botPose{legs: "run", arms: "swing", eyes: "wide", mouth: "o", motion: true}, 1, 1),
		char("bot-wave", 380, "closing", "right", botPose{legs: "stand", arms: "wave", eyes: "look", mouth: "smile"}, 1, 1),
		char("bot-surprised", 380, "reaction", "right", botPose{legs: "stand", arms: "up", eyes: "wide", mouth: "o", extra: "bang"}, 1, 1.5),
		char("bot-sleep", 380, "closing", "right", botPose{legs: "sit", arms: "down", eyes: "shut", mouth: "line", extra: "zzz"}, 1, 1),
		char("bot-fall", 400, "action", "right", botPose{legs: "run", arms: "up", eyes: "wide", mouth: "o", tilt: 28, extra: "sparks"}, 1, 1),
		char("bot-carry", 380, "action", "right", botPose{legs: "walk", arms: "forward", eyes: "look", mouth: "line", extra: "battery"}, 1, 1),
		char("bot-love", 380, "reaction", "right", botPose{legs: "stand", arms: "down", eyes: "look", mouth: "smile", extra: "heart"}, 1, 1),
		char("bot-run-big", 760, "action", "right", botPose{legs: "run", arms: "swing", eyes: "wide", mouth: "o", motion: true}, 2, 1.5),
		char("bot-surprised-big", 760, "reaction", "right", botPose{legs: "stand", arms: "up", eyes: "wide", mouth: "o", extra: "bang"}, 2, 1),
		{name: "workshop", theme: "robots", w: 880, h: 420,
			spec: imageSpec{Role: "establishing", Anchor: "bottom", MinW: 2, Focal: &[4]int{180, 60, 520, 360}, Weight: 1.5},
			draw: workshop},
		{name: "city", theme: "robots", w: 900, h: 380,
			spec: imageSpec{Role: "establishing", Anchor: "bottom", MinW: 2, Horizon: hz(0.5, 0.9), Focal: &[4]int{250, 40, 400, 340}, Weight: 1.5},
			draw: city},
		{name: "rocket", theme: "robots", w: 300, h: 410,
			spec: imageSpec{Role: "closing", Anchor: "bottom", Horizon: hz(0.55, 0.9)},
			draw: rocket},
		{name: "battery", theme: "robots", w: 220, h: 300,
			spec: imageSpec{Role: "action", Anchor: "none", Weight: 0.6},
			draw: battery},
		{name: "lightbulb", theme: "robots", w: 240, h: 320,
			spec: imageSpec{Role: "reaction", Anchor: "none", Weight: 0.8},
			draw: lightbulb},
		{name: "factory", theme: "robots", w: 370, h: 370,
			spec: imageSpec{Role: "establishing", Anchor: "bottom", Horizon: hz(0.5, 0.9), Weight: 1},
			draw: factory},
	}
	return out
}

func workshop(p *pen) {
	W := p.W()
	// Back wall with a window and a tool board.
	p.rrect(8, 8, 42, 32, 2)
	p.seg(thin, 29, 8, 29, 40)
	p.seg(thin, 8, 24, 50, 24)
	p.rrect(70, 10, 60, 30, 2)
	for i, x := range []float64{80, 95, 110, 122} {
		switch i % 3 {
		case 0: // wrench
			p.seg(thick, x, 16, x, 34)
			p.circle(x, 16, 3.5)
		case 1: // hammer
			p.seg(thick, x, 20, x, 36)
			p.rrect(x-6, 14, 12, 6, 1)
		default: // saw
			p.shape(func() { p.dc.MoveTo(x-3, 14); p.dc.LineTo(x+4, 14); p.dc.LineTo(x+4, 36); p.dc.ClosePath() })
		}
	}
	// Workbench with a vice and a half-built robot head.
	p.rrect(4, 62, W-8, 8, 1)
	p.seg(thick, 12, 70, 12, 100)
	p.seg(thick, W-12, 70, W-12, 100)
	p.seg(thin, 12, 86, W-12, 86)
	p.rrect(100, 44, 26, 18, 4)
	p.eye(108, 53, 3.5, 0, 0)
	p.eye(119, 53, 3.5, 0, 0)
	p.rrect(150, 50, 20, 12, 2)
	p.seg(thick, 160, 50, 160, 42)
	p.circle(160, 41, 3)
	// Gears on the floor.
	gear(p, 60, 88, 9)
	gear(p, 76, 92, 6)
	p.seg(thick, 0, 99, W, 99)
}

func gear(p *pen, x, y, r float64) {
	p.shape(func() {
		n := 8
		for i := 0; i < 2*n; i++ {
			a := float64(i) * math.Pi / float64(n)
			rr := r
			if i%2 == 0 {
				rr = r * 1.3
			}
			a0, a1 := a-0.18, a+0.18
			if i == 0 {
				p.dc.MoveTo(x+rr*math.Cos(a0), y+rr*math.Sin(a0))
			} else {
				p.dc.LineTo(x+rr*math.Cos(a0), y+rr*math.Sin(a0))
			}
			p.dc.LineTo(x+rr*math.Cos(a1), y+rr*math.Sin(a1))
		}
		p.dc.ClosePath()
	})
	p.circle(x, y, r*0.35)
}

func city(p *pen) {
	W := p.W()
	type b struct{ x, w, h float64 }
	for _, bl := range []b{{4, 26, 55}, {30, 22, 80}, {52, 30, 45}, {82, 18, 92}, {100, 34, 62}, {134, 20, 75}, {154, 30, 50}, {184, 28, 68}, {212, 20, 40}} {
		if bl.x+bl.w > W {
			continue
		}
		top := 100 - bl.h
		p.shape(func() { p.dc.DrawRectangle(bl.x, top, bl.w, bl.h) })
		for y := top + 6; y < 92; y += 10 {
			for x := bl.x + 4; x+5 < bl.x+bl.w; x += 8 {
				p.solid(func() { p.dc.DrawRectangle(x, y, 4, 5) })
			}
		}
	}
	// An antenna tower with a blinking light.
	p.seg(thick, 91, 8, 91, 0)
	p.dot(91, 2, 3)
	p.line(thin, func() { p.dc.DrawArc(91, 2, 7, -0.9*math.Pi, -0.1*math.Pi) })
}

func rocket(p *pen) {
	cx := p.W() / 2
	// Fins, body, window, flame-less on its pad.
	p.shape(func() { p.dc.MoveTo(cx-12, 62); p.dc.LineTo(cx-24, 84); p.dc.LineTo(cx-12, 80); p.dc.ClosePath() })
	p.shape(func() { p.dc.MoveTo(cx+12, 62); p.dc.LineTo(cx+24, 84); p.dc.LineTo(cx+12, 80); p.dc.ClosePath() })
	p.shape(func() {
		p.dc.MoveTo(cx, 4)
		p.dc.CubicTo(cx+18, 20, cx+14, 60, cx+12, 84)
		p.dc.LineTo(cx-12, 84)
		p.dc.CubicTo(cx-14, 60, cx-18, 20, cx, 4)
		p.dc.ClosePath()
	})
	p.circle(cx, 36, 6)
	p.seg(thin, cx-13, 56, cx+13, 56)
	p.rrect(cx-28, 86, 56, 8, 1)
	p.seg(thick, cx-22, 94, cx-22, 100)
	p.seg(thick, cx+22, 94, cx+22, 100)
}

func battery(p *pen) {
	cx := p.W() / 2
	p.rrect(cx-20, 14, 40, 76, 6)
	p.rrect(cx-8, 6, 16, 8, 2)
	p.seg(thick, cx-7, 32, cx+7, 32)
	p.seg(thick, cx, 25, cx, 39)
	p.seg(thick, cx-7, 72, cx+7, 72)
	// Charge bars and a little spark.
	for i := 0; i < 3; i++ {
		p.solid(func() { p.dc.DrawRectangle(cx-12, 44+float64(i)*7, 24, 4) })
	}
}

func lightbulb(p *pen) {
	cx := p.W() / 2
	for i := 0; i < 7; i++ {
		a := math.Pi + float64(i)*math.Pi/6
		p.seg(thin, cx+math.Cos(a)*32, 40+math.Sin(a)*32, cx+math.Cos(a)*42, 40+math.Sin(a)*42)
	}
	p.shape(func() {
		p.dc.DrawArc(cx, 40, 22, 0.75*math.Pi, 2.25*math.Pi)
		p.dc.LineTo(cx+9, 74)
		p.dc.LineTo(cx-9, 74)
		p.dc.ClosePath()
	})
	p.line(thin, func() {
		p.dc.MoveTo(cx-6, 60)
		p.dc.LineTo(cx-3, 44)
		p.dc.LineTo(cx, 52)
		p.dc.LineTo(cx+3, 44)
		p.dc.LineTo(cx+6, 60)
	})
	p.rrect(cx-10, 74, 20, 14, 2)
	p.seg(thin, cx-10, 79, cx+10, 79)
	p.seg(thin, cx-10, 84, cx+10, 84)
	p.shape(func() { p.dc.DrawRoundedRectangle(cx-5, 88, 10, 5, 2) })
}

func factory(p *pen) {
	// A saw-tooth roof factory with a smoking chimney.
	p.shape(func() { p.dc.DrawRectangle(70, 10, 12, 50) })
	for i, r := range []float64{6, 8, 10} {
		p.circle(86+float64(i)*8, 4-float64(i)*0.5+6, r*0.7)
	}
	p.shape(func() {
		p.dc.MoveTo(6, 100)
		p.dc.LineTo(6, 55)
		p.dc.LineTo(26, 40)
		p.dc.LineTo(26, 55)
		p.dc.LineTo(46, 40)
		p.dc.LineTo(46, 55)
		p.dc.LineTo(66, 40)
		p.dc.LineTo(66, 55)
		p.dc.LineTo(94, 55)
		p.dc.LineTo(94, 100)
		p.dc.ClosePath()
	})
	for x := 12.0; x < 60; x += 16 {
		p.rrect(x, 64, 10, 10, 1)
	}
	p.rrect(70, 72, 16, 28, 1)
	gear(p, 78, 64, 4)
}
