package update

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"tinkerbox/scenes/scene"
)

// Partition is one partition of the card.
type Partition interface {
	io.ReaderAt
	io.WriterAt
	Size() int64
	// Sync makes what was written durable and drops any cached copy, so
	// that later reads come from the card itself.
	Sync() error
	Close() error
}

// Card opens the card's partitions by number.
type Card interface {
	Open(n int) (Partition, error)
}

// BootFS is p1, the FAT partition every slot shares: autoboot.txt and the
// update record live there, never on /data.
type BootFS interface {
	// ReadFile returns fs.ErrNotExist for a missing file.
	ReadFile(name string) ([]byte, error)
	// WriteFile replaces name durably (write, fsync, rename, fsync).
	WriteFile(name string, data []byte) error
}

// Loader reports what the firmware told Linux about this boot.
type Loader interface {
	Booted() (partition int, tryboot bool, err error)
}

// Rebooter restarts the board: with tryboot, the firmware boots the
// [tryboot] partition of autoboot.txt once.
type Rebooter interface {
	Reboot(tryboot bool) error
}

// Report is what the running appliance says about itself.
type Report struct {
	Version string            `json:"version"`
	Web     bool              `json:"web"`     // /healthz answered "ok"
	Devices map[string]string `json:"devices"` // device → probe status ("ok", "missing", ...)
}

// Health asks the running appliance how it is. An error means it does not
// answer (yet).
type Health interface {
	Check(ctx context.Context) (Report, error)
}

// StateFile is the update record's name on p1.
const StateFile = "update.json"

// record is update.json: what each slot holds, the trial in progress and
// the last outcome. autoboot.txt, not this file, says which slot is
// committed: a power cut between the two writes leaves the truth in
// autoboot.txt, and the next start reconciles the record with it.
type record struct {
	Slots map[string]slotRecord `json:"slots"`
	Trial *trial                `json:"trial,omitempty"`
	Last  *Outcome              `json:"last,omitempty"`
}

type slotRecord struct {
	Version string `json:"version,omitempty"`
	State   string `json:"state"` // SlotReady, SlotIncomplete, SlotFailed (SlotActive is derived)
}

// SlotFailed: the slot holds a firmware that did not pass its trial.
const SlotFailed = "failed"

type trial struct {
	Slot    string    `json:"slot"`
	Version string    `json:"version"`
	From    string    `json:"from"`
	Devices []string  `json:"devices"` // devices that answered before: they must answer after
	Started time.Time `json:"started"`
}

// Service is the updater: it installs bundles into the other slot, boots
// them on trial, and commits or rolls back. One install at a time.
type Service struct {
	board, version string
	keys           []ed25519.PublicKey
	card           Card
	bootfs         BootFS
	loader         Loader
	reboot         Rebooter
	health         Health
	clock          scene.Clock
	log            *slog.Logger
	deadline, poll time.Duration
	checkConfig    func([]byte) error

	install sync.Mutex // held for a whole install or rollback
	mu      sync.Mutex // guards busy
	busy    *Progress
}

// Options configure a Service. Everything but Log, Clock, Deadline and
// Poll is required.
type Options struct {
	Board, Version string
	Keys           []ed25519.PublicKey
	Card           Card
	BootFS         BootFS
	Loader         Loader
	Rebooter       Rebooter
	Health         Health
	Clock          scene.Clock
	Log            *slog.Logger
	// Deadline is how long a trial boot has, from the service's start, to
	// prove healthy; Poll, how often it is asked.
	Deadline, Poll time.Duration
	// CheckConfig vets a tinkerbox.toml before WriteConfig puts it on p1;
	// nil: WriteConfig is refused.
	CheckConfig func(data []byte) error
}

// ConfigFile is the maker's configuration on p1 (/boot, read-only to the
// appliance, which asks this service to write it).
const ConfigFile = "tinkerbox.toml"

