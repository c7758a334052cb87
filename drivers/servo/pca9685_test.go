package servo

import (
	"strings"
	"testing"
	"time"

	"periph.io/x/conn/v3/i2c/i2ctest"
	"periph.io/x/conn/v3/physic"
)

// pcaInit is what periph's pca9685.NewI2C (devices v3.7.4) sends, per the
// datasheet register map, followed by our PRE_SCALE read-back:
//
//	ALL_LED_ON/OFF = 0, MODE2 = OUTDRV, MODE1 = ALLCALL, read MODE1,
//	MODE1 |= AI (auto-increment) with SLEEP cleared, then SetPwmFreq(50 Hz):
//	read MODE1, MODE1 = SLEEP (prescale is only writable asleep),
//	PRE_SCALE = 122 (periph: (25 MHz/4096 + 25)/50), MODE1 back, MODE1 |= RESTART.
//
// Then ours: ALL_LED full off (ALL_LED_OFF_H bit 4), because periph's first
// write leaves ON = OFF = 0 on every channel. Cross-checked by reading
// Adafruit_PWMServoDriver.cpp (Adafruit-PWM-Servo-Driver-Library): setPWM(num,
// on, off) writes [0x06+4·num, on, on>>8, off, off>>8] and setPin(num, 0)
// is setPWM(num, 0, 4096); with num = 61 (0x06+4·61 = 0xFA, ALLLED_ON_L in
// its header) that is exactly FA 00 00 00 10.
func pcaInit(addr uint16) []i2ctest.IO {
	return []i2ctest.IO{
		{Addr: addr, W: []byte{0xFA, 0, 0, 0, 0}},
		{Addr: addr, W: []byte{0x01, 0x04}},
		{Addr: addr, W: []byte{0x00, 0x01}},
		{Addr: addr, W: []byte{0x00}, R: []byte{0x01}},
		{Addr: addr, W: []byte{0x00, 0x21}},
		{Addr: addr, W: []byte{0x00}, R: []byte{0x21}},
		{Addr: addr, W: []byte{0x00, 0x31}},
		{Addr: addr, W: []byte{0xFE, 0x7A}},
		{Addr: addr, W: []byte{0x00, 0x21}},
		{Addr: addr, W: []byte{0x00, 0xA1}},
		{Addr: addr, W: []byte{0xFE}, R: []byte{0x7A}},
		{Addr: addr, W: []byte{0xFA, 0x00, 0x00, 0x00, 0x10}},
	}
}

