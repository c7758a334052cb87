package appliance

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"tinkerbox/appliance/config"
	"tinkerbox/appliance/homeassistant"
	"tinkerbox/appliance/store"
	"tinkerbox/appliance/update"
	"tinkerbox/appliance/web"
	"tinkerbox/scenes/barometer"
	"tinkerbox/scenes/cardfeed"
	"tinkerbox/scenes/comic"
	"tinkerbox/scenes/scene"
	"tinkerbox/scenes/spycam"
)

// mqttLink runs the Home Assistant bridge for Run's lifetime, built from
// [mqtt] and the app, and builds it anew when /settings saves the section.
// It is also the web server's App: the app's, with the link's state in the
// stream and the settings page's MQTTSettings.
type mqttLink struct {
	*app
	file    string // the config file the settings page saves to
	version string
	url     string // the device's page, for Home Assistant's device card

	saving sync.Mutex // one save at a time
	// bootConfig writes the config through the update service (root) on
	// the device, where the file is on the read-only boot partition; nil
	// elsewhere: the file is written directly.
	bootConfig interface {
		WriteConfig(ctx context.Context, data []byte) error
	}

	mu       sync.Mutex
	settings config.MQTT
	ctx      context.Context // Run's; nil until run
	bridge   *homeassistant.Bridge
	failure  error // why no bridge runs although enabled
	stop     context.CancelFunc
	done     chan struct{} // closed when the bridge's Run returns
}

var (
	_ web.App          = (*mqttLink)(nil)
	_ web.MQTTSettings = (*mqttLink)(nil)
)

// newMQTT prepares the link; run starts it.
func (a *app) newMQTT(o Options, url string) *mqttLink {
	l := &mqttLink{app: a, file: configFile(o), version: o.Version, url: url, settings: a.cfg.MQTT}
	if !o.Sim && onDevice(o) && l.file == deviceConfig {
		l.bootConfig = update.NewClient(update.Socket)
	}
	return l
}

// deviceConfig is the config file on the SD-card image (tinkerbox-supervise).
const deviceConfig = "/boot/" + update.ConfigFile

// configFile is the file loadConfig read, or the first place it looks
// when it read none: where saved settings are read again at the next start.
func configFile(o Options) string {
	if o.ConfigPath != "" {
		return o.ConfigPath
	}
	for _, p := range configSearch() {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return configSearch()[0]
}

// mount adds the settings' API to the web server.
func (l *mqttLink) mount(srv *web.Server) { srv.MountMQTT() }

// run starts the bridge when enabled and keeps the link until ctx ends;
// bridges end with it (saying offline).
func (l *mqttLink) run(ctx context.Context) {
	l.mu.Lock()
	l.ctx = ctx
	l.start()
	l.mu.Unlock()
	<-ctx.Done()
}

// start builds and runs a bridge for l.settings; l.mu is held.
func (l *mqttLink) start() {
	l.bridge, l.failure, l.stop, l.done = nil, nil, nil, nil
	if !l.settings.Enabled || l.ctx == nil {
		return
	}
	b, err := l.build(l.settings)
	if err != nil {
		l.failure = err
		l.log.Error("homeassistant: not started", "err", err)
		return
	}
	ctx, cancel := context.WithCancel(l.ctx)
	done := make(chan struct{})
	l.bridge, l.stop, l.done = b, cancel, done
	go func() {
		defer close(done)
		b.Run(ctx)
	}()
}

// build makes a bridge for m on this appliance's sources: the entities of
// the scenes it has.
func (l *mqttLink) build(m config.MQTT) (*homeassistant.Bridge, error) {
	id, err := deviceID(l.app.cfg.Appliance.DataDir)
	if err != nil {
		return nil, err
	}
	a := l.app
	o := homeassistant.DefaultOpts()
	o.Broker, o.User, o.Password = m.Broker, m.User, m.Password
	o.PasswordFile, o.CAFile = l.beside(m.PasswordFile), l.beside(m.CAFile)
	o.BaseTopic, o.DiscoveryPrefix = m.Topic(a.cfg.Appliance.Name), m.DiscoveryPrefix
	o.Device = homeassistant.Device{ID: id, Name: a.cfg.Appliance.Name, Version: l.version, URL: l.url}
	o.Clock, o.Log = a.clock, a.log
	o.App = haApp{a}
	scenes := a.cfg.Appliance.Scenes
	if slices.Contains(scenes, comic.Name) {
		o.Strips = haApp{a}
	}
	if a.baro != nil {
		bo := a.barometerOpts()
		o.Weather = haWeather{barometer.NewView(a.store, bo.Stamp, bo)}
	}
	if slices.Contains(scenes, cardfeed.Name) {
		o.Cards = haCards{a.store}
	}
	if slices.Contains(scenes, spycam.Name) {
		caps, err := a.spycamCaptures()
		if err != nil {
			return nil, err
		}
		o.Camera = &haCamera{a: a, caps: caps, dir: filepath.Join(a.cfg.Appliance.DataDir, spycamDir)}
	}
	return homeassistant.New(o)
}

// beside resolves a relative password_file or ca_file against the config
// file's directory, where a maker would put it.
func (l *mqttLink) beside(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(filepath.Dir(l.file), p)
}

// deviceIDFile holds the identity Home Assistant knows this tinkerbox by,
// made on first need: the data dir is this box's, and stays through
// updates.
const deviceIDFile = "device-id"

func deviceID(dataDir string) (string, error) {
	path := filepath.Join(dataDir, deviceIDFile)
	if b, err := os.ReadFile(path); err == nil {
		if id := strings.TrimSpace(string(b)); validDeviceID(id) {
			return id, nil
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("device id: %w", err)
	}
	var r [6]byte
	if _, err := io.ReadFull(rand.Reader, r[:]); err != nil {
		return "", fmt.Errorf("device id: %w", err)
	}
	id := "tinkerbox-" + hex.EncodeToString(r[:])
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(id+"\n"), 0o644); err != nil {
		return "", fmt.Errorf("device id: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("device id: %w", err)
	}
	return id, nil
}

func validDeviceID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return false
		}
	}
	return true
}

