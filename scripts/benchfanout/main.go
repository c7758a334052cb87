// Command benchfanout measures tinkerbox's MJPEG fan-out against go2rtc's on
// this machine, in one run, fed the same recorded frames.
//
// One feeder program (this binary in another role) writes recorded JPEGs
// from the simulated camera to stdout at 15 fps, as rpicam-vid does, each
// stamped with its number and the time of the write. tinkerbox runs it as
// its camera command (picam.RPiCam, picam.Owner and appliance/web's
// /stream.mjpg, wired as in the appliance, in a process of their own);
// go2rtc runs it as an exec: source and serves /api/stream.mjpeg. N viewers
// read each server at full speed over loopback. For each server and N, a
// fresh server process is measured over a window after a warm-up:
//
//   - CPU per delivered frame: the server's CPU time (all threads, from
//     /proc/PID/task/*/schedstat) over the parts its viewers received;
//   - RSS: VmHWM (peak) and VmRSS at the end of the window;
//   - under CPU starvation (busy loops on every core, servers on
//     GOMAXPROCS=1): frames per second each viewer received, and the p99
//     latency from the feeder's write to the viewer's last byte;
//   - a stalled viewer (connected, never reading): how long until the
//     server closes it.
//
// The figures are CPU time and memory, which a busy machine disturbs less
// than wall time; the load average is printed with them.
//
//	go run ./scripts/benchfanout [-go2rtc BIN] [-viewers 1,10,50] [-window 10s] [-rounds 3] [-v]
//
// Without -go2rtc, go2rtc v1.9.9 is built from the Go module proxy into
// .cache/bench/ (ignored by git) the first time.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

const (
	password      = "benchfanout-password"
	go2rtcVersion = "v1.9.9"
	fps           = 15
	nFrames       = 75 // 5 s of the simulated camera, looped
)

type options struct {
	go2rtc        string
	viewers       []int
	warmup        time.Duration
	window        time.Duration
	rounds        int
	starveViewers int
	hogsPerCore   int
	stall         time.Duration
	frames        string
	niced         bool // the feeder and the viewers run at nice -10
	verbose       bool
}

func main() {
	if role := os.Getenv("BENCHFANOUT_ROLE"); role != "" {
		var err error
		switch role {
		case "feed":
			err = feed()
		case "serve":
			err = serve()
		case "hog":
			hog()
		default:
			err = fmt.Errorf("unknown role %q", role)
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "benchfanout %s: %v\n", role, err)
			os.Exit(1)
		}
		return
	}
	var o options
	viewers := flag.String("viewers", "1,10,50", `viewer counts, comma-separated ("": no full-speed fan-out)`)
	flag.StringVar(&o.go2rtc, "go2rtc", "", "go2rtc binary; empty: build "+go2rtcVersion+" into .cache/bench/")
	flag.DurationVar(&o.warmup, "warmup", 3*time.Second, "warm-up before each window")
	flag.DurationVar(&o.window, "window", 10*time.Second, "measured window")
	flag.IntVar(&o.rounds, "rounds", 3, "rounds; each figure is the median")
	flag.IntVar(&o.starveViewers, "starve-viewers", 10, "viewers during CPU starvation")
	flag.IntVar(&o.hogsPerCore, "hogs", 2, "busy loops per core during starvation (0: skip)")
	flag.DurationVar(&o.stall, "stall", 20*time.Second, "how long a stalled viewer is watched (0: skip)")
	flag.StringVar(&o.frames, "frames", "", "directory of recorded JPEGs (default: recorded from the simulated camera)")
	flag.BoolVar(&o.verbose, "v", false, "print each round's figures on stderr")
	flag.Parse()
	for f := range strings.SplitSeq(*viewers, ",") {
		if *viewers == "" {
			break // only starvation and the stalled viewer
		}
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			fmt.Fprintf(os.Stderr, "benchfanout: -viewers: %q is not a viewer count\n", f)
			os.Exit(2)
		}
		o.viewers = append(o.viewers, n)
	}
	if flag.NArg() != 0 || o.rounds < 1 || o.window <= 0 {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "benchfanout:", err)
		os.Exit(1)
	}
}