func TestPCA9685Playback(t *testing.T) {
	ops := append(pcaInit(0x40),
		// Channel 3 (LED3_ON_L = 0x06 + 4*3 = 0x12): on at 0, off at
		// round(1500 µs / 4.92 µs) = 305 = 0x131.
		i2ctest.IO{Addr: 0x40, W: []byte{0x12, 0x00, 0x00, 0x31, 0x01}},
		// +90°: 2500 µs → 508 = 0x1FC.
		i2ctest.IO{Addr: 0x40, W: []byte{0x12, 0x00, 0x00, 0xFC, 0x01}},
		// -90°: 500 µs → 102 = 0x66.
		i2ctest.IO{Addr: 0x40, W: []byte{0x12, 0x00, 0x00, 0x66, 0x00}},
		// Halt: LED3_OFF_H full-off bit.
		i2ctest.IO{Addr: 0x40, W: []byte{0x15, 0x10}},
		// Controller halt: ALL_LED_OFF_H full-off bit, never ON = OFF
		// (Adafruit_PWMServoDriver setPWM(all, 0, 4096)).
		i2ctest.IO{Addr: 0x40, W: []byte{0xFA, 0, 0, 0, 0x10}},
	)
	pb := &i2ctest.Playback{Ops: ops}
	p, err := NewPCA9685(pb, 0x40)
	if err != nil {
		t.Fatal(err)
	}
	// (122+1)·4096·40 ns: periph's prescale gives 49.6 Hz, not 50.
	if want := 20152320 * time.Nanosecond; p.Period() != want {
		t.Errorf("period %s, want %s", p.Period(), want)
	}
	ch, err := p.Channel(3)
	if err != nil {
		t.Fatal(err)
	}
	d, err := New(ch, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range []physic.Angle{0, 90 * physic.Degree, -90 * physic.Degree} {
		if err := d.SetAngle(a); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.Halt(); err != nil {
		t.Fatal(err)
	}
	if err := p.Halt(); err != nil {
		t.Fatal(err)
	}
	if err := pb.Close(); err != nil {
		t.Fatal(err)
	}
	if s := ch.String(); s != "PCA9685{playback 0x40}/ch3" {
		t.Errorf("String() = %q", s)
	}

	// Bad input never reaches the bus (Playback would panic on extra I/O).
	for _, c := range []int{-1, 16} {
		if _, err := p.Channel(c); err == nil {
			t.Errorf("channel %d accepted", c)
		}
	}
	for _, pulse := range []time.Duration{0, time.Nanosecond, 21 * time.Millisecond} {
		if err := ch.SetPulse(pulse); err == nil || !strings.HasPrefix(err.Error(), "servo: ") {
			t.Errorf("pulse %s: %v", pulse, err)
		}
	}
}

func TestPCA9685Absent(t *testing.T) {
	pb := &i2ctest.Playback{DontPanic: true}
	_, err := NewPCA9685(pb, 0x40)
	if err == nil || !strings.HasPrefix(err.Error(), "servo: no PCA9685 at 0x40 on playback: ") {
		t.Fatalf("err = %v", err)
	}
}

// TestPCA9685InitNeverEqual replays the init and checks that the last word
// on ALL_LED is full off, never the ON = OFF = 0 periph leaves.
func TestPCA9685InitNeverEqual(t *testing.T) {
	pb := &i2ctest.Playback{Ops: pcaInit(0x40)}
	if _, err := NewPCA9685(pb, 0x40); err != nil {
		t.Fatal(err)
	}
	if err := pb.Close(); err != nil {
		t.Fatal(err)
	}
	var last []byte
	for _, op := range pb.Ops {
		if len(op.W) == 5 && op.W[0] == 0xFA {
			last = op.W[1:]
		}
	}
	on, off := int(last[0])|int(last[1])<<8, int(last[2])|int(last[3])<<8
	if on == off || off&0x1000 == 0 {
		t.Errorf("ALL_LED left at ON %#x OFF %#x: want the full-off bit", on, off)
	}
}

func TestPCA9685InitWriteFails(t *testing.T) {
	// The full-off write is the last of the init: a bus that fails it
	// must fail NewPCA9685, not leave equal counts behind silently.
	ops := pcaInit(0x40)
	pb := &i2ctest.Playback{Ops: ops[:len(ops)-1], DontPanic: true}
	if _, err := NewPCA9685(pb, 0x40); err == nil || !strings.Contains(err.Error(), "all off") {
		t.Fatalf("err = %v", err)
	}
}

// sinkBus answers reads with PRE_SCALE 122 (MODE1 reads get the same byte,
// which periph only masks) and drops writes: enough for the benchmark.
type sinkBus struct{}

func (sinkBus) String() string { return "sink" }
func (sinkBus) Tx(_ uint16, _, r []byte) error {
	for i := range r {
		r[i] = 0x7A
	}
	return nil
}
func (sinkBus) SetSpeed(physic.Frequency) error { return nil }

func BenchmarkPCA9685SetPulse(b *testing.B) {
	p, err := NewPCA9685(sinkBus{}, 0x40)
	if err != nil {
		b.Fatal(err)
	}
	ch, err := p.Channel(0)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := ch.SetPulse(1500 * time.Microsecond); err != nil {
			b.Fatal(err)
		}
	}
}