// MaxConfig bounds a configuration WriteConfig accepts.
const MaxConfig = 256 << 10

// WriteConfig replaces tinkerbox.toml on p1 durably, once CheckConfig
// accepts it: the settings page's saves, since the appliance cannot write
// the read-only boot partition and runs as its own user.
func (s *Service) WriteConfig(data []byte) error {
	if s.checkConfig == nil {
		return errors.New("update: this service does not write the configuration")
	}
	if len(data) > MaxConfig {
		return fmt.Errorf("update: the configuration is larger than %d KiB", MaxConfig>>10)
	}
	if err := s.checkConfig(data); err != nil {
		return fmt.Errorf("update: the configuration is refused: %w", err)
	}
	if err := s.bootfs.WriteFile(ConfigFile, data); err != nil {
		return fmt.Errorf("update: write %s: %w", ConfigFile, err)
	}
	s.log.Info("configuration written", "file", ConfigFile, "bytes", len(data))
	return nil
}

// Trial defaults: a Pi Zero starts tinkerbox within a minute; the
// deadline leaves room for a slow card and a first start that migrates.
const (
	DefaultDeadline = 4 * time.Minute
	DefaultPoll     = 2 * time.Second
)

// New returns a Service.
func New(o Options) *Service {
	s := &Service{board: o.Board, version: o.Version, keys: o.Keys, card: o.Card, bootfs: o.BootFS,
		loader: o.Loader, reboot: o.Rebooter, health: o.Health, clock: o.Clock, log: o.Log,
		deadline: o.Deadline, poll: o.Poll, checkConfig: o.CheckConfig}
	if s.clock == nil {
		s.clock = scene.SystemClock{}
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.deadline == 0 {
		s.deadline = DefaultDeadline
	}
	if s.poll == 0 {
		s.poll = DefaultPoll
	}
	return s
}

func (s *Service) load() (record, error) {
	r := record{Slots: map[string]slotRecord{}}
	b, err := s.bootfs.ReadFile(StateFile)
	if errors.Is(err, fs.ErrNotExist) {
		return r, nil
	}
	if err != nil {
		return r, fmt.Errorf("update: read %s: %w", StateFile, err)
	}
	if err := json.Unmarshal(b, &r); err != nil {
		// A record cut by a power loss: start a new one; autoboot.txt
		// still says which slot is committed.
		s.log.Warn("update record unreadable, starting a new one", "file", StateFile, "err", err)
		return record{Slots: map[string]slotRecord{}}, nil
	}
	if r.Slots == nil {
		r.Slots = map[string]slotRecord{}
	}
	return r, nil
}

func (s *Service) save(r record) error {
	b, err := json.MarshalIndent(r, "", " ")
	if err != nil {
		return err
	}
	if err := s.bootfs.WriteFile(StateFile, append(b, '\n')); err != nil {
		return fmt.Errorf("update: write %s: %w", StateFile, err)
	}
	return nil
}

// where returns the running slot, whether this is a trial boot, and
// autoboot.txt.
func (s *Service) where() (Slot, bool, Autoboot, error) {
	n, try, err := s.loader.Booted()
	if err != nil {
		return Slot{}, false, Autoboot{}, fmt.Errorf("update: which partition booted: %w", err)
	}
	running, ok := slotOfBoot(n)
	if !ok {
		return Slot{}, false, Autoboot{}, fmt.Errorf("update: the firmware booted partition %d, which is no slot's (an old card layout? reflash it once)", n)
	}
	b, err := s.bootfs.ReadFile(AutobootFile)
	if err != nil {
		return running, try, Autoboot{}, fmt.Errorf("update: read %s: %w", AutobootFile, err)
	}
	ab, err := ParseAutoboot(b)
	return running, try, ab, err
}

// Status reports the slots and the last outcome.
func (s *Service) Status() (Status, error) {
	st := Status{Board: s.board, Version: s.version}
	s.mu.Lock()
	if s.busy != nil {
		p := *s.busy
		st.Busy = &p
	}
	s.mu.Unlock()
	running, try, ab, err := s.where()
	if err != nil {
		return st, err
	}
	r, err := s.load()
	if err != nil {
		return st, err
	}
	st.Tryboot = try
	onTrial := try && ab.Default != running.Boot // a trial not committed yet
	st.Running = SlotStatus{Name: running.Name, Version: s.version, State: SlotActive}
	if onTrial {
		st.Running.State = SlotTrying
	}
	o := running.other()
	or := r.Slots[o.Name]
	st.Other = SlotStatus{Name: o.Name, Version: or.Version, State: or.State}
	if st.Other.State == "" {
		st.Other.State = SlotEmpty
	}
	if ab.Default == o.Boot && !onTrial {
		// Committed elsewhere but running here: cannot happen on a Pi
		// (a normal boot follows [all]); say so rather than guess.
		st.Other.State = SlotActive
	}
	st.Last = r.Last
	st.CanRollback = !onTrial && st.Other.State == SlotReady && st.Busy == nil
	return st, nil
}

// setBusy publishes progress; nil when idle.
func (s *Service) setBusy(p *Progress) {
	s.mu.Lock()
	s.busy = p
	s.mu.Unlock()
}

// ErrBusy: another install or rollback is running.
var ErrBusy = errors.New("update: another update is being installed")

// Install writes the bundle read from r into the other slot, verifies what
// was written and records a trial. The caller then reboots with
// RebootTrial. Nothing is written before the manifest's signature, board
// and sizes are checked; each block is checked before it is written; the
// running slot, autoboot.txt and /data are never written.
func (s *Service) Install(ctx context.Context, r io.Reader, progress func(Progress)) (Result, error) {
	if !s.install.TryLock() {
		return Result{}, ErrBusy
	}
	defer s.install.Unlock()
	report := func(p Progress) {
		s.setBusy(&p)
		if progress != nil {
			progress(p)
		}
	}
	defer s.setBusy(nil)
	report(Progress{Phase: "checking"})

	running, try, ab, err := s.where()
	if err != nil {
		return Result{}, err
	}
	if try && ab.Default != running.Boot {
		return Result{}, errors.New("update: this boot is a trial of new firmware; wait until it is committed (a minute or two) before installing another")
	}
	if ab.Default != running.Boot {
		return Result{}, fmt.Errorf("update: autoboot.txt commits partition %d but partition %d is running; reboot first", ab.Default, running.Boot)
	}
	target := running.other()
	br, err := Open(r, s.keys, s.board)
	if err != nil {
		return Result{}, err
	}
	m := br.Manifest()
	parts := map[string]Partition{}
	defer func() {
		for _, p := range parts {
			p.Close()
		}
	}()
	for _, p := range m.Parts {
		n := target.Boot
		if p.Name == "root" {
			n = target.Root
		}
		dev, err := s.card.Open(n)
		if err != nil {
			return Result{}, fmt.Errorf("update: open partition %d (slot %s %s): %w", n, target.Name, p.Name, err)
		}
		parts[p.Name] = dev
		if p.Size > dev.Size() {
			return Result{}, fmt.Errorf("update: the bundle's %s is %d MiB and slot %s's partition only %d MiB: this bundle needs a newer card layout (reflash)", p.Name, p.Size>>20, target.Name, dev.Size()>>20)
		}
	}
	// The first part must be there before anything is written.
	p, pr, err := br.Next()
	if err != nil {
		return Result{}, err
	}
	rec, err := s.load()
	if err != nil {
		return Result{}, err
	}
	// From here on the other slot is not bootable until verified.
	rec.Slots[target.Name] = slotRecord{Version: m.Version, State: SlotIncomplete}
	rec.Trial = nil
	if err := s.save(rec); err != nil {
		return Result{}, err
	}
	fail := func(err error) (Result, error) {
		rec.Last = &Outcome{Result: ResultFailed, Version: m.Version, From: s.version, At: s.clock.Now(), Detail: err.Error()}
		if serr := s.save(rec); serr != nil {
			s.log.Error("update record", "err", serr)
		}
		return Result{}, err
	}
	s.log.Info("installing", "version", m.Version, "slot", target.Name)
	for {
		written, err := writePart(ctx, parts[p.Name], p, pr, func(done int64) {
			report(Progress{Phase: "writing " + p.Name, Done: done, Total: p.Size})
		})
		if err != nil {
			return fail(err)
		}
		s.log.Info("part written", "part", p.Name, "slot", target.Name, "MiB", p.Size>>20, "changed_MiB", written>>20)
		if p, pr, err = br.Next(); err == io.EOF {
			break
		} else if err != nil {
			return fail(err)
		}
	}
	for _, p := range m.Parts {
		if err := verifyPart(ctx, parts[p.Name], p, func(done int64) {
			report(Progress{Phase: "verifying " + p.Name, Done: done, Total: p.Size})
		}); err != nil {
			return fail(err)
		}
	}
	devices := s.answering(ctx)
	rec.Slots[target.Name] = slotRecord{Version: m.Version, State: SlotReady}
	rec.Trial = &trial{Slot: target.Name, Version: m.Version, From: s.version, Devices: devices, Started: s.clock.Now()}
	if err := s.save(rec); err != nil {
		return Result{}, err
	}
	report(Progress{Phase: "rebooting"})
	s.log.Info("installed; rebooting on trial", "version", m.Version, "slot", target.Name, "devices", devices)
	return Result{Slot: target.Name, Version: m.Version, Board: m.Board}, nil
}

// answering lists the devices the running appliance reports as working.
func (s *Service) answering(ctx context.Context) []string {
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	rep, err := s.health.Check(cctx)
	if err != nil {
		s.log.Warn("the appliance does not answer; the trial will check the web server only", "err", err)
		return nil
	}
	var ok []string
	for d, st := range rep.Devices {
		if st == "ok" {
			ok = append(ok, d)
		}
	}
	sort.Strings(ok)
	return ok
}

// writePart copies a verified part stream onto dev, then syncs it.
//
// A block the card already holds is not written again: an update of a
// similar version (or a slot that held this one) rewrites only what
// changed, which is faster and spares the card's flash. It returns the
// bytes written.
func writePart(ctx context.Context, dev Partition, p Part, r io.Reader, progress func(int64)) (int64, error) {
	buf := make([]byte, BlockSize)
	old := make([]byte, BlockSize)
	var off, written int64
	for {
		if err := ctx.Err(); err != nil {
			return written, fmt.Errorf("update: stopped: %w", err)
		}
		n, err := io.ReadFull(r, buf)
		if n > 0 {
			if k, rerr := dev.ReadAt(old[:n], off); rerr != nil || k != n || !bytes.Equal(old[:n], buf[:n]) {
				if _, werr := dev.WriteAt(buf[:n], off); werr != nil {
					return written, fmt.Errorf("update: write %s at %d MiB: %w", p.Name, off>>20, werr)
				}
				written += int64(n)
			}
			off += int64(n)
			progress(off)
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			// The part reader returns its own error, never a bare EOF,
			// unless the part was complete and whole.
			break
		}
		if err != nil {
			return written, err
		}
	}
	if off != p.Size {
		return written, fmt.Errorf("update: part %s: %d of %d bytes", p.Name, off, p.Size)
	}
	if err := dev.Sync(); err != nil {
		return written, fmt.Errorf("update: sync %s: %w", p.Name, err)
	}
	return written, nil
}

// verifyPart reads the part back from the card and compares every block.
func verifyPart(ctx context.Context, dev Partition, p Part, progress func(int64)) error {
	buf := make([]byte, BlockSize)
	whole := sha256.New()
	for i, want := range p.Blocks {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("update: stopped: %w", err)
		}
		off := int64(i) * BlockSize
		n := min(int64(BlockSize), p.Size-off)
		if _, err := dev.ReadAt(buf[:n], off); err != nil {
			return fmt.Errorf("update: read back %s at %d MiB: %w", p.Name, off>>20, err)
		}
		sum := sha256.Sum256(buf[:n])
		if hex.EncodeToString(sum[:]) != want {
			return fmt.Errorf("update: %s reads back different at %d MiB: the SD card did not keep what was written (a failing card?); the running firmware stays", p.Name, off>>20)
		}
		whole.Write(buf[:n])
		progress(off + n)
	}
	if hex.EncodeToString(whole.Sum(nil)) != p.SHA256 {
		return fmt.Errorf("update: %s reads back different from its SHA-256", p.Name)
	}
	return nil
}