// result is one server measured with n viewers.
type result struct {
	cpu      time.Duration // server CPU in the window
	parts    int           // parts the viewers received in the window
	share    float64       // of the frames the feeder wrote, the mean viewer's part
	fps      float64       // parts per viewer per second
	p50, p99 time.Duration
	rss, hwm int // KiB
	failed   int
}

// String is a round's figures, so that the medians can be checked (-v).
func (r result) String() string {
	return fmt.Sprintf("CPU %v for %d parts (%v each), %.1f fps per viewer, %.1f %% of frames, p50 %v p99 %v, VmHWM %d kB, VmRSS %d kB, %d viewers failed",
		r.cpu.Round(time.Millisecond), r.parts, r.perFrame().Round(100*time.Nanosecond), r.fps, r.share*100,
		r.p50.Round(100*time.Microsecond), r.p99.Round(100*time.Microsecond), r.hwm, r.rss, r.failed)
}

// logf tells what is being measured and each round's figures, with -v.
func (o options) logf(format string, args ...any) {
	if o.verbose {
		fmt.Fprintf(os.Stderr, format, args...)
	}
}

func (r result) perFrame() time.Duration {
	if r.parts == 0 {
		return 0
	}
	return r.cpu / time.Duration(r.parts)
}

func run(o options) error {
	o.niced = raisePriority() // the viewers' process; the feeder raises its own
	tmp, err := os.MkdirTemp("", "benchfanout")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	frames := o.frames
	if frames == "" {
		frames = filepath.Join(tmp, "frames")
		if err := os.Mkdir(frames, 0o755); err != nil {
			return err
		}
		if _, err := recordFrames(frames, nFrames, fps); err != nil {
			return fmt.Errorf("record frames: %w", err)
		}
	}
	fr, err := loadFrames(frames)
	if err != nil {
		return err
	}
	mean := 0
	for _, f := range fr {
		mean += len(f)
	}
	mean /= len(fr)
	if o.go2rtc == "" {
		if o.go2rtc, err = buildGo2rtc(); err != nil {
			return err
		}
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	env := []string{"BENCHFANOUT_FRAMES=" + frames, "BENCHFANOUT_FPS=" + strconv.Itoa(fps)}
	kinds := []kind{
		{name: "tinkerbox", start: func(x []string) (*server, error) { return startTinkerbox(self, tmp, append(env, x...)) }},
		{name: "go2rtc", start: func(x []string) (*server, error) { return startGo2rtc(o.go2rtc, self, tmp, append(env, x...)) }},
	}
	loads := []string{loadAvg()}

	// Fan-out at full speed.
	fan := map[string]map[int][]result{}
	for _, k := range kinds {
		fan[k.name] = map[int][]result{}
	}
	for round := range o.rounds {
		for _, n := range o.viewers {
			for i := range kinds {
				k := kinds[(i+round)%len(kinds)] // alternate who goes first
				o.logf("round %d: %s, %d viewers\n", round+1, k.name, n)
				r, err := measureFresh(k, nil, n, o)
				if err != nil {
					return fmt.Errorf("%s, %d viewers: %w", k.name, n, err)
				}
				o.logf("  %s\n", r)
				fan[k.name][n] = append(fan[k.name][n], r)
				loads = append(loads, loadAvg())
			}
		}
	}

	// CPU starvation.
	starve := map[string][]result{}
	if o.hogsPerCore > 0 {
		nHogs := o.hogsPerCore * runtime.NumCPU()
		cases := append(slices.Clone(kinds), kind{name: "tinkerbox+motion", start: func(x []string) (*server, error) {
			return startTinkerbox(self, tmp, append(env, append(x, "BENCHFANOUT_MOTION=1")...))
		}})
		for round := range o.rounds {
			for i := range cases {
				k := cases[(i+round)%len(cases)]
				o.logf("round %d: %s starved, %d viewers, %d busy loops\n", round+1, k.name, o.starveViewers, nHogs)
				hogs, err := startHogs(self, nHogs)
				if err != nil {
					return err
				}
				r, err := measureFresh(k, []string{"GOMAXPROCS=1"}, o.starveViewers, o)
				loads = append(loads, loadAvg())
				stopAll(hogs)
				if err != nil {
					return fmt.Errorf("%s starved: %w", k.name, err)
				}
				o.logf("  %s\n", r)
				starve[k.name] = append(starve[k.name], r)
			}
		}
	}

	// A stalled viewer.
	stalls := map[string]string{}
	if o.stall > 0 {
		for _, k := range kinds {
			o.logf("%s: a stalled viewer\n", k.name)
			d, err := stalledViewer(k, o.stall)
			switch {
			case err != nil:
				return fmt.Errorf("%s stalled viewer: %w", k.name, err)
			case d < 0:
				stalls[k.name] = fmt.Sprintf("open after %.0f s", o.stall.Seconds())
			default:
				stalls[k.name] = fmt.Sprintf("%.1f s", d.Seconds())
			}
		}
	}

	printTable(os.Stdout, o, mean, loads, fan, starve, stalls)
	return nil
}

type kind struct {
	name  string
	start func(env []string) (*server, error)
}

// measureFresh measures n viewers on a server process of its own, so that
// its peak RSS is this case's.
func measureFresh(k kind, env []string, n int, o options) (result, error) {
	s, err := k.start(env)
	if err != nil {
		return result{}, err
	}
	defer s.stop()
	return measure(s, n, o.warmup, o.window)
}

func measure(s *server, n int, warmup, window time.Duration) (result, error) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: n, DisableCompression: true}}
	vs := make([]*viewer, n)
	for i := range vs {
		vs[i] = newViewer()
		if err := vs[i].open(ctx, client, s.stream); err != nil {
			return result{}, err
		}
	}
	deadline := time.After(60 * time.Second)
	for i, v := range vs {
		select {
		case <-v.first:
		case <-deadline:
			v.mu.Lock()
			err := v.err
			v.mu.Unlock()
			return result{}, fmt.Errorf("viewer %d got no frame in 60 s (%v)", i, err)
		}
	}
	time.Sleep(warmup) // a benchmark program: it measures wall-clock windows
	cpu0, err := cpuTime(s.pid)
	if err != nil {
		return result{}, err
	}
	t0 := time.Now()
	for _, v := range vs {
		v.setMeasuring(true)
	}
	time.Sleep(window)
	for _, v := range vs {
		v.setMeasuring(false)
	}
	wall := time.Since(t0)
	cpu1, err := cpuTime(s.pid)
	if err != nil {
		return result{}, err
	}
	var r result
	if r.rss, r.hwm, err = memory(s.pid); err != nil {
		return result{}, err
	}
	r.cpu = cpu1 - cpu0
	var lat []time.Duration
	var minSeq, maxSeq uint32
	for _, v := range vs {
		v.mu.Lock()
		if v.err != nil {
			r.failed++
		}
		if v.got > 0 {
			if minSeq == 0 || v.minSeq < minSeq {
				minSeq = v.minSeq
			}
			maxSeq = max(maxSeq, v.maxSeq)
		}
		r.parts += v.got
		lat = append(lat, v.latencies...)
		v.mu.Unlock()
	}
	if r.parts == 0 {
		return result{}, errors.New("no viewer received a frame in the window")
	}
	made := int(maxSeq-minSeq) + 1
	r.share = float64(r.parts) / float64(n*made)
	r.fps = float64(r.parts) / float64(n) / wall.Seconds()
	slices.Sort(lat)
	r.p50, r.p99 = pct(lat, 0.50), pct(lat, 0.99)
	return r, nil
}

