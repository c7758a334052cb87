package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"syscall"
	"time"

	"golang.org/x/crypto/bcrypt"

	"tinkerbox/appliance/store"
	"tinkerbox/appliance/web"
	"tinkerbox/drivers/picam"
	"tinkerbox/scenes/scene"
	"tinkerbox/scenes/spycam"
)

// ownerCamera is the camera owner as a scene.Camera, the way the appliance
// hands it to the web server and the scenes.
type ownerCamera struct{ o *picam.Owner }

func (c ownerCamera) Next(ctx context.Context, after uint64) (scene.Frame, error) {
	f, err := c.o.Next(ctx, after)
	return scene.Frame(f), err
}

func (c ownerCamera) Hold(ctx context.Context, after uint64) (scene.Frame, error) {
	f, err := c.o.Hold(ctx, after)
	return scene.Frame(f), err
}

func (c ownerCamera) Release(f scene.Frame) { c.o.Release(picam.Frame(f)) }

var _ web.FrameHolder = ownerCamera{}

// benchApp is the appliance as the web server sees it: only the camera's
// state is asked for (by /api/spycam).
type benchApp struct{ o *picam.Owner }

func (a benchApp) State() web.State {
	s := a.o.Stats()
	return web.State{Scene: spycam.Name, Camera: web.CameraState{Online: s.Running, FPS: s.FPS, Width: s.Width, Height: s.Height, Frames: s.Frames, Error: s.LastError}}
}
func (benchApp) SwitchScene(string) error        { return errors.New("benchfanout: one scene") }
func (benchApp) Press(string, scene.Press) error { return errors.New("benchfanout: no buttons") }

// serve is tinkerbox's camera path and stream in a process of its own, wired
// as the appliance wires them: rpicam-vid (here the feeder) supervised by
// picam's RPiCam and Owner, /stream.mjpg from appliance/web behind its
// authentication and connection limits, and with BENCHFANOUT_MOTION=1 the
// spy-cam scene watching the same frames for motion and saving captures.
// The rest of the appliance (scenes, packs, catalog) is left out: go2rtc is
// a stream server too, and this is what the two have in common.
func serve() error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if path := os.Getenv("BENCHFANOUT_CPUPROFILE"); path != "" {
		f, err := os.Create(path)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	fps, _ := strconv.Atoi(os.Getenv("BENCHFANOUT_FPS"))
	src := picam.NewRPiCam(&picam.RPiCamOpts{
		Command: self, Width: 640, Height: 480, FrameRate: fps,
		Env: []string{"BENCHFANOUT_ROLE=feed"}, // the rest of the feeder's settings are inherited
	})
	owner := picam.NewOwner(src, nil)
	ownerDone := make(chan error, 1)
	go func() { ownerDone <- owner.Run(ctx) }()

	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		return err
	}
	cam := ownerCamera{owner}
	srv, err := web.New(web.Options{App: benchApp{owner}, Camera: cam, PasswordHash: hash})
	if err != nil {
		return err
	}
	srv.MountSpycam(nil)

	if os.Getenv("BENCHFANOUT_MOTION") == "1" {
		dir := os.Getenv("BENCHFANOUT_DATA")
		st, err := store.Open(ctx, dir, nil)
		if err != nil {
			return err
		}
		defer st.Close()
		caps, err := st.SpycamCaptures(filepath.Join(dir, "captures"), 64<<20)
		if err != nil {
			return err
		}
		sc := spycam.New(cam, nil, caps, nil, spycam.DefaultOpts())
		go sc.Run(ctx, make(chan scene.Event))
	}

	hs, wrap := web.NewHTTPServer(srv.Handler(), nil)
	hs.RegisterOnShutdown(srv.EndStreams)
	ln, err := net.Listen("tcp", os.Getenv("BENCHFANOUT_LISTEN"))
	if err != nil {
		return err
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- hs.Serve(wrap(ln)) }()
	select {
	case err := <-serveErr:
		return err
	case err := <-ownerDone:
		return fmt.Errorf("camera owner: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	hs.Shutdown(sctx)
	owner.Halt()
	if err := <-serveErr; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