// State implements web.App: the app's, with the link.
func (l *mqttLink) State() web.State {
	s := l.app.State()
	st := l.MQTTState()
	s.MQTT = &st
	return s
}

// MQTTState implements web.MQTTSettings.
func (l *mqttLink) MQTTState() web.MQTTState {
	l.mu.Lock()
	b, m, failure := l.bridge, l.settings, l.failure
	l.mu.Unlock()
	switch {
	case !m.Enabled:
		return web.MQTTState{State: web.MQTTOff}
	case failure != nil:
		return web.MQTTState{State: web.MQTTDown, Broker: m.Broker, LastError: failure.Error()}
	case b == nil:
		return web.MQTTState{State: web.MQTTConnecting, Broker: m.Broker}
	}
	st := b.Status()
	when := func(t time.Time) *time.Time {
		if t.IsZero() {
			return nil
		}
		return &t
	}
	return web.MQTTState{
		State: st.State, Since: when(st.Since), Broker: st.Broker, LastError: st.LastError, LastErrorAt: when(st.LastErrorAt),
		NextTry: when(st.NextTry), Queued: st.Queued, Dropped: st.Dropped, Replaced: st.Replaced,
	}
}

// MQTTSettings implements web.MQTTSettings.
func (l *mqttLink) MQTTSettings() web.MQTTForm {
	l.mu.Lock()
	m := l.settings
	l.mu.Unlock()
	return web.MQTTForm{
		Enabled: m.Enabled, Broker: m.Broker, User: m.User, BaseTopic: m.BaseTopic, DiscoveryPrefix: m.DiscoveryPrefix,
		PasswordSet: m.Password != "" || m.PasswordFile != "", PasswordFile: m.PasswordFile, CAFile: m.CAFile,
		DefaultBaseTopic: config.MQTT{}.Topic(l.app.cfg.Appliance.Name), File: l.file,
	}
}

// SaveMQTT implements web.MQTTSettings: the section is checked with the
// rest of the config, written into the config file, and the bridge
// restarted on it.
func (l *mqttLink) SaveMQTT(ctx context.Context, f web.MQTTForm) (web.MQTTForm, error) {
	l.saving.Lock()
	defer l.saving.Unlock()
	l.mu.Lock()
	m := l.settings
	l.mu.Unlock()
	m.Enabled, m.Broker, m.User = f.Enabled, strings.TrimSpace(f.Broker), f.User
	m.BaseTopic, m.DiscoveryPrefix = strings.TrimSpace(f.BaseTopic), strings.TrimSpace(f.DiscoveryPrefix)
	if f.Password != nil {
		if m.PasswordFile != "" && *f.Password != "" {
			return web.MQTTForm{}, &web.SettingsError{Err: fmt.Errorf("the password comes from mqtt.password_file (%s): change it there", m.PasswordFile)}
		}
		m.Password = *f.Password
	}
	c := *l.app.cfg
	c.MQTT = m
	if err := c.Validate(); err != nil {
		return web.MQTTForm{}, &web.SettingsError{Err: err}
	}
	if l.bootConfig != nil {
		data, err := config.MQTTFile(l.file, m)
		if err == nil {
			err = l.bootConfig.WriteConfig(ctx, data)
		}
		if err != nil {
			return web.MQTTForm{}, err
		}
	} else if err := config.SaveMQTT(l.file, m); err != nil {
		return web.MQTTForm{}, err
	}
	l.apply(m)
	l.record("info", "mqtt", "Home Assistant settings saved to "+l.file)
	return l.MQTTSettings(), nil
}

// apply stops the running bridge (it says offline) and starts one for m.
func (l *mqttLink) apply(m config.MQTT) {
	l.mu.Lock()
	stop, done := l.stop, l.done
	l.mu.Unlock()
	if stop != nil {
		stop()
		select {
		case <-done:
		case <-time.After(5 * time.Second): // it ends on its own; the new one takes over its client id
			l.log.Warn("homeassistant: the old bridge is slow to stop")
		}
	}
	l.mu.Lock()
	l.settings = m
	l.start()
	l.mu.Unlock()
}