// RebootTrial reboots into the other slot once (the firmware's tryboot).
func (s *Service) RebootTrial() error { return s.reboot.Reboot(true) }

// Rollback boots the other slot's firmware on trial, like an update of
// the version it holds: it becomes the default only once healthy.
func (s *Service) Rollback(ctx context.Context) (Result, error) {
	if !s.install.TryLock() {
		return Result{}, ErrBusy
	}
	defer s.install.Unlock()
	st, err := s.Status()
	if err != nil {
		return Result{}, err
	}
	if !st.CanRollback {
		why := "slot " + st.Other.Name + " is " + st.Other.State
		if st.Running.State == SlotTrying {
			why = "this boot is a trial"
		}
		return Result{}, fmt.Errorf("update: cannot go back: %s", why)
	}
	rec, err := s.load()
	if err != nil {
		return Result{}, err
	}
	rec.Trial = &trial{Slot: st.Other.Name, Version: st.Other.Version, From: s.version, Devices: s.answering(ctx), Started: s.clock.Now()}
	if err := s.save(rec); err != nil {
		return Result{}, err
	}
	s.log.Info("going back to the previous firmware on trial", "version", st.Other.Version, "slot", st.Other.Name)
	return Result{Slot: st.Other.Name, Version: st.Other.Version, Board: s.board}, nil
}

