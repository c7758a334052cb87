// Command benchstart measures what a maker feels when the appliance starts in
// simulation, on a fresh data dir, over the first 10 s of each run:
//
//   - start → /healthz: process start until /healthz answers 200;
//   - CPU in the first 10 s: user + system time of the process (CPU time,
//     not wall time: the build machine is shared);
//   - /healthz → idle: from /healthz answering until the process is idle
//     for good (every later 500 ms window uses under 5 % of a core);
//   - peak RSS: the kernel's high-water mark (VmHWM) at 10 s;
//   - idle RSS: VmRSS at 10 s.
//
// It prints one line per figure (median and max over the runs, and the
// target), in the form the bench table takes.
//
//	go run ./scripts/benchstart dist/tinkerbox
package main

import (
	"bufio"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// The targets of issue 18.
const (
	targetHealthz = 300 * time.Millisecond
	targetCPU     = 500 * time.Millisecond
	targetIdle    = time.Second
	targetPeakKB  = 40 << 10
	targetIdleKB  = 25 << 10
)

// Idle is a window of idleWindow in which the process used less than
// idleShare of a core; the kernel counts CPU time in 10 ms ticks, so the
// window is long enough to see a few.
const (
	idleWindow = 500 * time.Millisecond
	idleShare  = 0.05
	sampleStep = 20 * time.Millisecond
)

// clkTck is USER_HZ, the unit of /proc/<pid>/stat's times: 100 on every
// Linux the project builds on.
const clkTck = 100

type run struct {
	healthz, idle  time.Duration // idle < 0: not idle within the window
	cpu            time.Duration
	peakKB, idleKB int
	perWindow      []time.Duration // CPU used in each idleWindow from the start
}

func main() {
	runs := flag.Int("runs", 5, "runs to take the median of")
	window := flag.Duration("window", 10*time.Second, "how long each run is watched from its start")
	verbose := flag.Bool("v", false, "print each run's CPU use per "+idleWindow.String())
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: benchstart [-runs N] [-window D] BINARY")
		os.Exit(2)
	}
	var rs []run
	for range *runs {
		r, err := once(flag.Arg(0), *window)
		if err != nil {
			fmt.Fprintln(os.Stderr, "benchstart:", err)
			os.Exit(1)
		}
		rs = append(rs, r)
		if *verbose {
			fmt.Fprintf(os.Stderr, "run %d: /healthz at %.0f ms; CPU per %s:", len(rs), ms(r.healthz), idleWindow)
			for _, c := range r.perWindow {
				fmt.Fprintf(os.Stderr, " %.0f", ms(c))
			}
			fmt.Fprintln(os.Stderr, " ms")
		}
	}
	fmt.Printf("start-up (sim, fresh data dir, %d runs, the first %s of each; median, max):\n", *runs, *window)
	dur := func(name string, get func(run) time.Duration, target time.Duration, note string) {
		v := make([]time.Duration, len(rs))
		for i, r := range rs {
			v[i] = get(r)
		}
		slices.Sort(v)
		show := func(d time.Duration) string {
			if d < 0 {
				return "never"
			}
			return fmt.Sprintf("%.0f ms", ms(d))
		}
		// A run never idle sorts first but is the worst.
		worst := v[len(v)-1]
		if v[0] < 0 {
			worst = v[0]
		}
		med := v[len(v)/2]
		fmt.Printf("  %-24s %10s %10s   (target ≤ %s%s)\n", name, show(med), show(worst), target, note)
	}
	mb := func(name string, get func(run) int, targetKB int, note string) {
		v := make([]int, len(rs))
		for i, r := range rs {
			v[i] = get(r)
		}
		slices.Sort(v)
		fmt.Printf("  %-24s %7.1f MB %7.1f MB   (target ≤ %d MB%s)\n", name, float64(v[len(v)/2])/1024, float64(v[len(v)-1])/1024, targetKB>>10, note)
	}
	dur("start → /healthz", func(r run) time.Duration { return r.healthz }, targetHealthz, "")
	dur("CPU in the first 10 s", func(r run) time.Duration { return r.cpu }, targetCPU, ", user + system")
	dur("/healthz → idle", func(r run) time.Duration { return r.idle }, targetIdle,
		fmt.Sprintf(", idle: every later %s under %.0f %% of a core", idleWindow, idleShare*100))
	mb("peak RSS", func(r run) int { return r.peakKB }, targetPeakKB, ", VmHWM")
	mb("idle RSS", func(r run) int { return r.idleKB }, targetIdleKB, fmt.Sprintf(", VmRSS at %s", *window))
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

type sample struct {
	at  time.Duration // since start
	cpu time.Duration
}

func once(bin string, window time.Duration) (run, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return run{}, err
	}
	addr := l.Addr().String()
	l.Close()
	dir, err := os.MkdirTemp("", "benchstart")
	if err != nil {
		return run{}, err
	}
	defer os.RemoveAll(dir)

	cmd := exec.Command(bin, "run", "--sim", "--listen", addr, "--data", dir)
	cmd.Env = append(os.Environ(), "TINKERBOX_PASSWORD=bench-password-not-secret")
	client := &http.Client{Timeout: 100 * time.Millisecond}
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		return run{}, err
	}
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	}()
	pid := cmd.Process.Pid
	// Sampled by one goroutine, so /healthz polling does not delay it.
	samples := make(chan []sample, 1)
	go func() {
		var ss []sample
		for {
			at := time.Since(t0)
			if at > window {
				break
			}
			if c, err := cpuTime(pid); err == nil {
				ss = append(ss, sample{at, c})
			}
			time.Sleep(sampleStep) // a child process: there is nothing to inject here
		}
		samples <- ss
	}()
	var r run
	for r.healthz == 0 {
		if time.Since(t0) > window {
			return run{}, fmt.Errorf("%s did not answer /healthz within %s", bin, window)
		}
		resp, err := client.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				r.healthz = time.Since(t0)
				break
			}
		}
		time.Sleep(time.Millisecond)
	}
	ss := <-samples
	if r.cpu, err = cpuTime(pid); err != nil {
		return run{}, err
	}
	if r.idleKB, r.peakKB, err = memory(pid); err != nil {
		return run{}, err
	}
	r.idle = idleAfter(ss, r.healthz)
	var last sample
	for _, s := range ss {
		if s.at-last.at >= idleWindow {
			r.perWindow = append(r.perWindow, s.cpu-last.cpu)
			last = s
		}
	}
	return r, nil
}

