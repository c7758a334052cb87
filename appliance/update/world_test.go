package update

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// The world is a card, its p1 and the firmware's one-shot flag, modelled
// after the Pi: a normal boot follows autoboot.txt's [all]; a tryboot its
// [tryboot], once; an autoboot.txt the firmware cannot read boots the
// first bootable FAT partition (p2). A power cut can come at any write.

const partSize = 4 << 20

// powerCut unwinds a service at the write the world was told to fail.
type powerCut struct{}

// rebootCall unwinds the service the way the board going down does.
type rebootCall struct{ tryboot bool }

type world struct {
	t       *testing.T
	parts   map[int][]byte
	files   map[string][]byte
	data    []byte // /data: nothing may touch it
	flag    bool   // the firmware's tryboot flag
	writes  int
	cut     int // power cut at this write (0: never)
	images  []image
	keys    []ed25519.PublicKey
	devices map[string]string // what the appliance reports when it runs
	broken  string            // a version whose appliance does not start
	log     []string
	blocks  map[int]int // block writes per partition
}

// image is one firmware version: its boot and root partition images.
type image struct {
	version    string
	boot, root []byte
}

func newImage(version string, seed uint64) image {
	r := rand.New(rand.NewPCG(seed, 1))
	mk := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		return b
	}
	return image{version: version, boot: mk(1<<20 + 12345), root: mk(3<<20 + 777)}
}

func newWorld(t *testing.T, key ed25519.PublicKey, v1 image) *world {
	w := &world{t: t, parts: map[int][]byte{}, files: map[string][]byte{}, data: []byte("the maker's collection"),
		keys: []ed25519.PublicKey{key}, devices: map[string]string{"printer": "ok", "camera": "missing"}}
	for _, n := range []int{SlotA.Boot, SlotB.Boot, SlotA.Root, SlotB.Root} {
		w.parts[n] = make([]byte, partSize)
	}
	w.files[AutobootFile] = Autoboot{Default: 2, Tryboot: 3}.Format()
	copy(w.parts[SlotA.Boot], v1.boot)
	copy(w.parts[SlotA.Root], v1.root)
	w.images = append(w.images, v1)
	return w
}

// runs returns the version a slot boots into, "" when it holds no whole
// known firmware (it would not start).
func (w *world) runs(s Slot) string {
	for _, im := range w.images {
		if bytes.HasPrefix(w.parts[s.Boot], im.boot) && bytes.HasPrefix(w.parts[s.Root], im.root) {
			return im.version
		}
	}
	return ""
}

func (w *world) tick() {
	w.writes++
	if w.cut != 0 && w.writes == w.cut {
		panic(powerCut{})
	}
}

// firmware picks the boot partition as the Pi's does, consuming the flag.
func (w *world) firmware() (int, bool) {
	try := w.flag
	w.flag = false
	ab, err := ParseAutoboot(w.files[AutobootFile])
	if err != nil {
		return SlotA.Boot, false
	}
	if try {
		return ab.Tryboot, true
	}
	return ab.Default, false
}

// --- the fakes the service sees -----------------------------------------

type fakeCard struct{ w *world }

func (c fakeCard) Open(n int) (Partition, error) {
	if _, ok := c.w.parts[n]; !ok {
		return nil, fmt.Errorf("no partition %d", n)
	}
	return fakePart{c.w, n}, nil
}

type fakePart struct {
	w *world
	n int
}

func (p fakePart) ReadAt(b []byte, off int64) (int, error) {
	if off+int64(len(b)) > int64(len(p.w.parts[p.n])) {
		return 0, errors.New("read past the end")
	}
	return copy(b, p.w.parts[p.n][off:]), nil
}

func (p fakePart) WriteAt(b []byte, off int64) (int, error) {
	if p.n != SlotA.Boot && p.n != SlotB.Boot && p.n != SlotA.Root && p.n != SlotB.Root {
		p.w.t.Fatalf("write to partition %d", p.n)
	}
	if off+int64(len(b)) > int64(len(p.w.parts[p.n])) {
		return 0, errors.New("write past the end")
	}
	if p.w.blocks == nil {
		p.w.blocks = map[int]int{}
	}
	p.w.blocks[p.n]++
	// Half a block may land before the power goes.
	half := len(b) / 2
	copy(p.w.parts[p.n][off:], b[:half])
	p.w.tick()
	copy(p.w.parts[p.n][off+int64(half):], b[half:])
	return len(b), nil
}