// Settle runs once at every start of the service: it reconciles the record
// with what the firmware booted and, on a trial boot, waits for the
// appliance to prove healthy, then commits; otherwise it records the
// failure and reboots into the committed slot.
func (s *Service) Settle(ctx context.Context) error {
	running, try, ab, err := s.where()
	if err != nil {
		return err
	}
	rec, err := s.load()
	if err != nil {
		return err
	}
	t := rec.Trial
	switch {
	case try && t != nil && t.Slot == running.Name && rec.Slots[running.Name].State == SlotReady:
		return s.validate(ctx, running, ab, rec)
	case try:
		// A trial nobody recorded, or of a slot not verified: never
		// commit it.
		s.log.Error("a trial boot without a verified install; back to the committed firmware", "slot", running.Name)
		rec.Last = &Outcome{Result: ResultRolledBack, At: s.clock.Now(), Detail: "slot " + running.Name + " was booted on trial without a verified install"}
		rec.Trial = nil
		if err := s.save(rec); err != nil {
			s.log.Error("update record", "err", err)
		}
		return s.reboot.Reboot(false)
	case t != nil && t.Slot == running.Name && ab.Default == running.Boot:
		// Committed, but the record was not updated before a power cut.
		rec.Last = &Outcome{Result: ResultCommitted, Version: t.Version, From: t.From, At: s.clock.Now()}
		rec.Trial = nil
		rec.Slots[running.other().Name] = slotRecord{Version: t.From, State: SlotReady}
		delete(rec.Slots, running.Name)
		return s.save(rec)
	case t != nil:
		// Back on the committed slot with a trial recorded: the trial
		// boot failed before it could commit (it did not start, hung,
		// crashed, panicked or lost power) and the firmware's one-shot
		// flag brought this slot back.
		detail := fmt.Sprintf("%s did not prove healthy on its trial boot (it did not start, or stopped, before committing); %s kept running", t.Version, s.version)
		if rec.Last != nil && rec.Last.Result == ResultRolledBack && rec.Last.Version == t.Version {
			detail = rec.Last.Detail // the trial said why itself
		}
		s.log.Warn("rolled back", "version", t.Version, "detail", detail)
		rec.Last = &Outcome{Result: ResultRolledBack, Version: t.Version, From: t.From, At: s.clock.Now(), Detail: detail}
		rec.Slots[t.Slot] = slotRecord{Version: t.Version, State: SlotFailed}
		rec.Trial = nil
		return s.save(rec)
	}
	// The running slot is recorded by what runs; keep the record tidy.
	if _, ok := rec.Slots[running.Name]; ok {
		delete(rec.Slots, running.Name)
		return s.save(rec)
	}
	return nil
}