func pct(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	return d[min(len(d)-1, int(p*float64(len(d))))]
}

// server is a running server process and its group (its camera feeder).
type server struct {
	cmd    *exec.Cmd
	pid    int
	stream string // the MJPEG URL
	base   string
	done   chan struct{}
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// errNotReady is a server that did not answer as ours within the time: on a
// shared machine the port may have been taken between freeAddr and the
// server's bind, and someone else answers. Starting again on another port
// helps.
var errNotReady = errors.New("not ready")

// start runs cmd and waits until ready says the server at base is the one
// started (it may take others' answers for its own otherwise).
func start(cmd *exec.Cmd, base, stream string, ready func(base string) bool) (*server, error) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Stdout = io.Discard
	var stderr tail
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &server{cmd: cmd, pid: cmd.Process.Pid, base: base, stream: stream, done: make(chan struct{})}
	go func() { cmd.Wait(); close(s.done) }()
	deadline := time.Now().Add(20 * time.Second)
	for !ready(base) {
		select {
		case <-s.done:
			return nil, fmt.Errorf("%s exited: %s: %w", filepath.Base(cmd.Path), stderr.String(), errNotReady)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.stop()
			return nil, fmt.Errorf("%s did not answer at %s in 20 s: %w", filepath.Base(cmd.Path), base, errNotReady)
		}
	}
	return s, nil
}

