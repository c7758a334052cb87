// Command benchspycam measures the spy-cam stream the way it is used: it
// starts the real binary in simulation as a child process (640x480 at 15 fps
// from the simulated camera), opens N viewers on /stream.mjpg over loopback
// and, after a warm-up, reports for the measured window: the share of camera
// frames each viewer received, the server's CPU (from /proc/PID/stat, so only
// the server process counts), its RSS, and the latency from frame capture
// (the X-Timestamp part header) to a viewer.
//
// With -starve, busy loops (2 per core) compete for the CPU and the binary
// runs on GOMAXPROCS=1 with the spy-cam scene (motion analysis) on: the
// frame rate the viewers get then, and the latency. The simulated camera
// encodes its JPEGs in the same process, so this is the whole appliance's
// figure; scripts/benchfanout measures the stream against go2rtc.
//
//	go run ./scripts/benchspycam [-viewers 20] [-duration 60s] [-starve] dist/tinkerbox
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/textproto"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

const password = "benchspycam-password"

// userHZ is the unit of utime/stime in /proc/PID/stat on Linux.
const userHZ = 100

type viewer struct {
	mu        sync.Mutex
	measuring bool
	first     uint64 // first frame seen while measuring
	last      uint64
	got       int
	latencies []time.Duration
	err       error
}

func main() {
	viewers := flag.Int("viewers", 20, "number of stream viewers")
	duration := flag.Duration("duration", 60*time.Second, "measured window")
	warmup := flag.Duration("warmup", 3*time.Second, "warm-up before measuring")
	starve := flag.Bool("starve", false, "busy loops on every core, GOMAXPROCS=1 and the spy-cam scene")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: benchspycam [-viewers N] [-duration D] [-warmup D] [-starve] BINARY")
		flag.PrintDefaults()
	}
	if os.Getenv("BENCHSPYCAM_HOG") != "" {
		hog()
	}
	flag.Parse()
	if flag.NArg() != 1 || *viewers < 1 || *duration <= 0 {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(flag.Arg(0), *viewers, *duration, *warmup, *starve); err != nil {
		fmt.Fprintln(os.Stderr, "benchspycam:", err)
		os.Exit(1)
	}
}

func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// hogsPerCore is how many busy loops -starve runs on each core.
const hogsPerCore = 2

// hog is one busy loop, this program in another role.
func hog() {
	x := uint64(1)
	for {
		x = x*6364136223846793005 + 1442695040888963407
		if x == 0 {
			fmt.Println(x) // never: keeps the loop from being optimised away
		}
	}
}

// startHogs starts the busy loops; the returned func ends them.
func startHogs() (func(), error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	var hogs []*exec.Cmd
	stop := func() {
		for _, c := range hogs {
			c.Process.Kill()
			c.Wait()
		}
	}
	for range hogsPerCore * runtime.NumCPU() {
		c := exec.Command(self)
		c.Env = append(os.Environ(), "BENCHSPYCAM_HOG=1", "GOMAXPROCS=1")
		if err := c.Start(); err != nil {
			stop()
			return nil, err
		}
		hogs = append(hogs, c)
	}
	return stop, nil
}

// switchScene asks the appliance for the spy-cam scene.
func switchScene(base string) error {
	r, err := http.NewRequest("POST", base+"/api/scene", strings.NewReader(`{"name":"spycam"}`))
	if err != nil {
		return err
	}
	r.Header.Set("Content-Type", "application/json")
	r.SetBasicAuth("admin", password)
	res, err := http.DefaultClient.Do(r)
	if err != nil {
		return fmt.Errorf("switch to the spy-cam scene: %w", err)
	}
	res.Body.Close()
	if res.StatusCode/100 != 2 {
		return fmt.Errorf("switch to the spy-cam scene: %s", res.Status)
	}
	return nil
}