// idleAfter is how long after from the process went idle for good: the
// start of the quiet tail of samples, in which no idleWindow holds more
// than idleShare of a core; -1 when even the last window is busy.
func idleAfter(ss []sample, from time.Duration) time.Duration {
	if len(ss) == 0 {
		return -1
	}
	busy := func(i, j int) bool { // samples i..j, j after i
		return float64(ss[j].cpu-ss[i].cpu) > idleShare*float64(ss[j].at-ss[i].at)
	}
	quiet := ss[len(ss)-1].at // the earliest sample from which all is quiet
	j := len(ss) - 1
	for i := len(ss) - 1; i >= 0; i-- {
		// j: the sample idleWindow after i (or the last one).
		for j > i && ss[j-1].at-ss[i].at >= idleWindow {
			j--
		}
		if ss[j].at-ss[i].at < idleWindow {
			continue // the tail is shorter than a window
		}
		if busy(i, j) {
			break
		}
		quiet = ss[i].at
	}
	if quiet > ss[len(ss)-1].at-idleWindow {
		return -1
	}
	return max(0, quiet-from)
}

// cpuTime is the process's user + system time, its exited threads' too.
func cpuTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	// The command name may hold spaces: the fields start after its ')'.
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("short /proc/%d/stat", pid)
	}
	var ticks int64
	for _, v := range f[11:13] { // utime, stime: fields 14 and 15
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, err
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / clkTck, nil
}

// memory reads VmRSS and VmHWM in kB.
func memory(pid int) (rss, hwm int, err error) {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		for name, dst := range map[string]*int{"VmRSS:": &rss, "VmHWM:": &hwm} {
			if v, ok := strings.CutPrefix(s.Text(), name); ok {
				if *dst, err = strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB")); err != nil {
					return 0, 0, err
				}
			}
		}
	}
	if rss == 0 || hwm == 0 {
		return 0, 0, fmt.Errorf("no VmRSS or VmHWM for pid %d", pid)
	}
	return rss, hwm, s.Err()
}
