// Package appliance wires the firmware together: config, board, store, scene
// loop and web server. main calls Run, Selftest and Print.
package appliance

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"tinkerbox/appliance/board"
	"tinkerbox/appliance/config"
	"tinkerbox/appliance/loop"
	"tinkerbox/appliance/store"
	"tinkerbox/appliance/web"
	"tinkerbox/scenes/barometer"
	"tinkerbox/scenes/cardfeed"
	"tinkerbox/scenes/comic"
	"tinkerbox/scenes/scene"
	"tinkerbox/scenes/spycam"
)

// memoryLimit is the heap the appliance aims to stay under (GOMEMLIMIT
// overrides it).
const memoryLimit = 64 << 20

// Options come from the command line.
type Options struct {
	ConfigPath string
	DataDir    string
	Listen     string
	Sim        bool
	RecordDir  string
	Version    string
	Stdout     io.Writer
	Stderr     io.Writer
	// Clock is the wall clock unless a test injects one.
	Clock scene.Clock
	// Getenv and OnDevice stand in for the environment and the device-image
	// check in tests (nil: os.Getenv, onDeviceImage).
	Getenv   func(string) string
	OnDevice func() bool

	// dataWhy says which step of DataDirHelp chose the data dir (set by
	// loadConfig).
	dataWhy string
}

// UsageError is a mistake on the command line or in the config: exit code 2.
type UsageError struct{ Err error }

func (e UsageError) Error() string { return e.Err.Error() }
func (e UsageError) Unwrap() error { return e.Err }

// configSearch is where the config is looked for when --config is not given:
// the working directory (laptop), the boot partition (editable from any
// computer) and /etc.
func configSearch() []string {
	return []string{"tinkerbox.toml", "/boot/tinkerbox.toml", "/etc/tinkerbox.toml"}
}

// loadConfig reads the config and applies the command-line overrides; the
// data dir follows DataDirHelp for every command.
func loadConfig(o *Options, log *slog.Logger) (*config.Config, error) {
	var cfg *config.Config
	var err error
	file := "the built-in defaults"
	if o.ConfigPath != "" {
		if cfg, err = config.Load(o.ConfigPath); err != nil {
			return nil, UsageError{err}
		}
		file = o.ConfigPath
	} else {
		for _, p := range configSearch() {
			cfg, err = config.Load(p)
			if err == nil {
				log.Info("config loaded", "file", p)
				file = p
				break
			}
			if !errors.Is(err, fs.ErrNotExist) {
				return nil, UsageError{err}
			}
		}
		if cfg == nil {
			log.Info("no tinkerbox.toml found: using the built-in defaults")
			cfg = config.Default()
		}
	}
	// A laptop should not listen on the LAN by default.
	if o.Sim && o.Listen == "" && o.ConfigPath == "" {
		o.Listen = "127.0.0.1:8080"
	}
	cfg.Appliance.DataDir, o.dataWhy = resolveDataDir(o, cfg, file)
	if o.Listen != "" {
		cfg.Web.Listen = o.Listen
	}
	if err := cfg.Validate(); err != nil {
		return nil, UsageError{err}
	}
	return cfg, nil
}

