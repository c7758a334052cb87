// Command benchstart measures what a maker feels when the appliance starts in
// simulation: process start → /healthz answering, and the idle RSS.
//
//	go run ./scripts/benchstart dist/tinkerbox
package main

import (
	"bufio"
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

const runs = 5

// idleAfter leaves time for the start-up work done in the background (the
// comic pack check, the demo card catalog) before the idle RSS is read.
const idleAfter = 10 * time.Second

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: benchstart BINARY")
		os.Exit(2)
	}
	var starts []time.Duration
	var rss []int
	for i := 0; i < runs; i++ {
		d, kb, err := once(os.Args[1])
		if err != nil {
			fmt.Fprintln(os.Stderr, "benchstart:", err)
			os.Exit(1)
		}
		starts = append(starts, d)
		rss = append(rss, kb)
	}
	slices.Sort(starts)
	slices.Sort(rss)
	fmt.Printf("start → /healthz (sim, %d runs): median %.0f ms, min %.0f ms, max %.0f ms (target ≤ 300 ms)\n",
		runs, ms(starts[runs/2]), ms(starts[0]), ms(starts[runs-1]))
	fmt.Printf("idle RSS %s after start (sim): median %.1f MB, max %.1f MB (target ≤ 40 MB)\n",
		idleAfter, float64(rss[runs/2])/1024, float64(rss[runs-1])/1024)
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func once(bin string) (time.Duration, int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, 0, err
	}
	addr := l.Addr().String()
	l.Close()
	dir, err := os.MkdirTemp("", "benchstart")
	if err != nil {
		return 0, 0, err
	}
	defer os.RemoveAll(dir)

	cmd := exec.Command(bin, "run", "--sim", "--listen", addr, "--data", dir)
	cmd.Env = append(os.Environ(), "TINKERBOX_PASSWORD=bench-password-not-secret")
	client := &http.Client{Timeout: 100 * time.Millisecond}
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, 0, err
	}
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	}()
	var up time.Duration
	for up == 0 {
		if time.Since(t0) > 10*time.Second {
			return 0, 0, fmt.Errorf("%s did not answer /healthz within 10 s", bin)
		}
		resp, err := client.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				up = time.Since(t0)
				break
			}
		}
		time.Sleep(time.Millisecond) // polling a child process: there is nothing to inject here
	}
	time.Sleep(idleAfter)
	kb, err := vmRSS(cmd.Process.Pid)
	return up, kb, err
}

func vmRSS(pid int) (int, error) {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if v, ok := strings.CutPrefix(s.Text(), "VmRSS:"); ok {
			return strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
		}
	}
	return 0, fmt.Errorf("no VmRSS for pid %d", pid)
}