func run(bin string, n int, duration, warmup time.Duration, starve bool) error {
	addr, err := freePort()
	if err != nil {
		return err
	}
	data, err := os.MkdirTemp("", "benchspycam")
	if err != nil {
		return err
	}
	defer os.RemoveAll(data)
	cmd := exec.Command(bin, "run", "--sim", "--listen", addr, "--data", filepath.Join(data, "data"))
	cmd.Env = append(os.Environ(), "TINKERBOX_PASSWORD="+password)
	if starve {
		cmd.Env = append(cmd.Env, "GOMAXPROCS=1")
	}
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", bin, err)
	}
	defer func() {
		cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	}()
	base := "http://" + addr
	if err := waitHealthy(base); err != nil {
		return err
	}
	if starve {
		if err := switchScene(base); err != nil {
			return err
		}
		stop, err := startHogs()
		if err != nil {
			return err
		}
		defer stop()
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	vs := make([]*viewer, n)
	client := &http.Client{Transport: &http.Transport{MaxConnsPerHost: 0, MaxIdleConnsPerHost: n}}
	for i := range vs {
		vs[i] = &viewer{}
		res, err := openStream(ctx, client, base)
		if err != nil {
			return err
		}
		go vs[i].read(res)
	}

	time.Sleep(warmup) // a benchmark program, not a test: it measures wall time
	pid := cmd.Process.Pid
	cpu0, err := cpuTicks(pid)
	if err != nil {
		return err
	}
	t0 := time.Now()
	for _, v := range vs {
		v.mu.Lock()
		v.measuring = true
		v.mu.Unlock()
	}
	time.Sleep(duration)
	for _, v := range vs {
		v.mu.Lock()
		v.measuring = false
		v.mu.Unlock()
	}
	cpu1, err := cpuTicks(pid)
	if err != nil {
		return err
	}
	wall := time.Since(t0)
	rss, hwm, err := memory(pid)
	if err != nil {
		return err
	}

	// Frames the camera made in the window: the widest range any viewer saw.
	var first, last uint64
	for _, v := range vs {
		v.mu.Lock()
		if v.got > 0 && (first == 0 || v.first < first) {
			first = v.first
		}
		last = max(last, v.last)
		v.mu.Unlock()
	}
	if first == 0 {
		return errors.New("no viewer received a frame")
	}
	made := int(last - first + 1)
	var shares []float64
	var lat []time.Duration
	healthy := 0
	for i, v := range vs {
		v.mu.Lock()
		if v.err != nil {
			fmt.Printf("viewer %d failed: %v\n", i, v.err)
		} else {
			healthy++
			shares = append(shares, float64(v.got)/float64(made))
			lat = append(lat, v.latencies...)
		}
		v.mu.Unlock()
	}
	if healthy == 0 {
		return errors.New("every viewer failed")
	}
	slices.Sort(shares)
	slices.Sort(lat)
	mean := 0.0
	for _, s := range shares {
		mean += s
	}
	mean /= float64(len(shares))
	cpu := float64(cpu1-cpu0) / userHZ / wall.Seconds() * 100

	if starve {
		fmt.Printf("starved: %d busy loops (%d per core), GOMAXPROCS=1, spy-cam scene (motion analysis); load average %s\n", hogsPerCore*runtime.NumCPU(), hogsPerCore, loadAvg())
	}
	fmt.Printf("spy-cam stream: %d viewers, %s on loopback, %d camera frames (%.1f fps)\n", n, wall.Round(time.Millisecond), made, float64(made)/wall.Seconds())
	fmt.Printf("  frames received per healthy viewer: min %.1f %%, mean %.1f %% (target >= 95 %%; %d/%d healthy)\n", shares[0]*100, mean*100, healthy, n)
	fmt.Printf("  server CPU: %.1f %% of one core (target <= 15 %%; includes the simulated camera's JPEG encoding)\n", cpu)
	fmt.Printf("  server RSS: %.1f MB now, %.1f MB peak (target <= 64 MB)\n", float64(rss)/1024, float64(hwm)/1024)
	fmt.Printf("  capture -> viewer latency: p50 %s, p99 %s, max %s (target p99 <= 20 ms)\n",
		pct(lat, 0.50), pct(lat, 0.99), pct(lat, 1))
	return nil
}