func newLogger(w io.Writer) *slog.Logger {
	if w == nil {
		w = os.Stderr
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

// Run runs the appliance until ctx ends (SIGINT/SIGTERM).
func Run(ctx context.Context, o Options) (err error) {
	log := newLogger(o.Stderr)
	if o.Clock == nil {
		o.Clock = scene.SystemClock{}
	}
	cfg, err := loadConfig(&o, log)
	if err != nil {
		return err
	}
	if err := checkDataDir(cfg.Appliance.DataDir, o.dataWhy); err != nil {
		return err
	}
	log.Info("data dir", "dir", cfg.Appliance.DataDir, "from", o.dataWhy)
	if os.Getenv("GOMEMLIMIT") == "" {
		// A Pi Zero has 512 MB for everything: keep the heap near what it
		// needs (the limit is soft; GC works harder rather than fail) and
		// hand decoding garbage back to the system promptly.
		debug.SetMemoryLimit(memoryLimit)
	}

	b, err := board.Open(ctx, cfg, board.Options{Sim: o.Sim, Clock: o.Clock, Log: log})
	if err != nil {
		return err
	}
	// Every exit path leaves the hardware safe, a panic included.
	defer func() {
		if r := recover(); r != nil {
			b.Halt()
			panic(r)
		}
		b.Halt()
	}()

	// Listen before the scenes start, so a busy port is a clear error.
	ln, err := net.Listen("tcp", cfg.Web.Listen)
	if err != nil {
		return fmt.Errorf("web: listen on %s: %w (is tinkerbox already running? choose another with --listen)", cfg.Web.Listen, err)
	}
	defer ln.Close()
	var tlsCfg *tls.Config
	if cfg.Web.HTTPS {
		// A self-signed certificate made on first start and kept in the data
		// dir: browsers warn once, then the LAN traffic is encrypted.
		cert, err := web.SelfSignedCert(cfg.Appliance.DataDir, cfg.Appliance.Name)
		if err != nil {
			return err
		}
		tlsCfg = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}

	st, err := store.Open(ctx, cfg.Appliance.DataDir, o.Clock.Now)
	if err != nil {
		return err
	}
	defer st.Close()

	hash, generated, err := web.Password(cfg.Appliance.DataDir, os.Getenv("TINKERBOX_PASSWORD"), cfg.Web.Password)
	if err != nil {
		return err
	}

	a := &app{cfg: cfg, board: b, store: st, clock: o.Clock, log: log, sim: o.Sim}
	a.camera = newDemandCamera(b.Camera, o.Clock)
	scenes, err := a.scenes()
	if err != nil {
		return err
	}
	a.loop, err = loop.New(scenes, loop.Options{
		Clock:    o.Clock,
		Log:      log,
		Default:  cfg.Appliance.DefaultScene,
		Safe:     b.Safe,
		Halt:     b.Halt,
		Announce: a.announce,
		Record:   a.record,
		Chord:    a.chord,
	})
	if err != nil {
		return err
	}

	var cam scene.Camera // a nil *demandCamera must stay a nil interface
	if a.camera != nil {
		cam = a.camera
	}
	updater, noUpdater := firmwareUpdater(o)
	mq := a.newMQTT(o, a.url(ln.Addr())) // Home Assistant; also the web's App, for its state
	srv, err := web.New(web.Options{
		App:          mq,
		Camera:       cam,
		Roll:         a.roll(),
		Events:       st,
		PasswordHash: hash,
		Clock:        o.Clock,
		Log:          log,
		Name:         cfg.Appliance.Name,

		Updater:         updater,
		FirmwareVersion: o.Version,
		NoUpdaterReason: noUpdater,
	})
	if err != nil {
		return err
	}
	a.mountComic(srv)
	a.mountBarometer(srv)
	a.mountSpycam(srv) // the stream works under every scene
	a.mountCardfeed(srv, scenes)
	mq.mount(srv)
	// Timeouts and connection caps against slow and greedy clients; the
	// cap wraps the TCP listener, under TLS, to count connections before
	// their handshake.
	serveOpts := web.DefaultServeOpts()
	serveOpts.Log = log
	hs, limit := web.NewHTTPServer(srv.Handler(), serveOpts)
	served := limit(ln)
	if tlsCfg != nil {
		served = tls.NewListener(served, tlsCfg)
	}
	hs.RegisterOnShutdown(srv.EndStreams) // open event streams would hold Shutdown forever
	serveErr := make(chan error, 1)
	go func() { serveErr <- hs.Serve(served) }()

	// `tinkerbox print` reaches this appliance's printer through the data
	// dir's control socket (see control.go); without it the appliance
	// still runs, and the command prints on its own. Ready before the
	// "is running" line, so a script that waits for it can print.
	webAddr := ln.Addr().String()
	if ln, path, err := listenControl(cfg.Appliance.DataDir); err != nil {
		log.Warn("control socket: `tinkerbox print` will not reach this appliance", "err", err)
	} else {
		defer os.Remove(path)
		defer ln.Close()
		cs := &controlServer{printer: b.Printer, sim: o.Sim, record: a.record, log: log,
			health: controlHealth{Version: o.Version, Listen: webAddr, HTTPS: tlsCfg != nil, Devices: probeStatus(b)}}
		go cs.serve(ctx, ln)
	}
	a.password = generated
	out := o.Stdout
	if out == nil {
		out = os.Stdout
	}
	fmt.Fprintf(out, "tinkerbox %s is running%s: open %s\n", o.Version, map[bool]string{true: " in simulation"}[o.Sim], a.url(ln.Addr()))
	if generated != "" {
		fmt.Fprintf(out, "admin password (shown once, stored hashed in %s): %s\n", cfg.Appliance.DataDir, generated)
		a.printPassword()
	} else {
		fmt.Fprintln(out, "log in as admin with the password you set (TINKERBOX_PASSWORD, the config, or the one shown on first start)")
	}
	st.LogEvent(ctx, "info", "appliance", "started "+o.Version)

	go a.pumpButtons(ctx)
	go a.recordBarometer(ctx)
	go a.camera.idle(ctx)
	go mq.run(ctx)
	go a.settle(ctx)

	loopErr := make(chan error, 1)
	go func() { loopErr <- a.loop.Run(ctx) }()
	loopDone := false
	select {
	case err = <-loopErr:
		loopDone = true
	case err = <-serveErr:
		err = fmt.Errorf("web: %w", err)
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	hs.Shutdown(shutdown)
	if ctx.Err() != nil {
		if !loopDone {
			<-loopErr // the loop stops its scene and halts the devices
		}
		st.LogEvent(context.Background(), "info", "appliance", "stopped")
		fmt.Fprintln(out, "tinkerbox stopped; devices halted")
		return nil
	}
	return err
}

// url is what a person types into a browser to reach the appliance.
func (a *app) url(addr net.Addr) string {
	host, port, _ := net.SplitHostPort(cfgListen(a.cfg, addr))
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = a.cfg.Appliance.Name + ".local"
	}
	scheme, std := "http", "80"
	if a.cfg.Web.HTTPS {
		scheme, std = "https", "443"
	}
	if port == std {
		return scheme + "://" + host + "/"
	}
	return scheme + "://" + net.JoinHostPort(host, port) + "/"
}

// cfgListen is the configured address with the real port (for ":0").
func cfgListen(cfg *config.Config, addr net.Addr) string {
	host, _, _ := net.SplitHostPort(cfg.Web.Listen)
	_, port, _ := net.SplitHostPort(addr.String())
	return net.JoinHostPort(host, port)
}

// scenes builds the configured scenes in order.
func (a *app) scenes() ([]scene.Scene, error) {
	var out []scene.Scene
	for _, name := range a.cfg.Appliance.Scenes {
		var s scene.Scene
		var err error
		switch name {
		case comic.Name:
			s, err = a.comicScene()
		case barometer.Name:
			s, err = a.barometerScene()
		case spycam.Name:
			s, err = a.spycamScene()
		case cardfeed.Name:
			s, err = a.cardfeedScene()
		default:
			return nil, UsageError{fmt.Errorf("config: appliance.scenes: scene %q is not in this build yet (available: %s)", name, strings.Join(available(), ", "))}
		}
		if err != nil {
			return nil, fmt.Errorf("scene %s: %w", name, err)
		}
		out = append(out, s)
	}
	return out, nil
}

// available lists the scenes this build has.
func available() []string {
	return []string{comic.Name, cardfeed.Name, barometer.Name, spycam.Name}
}