// retry starts a server up to 3 times, each on a port of its own.
func retry(startOnce func() (*server, error)) (*server, error) {
	var err error
	for range 3 {
		var s *server
		if s, err = startOnce(); !errors.Is(err, errNotReady) {
			return s, err
		}
		fmt.Fprintln(os.Stderr, "  starting again:", err)
	}
	return nil, err
}

// tinkerboxReady: /api/spycam answers with this bench's password.
func tinkerboxReady(base string) bool {
	var st struct{ Viewers int }
	return getJSON(base+"/api/spycam", &st) == nil
}

// go2rtcReady: /api/streams lists this bench's stream.
func go2rtcReady(base string) bool {
	var st map[string]json.RawMessage
	if getJSON(base+"/api/streams", &st) != nil {
		return false
	}
	_, ok := st["cam"]
	return ok
}

// stop ends the server and its camera feeder: SIGTERM to the group, SIGKILL
// after 3 s.
func (s *server) stop() {
	syscall.Kill(-s.pid, syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(3 * time.Second):
		syscall.Kill(-s.pid, syscall.SIGKILL)
		<-s.done
	}
	syscall.Kill(-s.pid, syscall.SIGKILL) // a feeder left behind
}

func startTinkerbox(self, tmp string, env []string) (*server, error) {
	return retry(func() (*server, error) { return startTinkerboxOnce(self, tmp, env) })
}

func startGo2rtc(bin, self, tmp string, env []string) (*server, error) {
	return retry(func() (*server, error) { return startGo2rtcOnce(bin, self, tmp, env) })
}

func startTinkerboxOnce(self, tmp string, env []string) (*server, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	data, err := os.MkdirTemp(tmp, "data")
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(self)
	cmd.Env = append(os.Environ(), append(env, "BENCHFANOUT_ROLE=serve", "BENCHFANOUT_LISTEN="+addr, "BENCHFANOUT_DATA="+data)...)
	base := "http://" + addr
	return start(cmd, base, base+"/stream.mjpg", tinkerboxReady)
}

