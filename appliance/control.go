package appliance

// The control socket lets `tinkerbox print` hand an image to the running
// appliance, whose printer it would otherwise fight for (on hardware: two
// writers on one USB printer; in the simulator: a roll nobody sees).
//
// Why this is safe:
//   - It is a Unix socket in the data dir, never TCP. It is bound in a
//     private 0700 directory, made 0600 and only then renamed into place,
//     so no other user can connect even for an instant. Whoever can open
//     it (the appliance's user and root) can already write the database,
//     the password hash and the printer device: it grants nothing new.
//   - It does two things: print a grayscale raster the client has already
//     decoded and checked, and report health (version, web address, the
//     devices' probe results) to the updater, which runs as root. No file paths (the appliance never opens a file
//     for a caller), no config, no other command. The header is one short
//     JSON line; the pixels must be exactly width×height bytes within
//     fixed bounds, read under a deadline, one client at a time.

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/draw"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"time"

	xdraw "golang.org/x/image/draw"

	"tinkerbox/appliance/board"
	"tinkerbox/scenes/scene"
)

// ControlSocket is the control socket's name in the data dir.
const ControlSocket = "control.sock"

// Bounds of a print request: the widest printer the config allows, and a
// strip far longer than any roll holds.
const (
	controlMaxWidth  = 832
	controlMaxPixels = 16 << 20
	controlMaxHeader = 4 << 10
	controlReadTime  = 30 * time.Second // to send the request
	controlPrintTime = 5 * time.Minute  // to print it (a long photo on a slow serial printer)
)

// controlRequest is the header line; Width×Height gray bytes follow.
type controlRequest struct {
	Op     string `json:"op"` // "print"
	Name   string `json:"name"`
	Sim    bool   `json:"sim"` // the client asked for the simulator
	Width  int    `json:"width"`
	Height int    `json:"height"`
}

type controlReply struct {
	OK     bool           `json:"ok"`
	Msg    string         `json:"msg,omitempty"`
	Error  string         `json:"error,omitempty"`
	Health *controlHealth `json:"health,omitempty"`
}

// controlHealth is the "health" op's answer: what the updater checks
// before it commits a trial boot.
type controlHealth struct {
	Version string            `json:"version"`
	Listen  string            `json:"listen"` // the web server's address
	HTTPS   bool              `json:"https"`
	Devices map[string]string `json:"devices"` // device → probe status
}

// controlServer prints what `tinkerbox print` sends.
type controlServer struct {
	health  controlHealth
	printer scene.Printer // nil without a printer
	sim     bool
	record  func(level, source, msg string)
	log     *slog.Logger
}

// listenControl binds <dir>/control.sock, mode 0600. A live socket there
// means another appliance runs on this data dir: errControlInUse.
func listenControl(dir string) (*net.UnixListener, string, error) {
	path := filepath.Join(dir, ControlSocket)
	if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
		c.Close()
		return nil, path, errControlInUse
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, path, fmt.Errorf("control: remove stale %s: %w", path, err)
	}
	tmp, err := os.MkdirTemp(dir, ".control-*") // 0700
	if err != nil {
		return nil, path, fmt.Errorf("control: %w", err)
	}
	defer os.RemoveAll(tmp)
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: filepath.Join(tmp, ControlSocket), Net: "unix"})
	if err != nil {
		return nil, path, fmt.Errorf("control: %w", err)
	}
	ln.SetUnlinkOnClose(false) // it is renamed: closeControl removes it
	err = os.Chmod(filepath.Join(tmp, ControlSocket), 0o600)
	if err == nil {
		err = os.Rename(filepath.Join(tmp, ControlSocket), path)
	}
	if err != nil {
		ln.Close()
		return nil, path, fmt.Errorf("control: %w", err)
	}
	return ln, path, nil
}

var errControlInUse = errors.New("control: another tinkerbox answers on this data dir's control socket")

// serve answers one client at a time until ctx ends.
func (c *controlServer) serve(ctx context.Context, ln net.Listener) {
	go func() { <-ctx.Done(); ln.Close() }()
	for {
		conn, err := ln.Accept()
		if err != nil {
			if ctx.Err() == nil {
				c.log.Warn("control socket", "err", err)
			}
			return
		}
		c.handle(ctx, conn)
	}
}

func (c *controlServer) handle(ctx context.Context, conn net.Conn) {
	defer conn.Close()
	reply := func(r controlReply) {
		conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
		json.NewEncoder(conn).Encode(r)
	}
	conn.SetReadDeadline(time.Now().Add(controlReadTime))
	img, req, err := readControlRequest(conn)
	if err != nil {
		reply(controlReply{Error: err.Error()})
		return
	}
	if req.Op == "health" {
		h := c.health
		reply(controlReply{OK: true, Health: &h})
		return
	}
	switch {
	case req.Sim && !c.sim:
		reply(controlReply{Error: "the running tinkerbox drives real hardware, not the simulator"})
		return
	case c.printer == nil:
		reply(controlReply{Error: "the running tinkerbox has no printer (see `tinkerbox selftest`)"})
		return
	}
	pctx, cancel := context.WithTimeout(ctx, controlPrintTime)
	defer cancel()
	// The printer's own lock queues this job behind any strip or slip
	// being printed.
	if err := c.printer.Print(pctx, img); err != nil {
		c.record("warn", "printer", fmt.Sprintf("print %s from the command line: %v", req.Name, err))
		reply(controlReply{Error: "print: " + err.Error()})
		return
	}
	where := "on the printer"
	if c.sim {
		where = "on the simulator's paper roll (the front panel shows it)"
	}
	c.record("info", "printer", fmt.Sprintf("printed %s from the command line", req.Name))
	reply(controlReply{OK: true, Msg: "printed " + where})
}