// validate waits for a healthy appliance, then commits the running slot.
func (s *Service) validate(ctx context.Context, running Slot, ab Autoboot, rec record) error {
	t := rec.Trial
	s.log.Info("trial boot: waiting for the new firmware to prove healthy", "version", t.Version, "slot", running.Name, "deadline", s.deadline, "devices", t.Devices)
	deadline := s.clock.Now().Add(s.deadline)
	for {
		ok, why := s.healthy(ctx, t)
		if ok {
			break
		}
		if !s.clock.Now().Before(deadline) {
			detail := fmt.Sprintf("%s was not healthy within %s of its trial boot: %s; back to %s", t.Version, s.deadline, why, t.From)
			s.log.Error("trial failed; rebooting into the committed firmware", "detail", detail)
			rec.Last = &Outcome{Result: ResultRolledBack, Version: t.Version, From: t.From, At: s.clock.Now(), Detail: detail}
			rec.Trial = nil
			rec.Slots[running.Name] = slotRecord{Version: t.Version, State: SlotFailed}
			if err := s.save(rec); err != nil {
				s.log.Error("update record", "err", err)
			}
			return s.reboot.Reboot(false)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-s.clock.After(s.poll):
		}
	}
	// Commit: autoboot.txt first (it is the truth), then the record.
	commit := Autoboot{Default: running.Boot, Tryboot: running.other().Boot}
	if err := s.bootfs.WriteFile(AutobootFile, commit.Format()); err != nil {
		return fmt.Errorf("update: commit: %w", err)
	}
	rec.Last = &Outcome{Result: ResultCommitted, Version: t.Version, From: t.From, At: s.clock.Now()}
	rec.Trial = nil
	rec.Slots[running.other().Name] = slotRecord{Version: t.From, State: SlotReady}
	delete(rec.Slots, running.Name)
	s.log.Info("committed", "version", t.Version, "slot", running.Name)
	return s.save(rec)
}

// healthy: the appliance answers with the trial's version, its web server
// says ok, and every device that answered before answers now.
func (s *Service) healthy(ctx context.Context, t *trial) (bool, string) {
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	rep, err := s.health.Check(cctx)
	if err != nil {
		return false, "the appliance did not answer (" + err.Error() + ")"
	}
	if rep.Version != t.Version {
		return false, fmt.Sprintf("the appliance runs %s, not %s", rep.Version, t.Version)
	}
	if !rep.Web {
		return false, "its web server did not answer /healthz"
	}
	var lost []string
	for _, d := range t.Devices {
		if rep.Devices[d] != "ok" {
			lost = append(lost, fmt.Sprintf("%s (%s)", d, orNone(rep.Devices[d])))
		}
	}
	if len(lost) > 0 {
		return false, "devices that worked before do not answer: " + strings.Join(lost, ", ")
	}
	return true, ""
}

func orNone(s string) string {
	if s == "" {
		return "not found"
	}
	return s
}