func startGo2rtcOnce(bin, self, tmp string, env []string) (*server, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp(tmp, "go2rtc")
	if err != nil {
		return nil, err
	}
	// Only the HTTP API: no RTSP, WebRTC or HomeKit listeners.
	cfg := fmt.Sprintf("api:\n  listen: %q\nrtsp:\n  listen: \"\"\nwebrtc:\n  listen: \"\"\nsrtp:\n  listen: \"\"\nlog:\n  level: warn\n"+
		"streams:\n  cam: exec:/usr/bin/env BENCHFANOUT_ROLE=feed %s\n", addr, self)
	path := filepath.Join(dir, "go2rtc.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "-config", path)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...) // the feeder inherits its settings
	base := "http://" + addr
	return start(cmd, base, base+"/api/stream.mjpeg?src=cam", go2rtcReady)
}

// stalledViewer opens a stream that is never read, next to one healthy
// viewer, and returns how long the server took to drop it (-1: not within
// limit), from the server's own viewer count.
func stalledViewer(k kind, limit time.Duration) (time.Duration, error) {
	s, err := k.start(nil)
	if err != nil {
		return 0, err
	}
	defer s.stop()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	healthy := newViewer()
	if err := healthy.open(ctx, http.DefaultClient, s.stream); err != nil {
		return 0, err
	}
	<-healthy.first
	u := strings.TrimPrefix(s.stream, s.base)
	conn, err := net.Dial("tcp", strings.TrimPrefix(s.base, "http://"))
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	conn.(*net.TCPConn).SetReadBuffer(4096)
	r, _ := http.NewRequest("GET", s.base+u, nil)
	r.SetBasicAuth("admin", password)
	fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: x\r\nAuthorization: %s\r\n\r\n", u, r.Header.Get("Authorization"))
	t0 := time.Now()
	seen := false
	for time.Since(t0) < limit {
		n, err := viewerCount(s)
		if err != nil {
			return 0, err
		}
		if n == 2 {
			seen = true
		}
		if seen && n == 1 {
			return time.Since(t0), nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !seen {
		return 0, errors.New("the stalled viewer was never counted")
	}
	return -1, nil
}

// viewerCount asks the server how many stream viewers it has.
func viewerCount(s *server) (int, error) {
	if strings.HasSuffix(s.stream, "/stream.mjpg") {
		var st struct{ Viewers int }
		err := getJSON(s.base+"/api/spycam", &st)
		return st.Viewers, err
	}
	var st map[string]struct {
		Consumers []json.RawMessage `json:"consumers"`
	}
	err := getJSON(s.base+"/api/streams", &st)
	return len(st["cam"].Consumers), err
}

func getJSON(url string, v any) error {
	r, err := http.NewRequest("GET", url, nil)
	if err != nil {
		return err
	}
	r.SetBasicAuth("admin", password)
	res, err := http.DefaultClient.Do(r)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, res.Status)
	}
	return json.NewDecoder(res.Body).Decode(v)
}

func startHogs(self string, n int) ([]*exec.Cmd, error) {
	var hogs []*exec.Cmd
	for range n {
		c := exec.Command(self)
		c.Env = append(os.Environ(), "BENCHFANOUT_ROLE=hog", "GOMAXPROCS=1")
		if err := c.Start(); err != nil {
			stopAll(hogs)
			return nil, err
		}
		hogs = append(hogs, c)
	}
	return hogs, nil
}

func stopAll(cmds []*exec.Cmd) {
	for _, c := range cmds {
		c.Process.Kill()
		c.Wait()
	}
}

// buildGo2rtc builds go2rtc from the module proxy into .cache/bench/ once.
// It is built as the dependency of a throwaway module, not by `go install
// module@version`: that asks the proxy for the module's version list (to
// look for a deprecation notice), which the proxy may refuse while it
// serves the version itself. The module cache is tried before the proxy.
func buildGo2rtc() (string, error) {
	dir, err := filepath.Abs(filepath.Join(".cache", "bench", "go2rtc-"+go2rtcVersion))
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "go2rtc")
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	fmt.Fprintf(os.Stderr, "building go2rtc %s into %s (a minute or two, once)\n", go2rtcVersion, dir)
	modcache, err := exec.Command("go", "env", "GOMODCACHE").Output()
	if err != nil {
		return "", fmt.Errorf("go env: %w", err)
	}
	proxy, _ := exec.Command("go", "env", "GOPROXY").Output()
	work, err := os.MkdirTemp("", "go2rtc-build-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(work)
	files := map[string]string{
		"go.mod":   "module go2rtcbuild\n\ngo 1.26.0\n\nrequire github.com/AlexxIT/go2rtc " + go2rtcVersion + "\n",
		"tools.go": "//go:build tools\n\npackage tools\n\nimport _ \"github.com/AlexxIT/go2rtc\"\n",
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(work, name), []byte(text), 0o644); err != nil {
			return "", err
		}
	}
	env := append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=", "GOWORK=off",
		"GOPROXY=file://"+filepath.Join(strings.TrimSpace(string(modcache)), "cache", "download")+","+strings.TrimSpace(string(proxy)))
	for _, args := range [][]string{{"mod", "tidy"}, {"build", "-o", bin, "github.com/AlexxIT/go2rtc"}} {
		cmd := exec.Command("go", args...)
		cmd.Dir, cmd.Env = work, env
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			return "", fmt.Errorf("go2rtc %s: go %s: %w", go2rtcVersion, args[0], err)
		}
	}
	return bin, nil
}

// tail keeps the last 2 KB written to it, for an error message.
type tail struct{ b []byte }

func (t *tail) Write(p []byte) (int, error) {
	t.b = append(t.b, p...)
	if len(t.b) > 2048 {
		t.b = t.b[len(t.b)-2048:]
	}
	return len(p), nil
}
func (t *tail) String() string { return strings.TrimSpace(string(t.b)) }