// haApp is the appliance as Home Assistant commands it, through the same
// functions and checks as the web API's handlers.
type haApp struct{ a *app }

// Status implements homeassistant.App, from GET /api/state's State.
func (h haApp) Status(ctx context.Context) homeassistant.AppStatus {
	s := h.a.State()
	return homeassistant.AppStatus{Scene: s.Scene, Scenes: s.Scenes, Printer: s.Printer.Status, PrintQueue: s.Printer.Queue}
}

// SwitchScene refuses a scene as POST /api/scene does, in its words.
func (h haApp) SwitchScene(name string) error {
	if !slices.Contains(h.a.State().Scenes, name) {
		return fmt.Errorf("unknown scene %q", name)
	}
	return h.a.SwitchScene(name)
}

// Press takes what POST /api/buttons/{A|B} takes.
func (h haApp) Press(button, press string) error {
	if button != scene.ButtonA && button != scene.ButtonB {
		return fmt.Errorf("no button %q; the buttons are A and B", button)
	}
	p, ok := scene.ParsePress(press)
	if !ok {
		return fmt.Errorf("unknown press %q; want short, long or double", press)
	}
	return h.a.Press(button, p)
}

// PrintStrip is POST /api/comics/print: only the comic scene composes.
func (h haApp) PrintStrip(ctx context.Context) error {
	if err := h.requireScene(comic.Name, "the comic scene"); err != nil {
		return err
	}
	return (&comicGallery{a: h.a}).PrintNew(ctx)
}

// requireScene refuses, in the web API's words, unless scene name runs.
func (h haApp) requireScene(name, what string) error {
	if cur := h.a.State().Scene; cur != name {
		return fmt.Errorf("%s is not running (%s is): switch to %s first", what, cur, name)
	}
	return nil
}

// haWeather is the barometer's report, as GET /api/barometer has it.
type haWeather struct{ v *barometer.View }

func (w haWeather) Weather(ctx context.Context) (homeassistant.Weather, error) {
	r, err := w.v.Report(ctx)
	if err != nil {
		return homeassistant.Weather{}, err
	}
	return homeassistant.Weather{Valid: r.Valid, SeaLevel: r.SeaLevel, Temperature: r.Temperature,
		TendencyKnown: r.TendencyKnown, Change3h: r.Change3h, Warning: r.Level.String()}, nil
}

// haCards totals the collection as GET /api/cards does.
type haCards struct{ st *store.Store }

func (c haCards) Cards(ctx context.Context) (homeassistant.Cards, error) {
	owned, err := c.st.Collection(ctx)
	if err != nil {
		return homeassistant.Cards{}, err
	}
	var out homeassistant.Cards
	for _, o := range owned {
		out.Count += o.Qty
		if p := o.Price; p > 0 && !math.IsInf(p, 0) { // an unknown or broken price counts 0, as on the page
			out.ValueUSD += float64(o.Qty) * p
		}
	}
	out.ValueUSD = math.Round(out.ValueUSD*100) / 100
	return out, nil
}

// haCamera is the spy-cam's captures and its snapshot command. The
// directory is listed again only when its modification time moved (or
// every half minute, for a coarse clock), not at every poll.
type haCamera struct {
	a    *app
	caps *store.Captures
	dir  string

	mu     sync.Mutex
	mtime  time.Time
	listed time.Time
	last   homeassistant.Capture
}

// Snapshot is POST /api/spycam/snapshot: only the spy-cam takes them.
func (c *haCamera) Snapshot(ctx context.Context) error {
	if err := (haApp{c.a}).requireScene(spycam.Name, "the spy-cam"); err != nil {
		return err
	}
	return spycamWeb{a: c.a}.Snapshot()
}

func (c *haCamera) LatestCapture(ctx context.Context) (homeassistant.Capture, error) {
	st, err := os.Stat(c.dir)
	if err != nil {
		return homeassistant.Capture{}, err
	}
	now := c.a.clock.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if st.ModTime().Equal(c.mtime) && now.Sub(c.listed) < 30*time.Second {
		return c.last, nil
	}
	groups, err := c.caps.CaptureGroups(ctx, 20)
	if err != nil {
		return homeassistant.Capture{}, err
	}
	var out homeassistant.Capture
	if len(groups) > 0 {
		if f := groups[0].Files; len(f) > 0 {
			out.ID = f[len(f)-1] // the newest frame of the newest capture
		}
	}
	for _, g := range groups {
		if g.Kind == spycam.KindMotion {
			out.LastMotion = g.Event
			break
		}
	}
	c.mtime, c.listed, c.last = st.ModTime(), now, out
	return out, nil
}

// maxSnapshot bounds what is read of one capture file.
const maxSnapshot = 4 << 20

func (c *haCamera) CaptureJPEG(ctx context.Context, id string) ([]byte, error) {
	f, err := c.caps.OpenCapture(id)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, maxSnapshot))
}