func (p fakePart) Size() int64  { return int64(len(p.w.parts[p.n])) }
func (p fakePart) Sync() error  { p.w.tick(); return nil }
func (p fakePart) Close() error { return nil }

type fakeFS struct{ w *world }

func (f fakeFS) ReadFile(name string) ([]byte, error) {
	b, ok := f.w.files[name]
	if !ok {
		return nil, fs.ErrNotExist
	}
	return bytes.Clone(b), nil
}

func (f fakeFS) WriteFile(name string, data []byte) error {
	f.w.tick() // the power goes before the rename, or after
	f.w.files[name] = bytes.Clone(data)
	f.w.log = append(f.w.log, "write "+name)
	return nil
}

type fakeLoader struct {
	part int
	try  bool
}

func (l fakeLoader) Booted() (int, bool, error) { return l.part, l.try, nil }

type fakeReboot struct{ w *world }

func (r fakeReboot) Reboot(tryboot bool) error {
	r.w.flag = tryboot
	panic(rebootCall{tryboot})
}

type fakeHealth struct {
	version string
	devices map[string]string
}

func (h fakeHealth) Check(context.Context) (Report, error) {
	if h.version == "" {
		return Report{}, errors.New("connection refused")
	}
	return Report{Version: h.version, Web: true, Devices: h.devices}, nil
}

// instantClock: every wait returns at once and moves time on.
type instantClock struct{ now *time.Time }

func (c instantClock) Now() time.Time { return *c.now }
func (c instantClock) After(d time.Duration) <-chan time.Time {
	*c.now = c.now.Add(d)
	ch := make(chan time.Time, 1)
	ch <- *c.now
	return ch
}

// boot powers the board on: the firmware picks a slot and the service of
// the firmware found there starts. It returns that service (nil when the
// slot's firmware does not start) and the booted slot.
func (w *world) boot() (*Service, Slot, bool) {
	part, try := w.firmware()
	slot, _ := slotOfBoot(part)
	v := w.runs(slot)
	if v == "" || v == w.broken {
		return nil, slot, try
	}
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	s := New(Options{Board: "pi4_64", Version: v, Keys: w.keys, Card: fakeCard{w}, BootFS: fakeFS{w},
		Loader: fakeLoader{part, try}, Rebooter: fakeReboot{w}, Health: fakeHealth{v, w.devices},
		Clock: instantClock{&now}, Deadline: time.Minute, Poll: 2 * time.Second})
	return s, slot, try
}

// guard runs f and turns a power cut or a reboot into a result.
func guard(f func()) (cut bool, reboot *rebootCall) {
	defer func() {
		switch r := recover().(type) {
		case nil:
		case powerCut:
			cut = true
		case rebootCall:
			reboot = &r
		default:
			panic(r)
		}
	}()
	f()
	return false, nil
}

// settle boots until the board stays up (at most four boots), running each
// start's Settle; a board whose firmware does not start is reset (by the
// trial watchdog, or a maker's power cycle after a hang).
func (w *world) settle() (*Service, Slot) {
	for range 4 {
		s, slot, _ := w.boot()
		if s == nil {
			w.flag = false
			continue
		}
		cut, rb := guard(func() {
			if err := s.Settle(context.Background()); err != nil {
				w.t.Fatalf("settle: %v", err)
			}
		})
		if !cut && rb == nil {
			return s, slot
		}
	}
	w.t.Fatalf("the board did not come up in four boots")
	return nil, Slot{}
}

func writeBundle(t testing.TB, key ed25519.PrivateKey, board string, im image) []byte {
	t.Helper()
	dir := t.TempDir()
	bp, rp := filepath.Join(dir, "boot"), filepath.Join(dir, "root")
	os.WriteFile(bp, im.boot, 0o600)
	os.WriteFile(rp, im.root, 0o600)
	var b bytes.Buffer
	if _, err := WriteBundle(&b, key, board, im.version, time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC),
		[]PartFile{{"boot", bp}, {"root", rp}}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}