// readControlRequest reads and checks one request.
func readControlRequest(r io.Reader) (*image.Gray, controlRequest, error) {
	br := bufio.NewReaderSize(io.LimitReader(r, controlMaxHeader+controlMaxPixels+1), controlMaxHeader)
	var req controlRequest
	line, err := br.ReadSlice('\n')
	if err != nil {
		return nil, req, fmt.Errorf("control: header: %w", err)
	}
	if err := json.Unmarshal(line, &req); err != nil {
		return nil, req, fmt.Errorf("control: header: %w", err)
	}
	switch req.Op {
	case "health":
		return nil, req, nil
	case "print":
	default:
		return nil, req, fmt.Errorf("control: unknown op %q (print or health)", req.Op)
	}
	if len(req.Name) > 256 {
		req.Name = req.Name[:256]
	}
	if req.Width < 1 || req.Width > controlMaxWidth || req.Height < 1 || req.Width*req.Height > controlMaxPixels {
		return nil, req, fmt.Errorf("control: image %dx%d out of bounds (width 1..%d, at most %d pixels)", req.Width, req.Height, controlMaxWidth, controlMaxPixels)
	}
	img := image.NewGray(image.Rect(0, 0, req.Width, req.Height))
	if _, err := io.ReadFull(br, img.Pix); err != nil {
		return nil, req, fmt.Errorf("control: pixels: %w", err)
	}
	return img, req, nil
}

// printRequest makes the request for img: gray, no wider than any printer.
func printRequest(name string, sim bool, img image.Image) (controlRequest, *image.Gray) {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if w > controlMaxWidth {
		w, h = controlMaxWidth, max(1, h*controlMaxWidth/w)
	}
	for w*h > controlMaxPixels { // a strip longer than any roll: keep its aspect
		w, h = max(1, w/2), max(1, h/2)
	}
	g := image.NewGray(image.Rect(0, 0, w, h))
	draw.Draw(g, g.Rect, image.White, image.Point{}, draw.Src) // transparency prints as paper
	if w == b.Dx() && h == b.Dy() {
		draw.Draw(g, g.Rect, img, b.Min, draw.Over)
	} else {
		xdraw.ApproxBiLinear.Scale(g, g.Rect, img, b, draw.Over, nil)
	}
	return controlRequest{Op: "print", Name: name, Sim: sim, Width: w, Height: h}, g
}

// errNoAppliance: nothing listens on the data dir's control socket.
var errNoAppliance = errors.New("no tinkerbox is running on this data dir")

// printViaControl sends img to the appliance running on dataDir and returns
// its answer; errNoAppliance when none runs there.
func printViaControl(ctx context.Context, dataDir, name string, sim bool, img image.Image) (string, error) {
	path := filepath.Join(dataDir, ControlSocket)
	var d net.Dialer
	dctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	conn, err := d.DialContext(dctx, "unix", path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ECONNREFUSED) {
			return "", errNoAppliance
		}
		return "", fmt.Errorf("print: cannot reach the running tinkerbox at %s: %w (run as its user, or root)", path, err)
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Now()) })
	defer stop()
	req, g := printRequest(name, sim, img)
	hdr, err := json.Marshal(req)
	if err != nil {
		return "", fmt.Errorf("print: %w", err)
	}
	conn.SetDeadline(time.Now().Add(controlReadTime + controlPrintTime))
	if _, err := conn.Write(append(hdr, '\n')); err == nil {
		_, err = conn.Write(g.Pix)
	}
	if err != nil {
		return "", fmt.Errorf("print: send to %s: %w", path, err)
	}
	var r controlReply
	if err := json.NewDecoder(io.LimitReader(conn, 64<<10)).Decode(&r); err != nil {
		return "", fmt.Errorf("print: answer from %s: %w", path, err)
	}
	if !r.OK {
		return "", &controlRefused{msg: r.Error}
	}
	return r.Msg, nil
}

// controlRefused is the running appliance's refusal.
type controlRefused struct{ msg string }

func (e *controlRefused) Error() string { return "print: the running tinkerbox refused: " + e.msg }

// healthViaControl asks the appliance running on dataDir for its health.
func healthViaControl(ctx context.Context, dataDir string) (controlHealth, error) {
	path := filepath.Join(dataDir, ControlSocket)
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		return controlHealth{}, fmt.Errorf("control: %w", err)
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Now()) })
	defer stop()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := conn.Write([]byte(`{"op":"health"}` + "\n")); err != nil {
		return controlHealth{}, fmt.Errorf("control: %w", err)
	}
	var r controlReply
	if err := json.NewDecoder(io.LimitReader(conn, 64<<10)).Decode(&r); err != nil {
		return controlHealth{}, fmt.Errorf("control: answer: %w", err)
	}
	if !r.OK || r.Health == nil {
		return controlHealth{}, fmt.Errorf("control: %s", r.Error)
	}
	return *r.Health, nil
}

// probeStatus is the start-up probe result of every device, by name: "ok"
// when every probe of it passed, else the first other status.
func probeStatus(b *board.Board) map[string]string {
	m := map[string]string{}
	for _, p := range b.Probes {
		st := p.Status
		if st == board.StatusOK {
			st = "ok"
		}
		if prev, seen := m[p.Device]; !seen || prev == "ok" {
			m[p.Device] = st
		}
	}
	return m
}