func pct(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	i := min(len(d)-1, int(p*float64(len(d))))
	return d[i].Round(10 * time.Microsecond)
}

func waitHealthy(base string) error {
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		res, err := http.Get(base + "/healthz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return errors.New("the server did not answer /healthz within 20 s")
}

func openStream(ctx context.Context, client *http.Client, base string) (*http.Response, error) {
	r, err := http.NewRequestWithContext(ctx, "GET", base+"/stream.mjpg", nil)
	if err != nil {
		return nil, err
	}
	r.SetBasicAuth("admin", password)
	res, err := client.Do(r)
	if err != nil {
		return nil, fmt.Errorf("open stream: %w", err)
	}
	if res.StatusCode != http.StatusOK {
		res.Body.Close()
		if res.StatusCode == http.StatusNotFound {
			return nil, errors.New("/stream.mjpg is 404: this binary has no spy-cam routes (MountSpycam not wired)")
		}
		return nil, fmt.Errorf("open stream: %s", res.Status)
	}
	return res, nil
}

// read parses parts by Content-Length, as browsers do, and stamps each on
// arrival.
func (v *viewer) read(res *http.Response) {
	defer res.Body.Close()
	br := bufio.NewReaderSize(res.Body, 64<<10)
	tp := textproto.NewReader(br)
	buf := make([]byte, 0, 128<<10)
	fail := func(err error) {
		v.mu.Lock()
		v.err = err
		v.mu.Unlock()
	}
	for {
		line, err := tp.ReadLine()
		if err != nil {
			fail(err)
			return
		}
		if !strings.HasPrefix(line, "--") {
			fail(fmt.Errorf("bad boundary line %q", line))
			return
		}
		h, err := tp.ReadMIMEHeader()
		if err != nil {
			fail(err)
			return
		}
		size, err1 := strconv.Atoi(h.Get("Content-Length"))
		ts, err2 := strconv.ParseInt(h.Get("X-Timestamp"), 10, 64)
		seq, err3 := strconv.ParseUint(h.Get("X-Frame"), 10, 64)
		if err := errors.Join(err1, err2, err3); err != nil || size < 0 || size > 16<<20 {
			fail(fmt.Errorf("bad part header %v: %v", h, err))
			return
		}
		buf = slices.Grow(buf[:0], size+2)[:size+2]
		if _, err := io.ReadFull(br, buf); err != nil {
			fail(err)
			return
		}
		now := time.Now()
		v.mu.Lock()
		if v.measuring {
			if v.got == 0 {
				v.first = seq
			}
			v.got++
			v.last = seq
			v.latencies = append(v.latencies, now.Sub(time.Unix(0, ts)))
		}
		v.mu.Unlock()
	}
}

// cpuTicks is utime+stime of pid in clock ticks.
func cpuTicks(pid int) (uint64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("server CPU: %w", err)
	}
	// The command name may contain spaces: fields start after the last ')'.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, errors.New("server CPU: unreadable /proc stat")
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0, errors.New("server CPU: short /proc stat")
	}
	ut, err1 := strconv.ParseUint(f[11], 10, 64) // field 14 of stat
	st, err2 := strconv.ParseUint(f[12], 10, 64) // field 15
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("server CPU: %w", err)
	}
	return ut + st, nil
}

// memory is VmRSS and VmHWM of pid in KiB.
func memory(pid int) (rss, hwm int, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, fmt.Errorf("server RSS: %w", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		n, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
		switch k {
		case "VmRSS":
			rss = n
		case "VmHWM":
			hwm = n
		}
	}
	return rss, hwm, nil
}

// loadAvg is the 1-minute load average, to say how busy the machine was.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	if f := strings.Fields(string(b)); len(f) > 0 {
		return f[0]
	}
	return "?"
}
