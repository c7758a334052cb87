package main

import (
	"cmp"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

// median is the median of one figure over the rounds (of an even number,
// the mean of the middle two).
func median[T int | float64 | time.Duration](rs []result, f func(result) T) T {
	v := make([]T, len(rs))
	for i, r := range rs {
		v[i] = f(r)
	}
	slices.Sort(v)
	if n := len(v); n%2 == 0 {
		return (v[n/2-1] + v[n/2]) / 2
	}
	return v[len(v)/2]
}

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "?"
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "?"
}

func printTable(w io.Writer, o options, mean int, loads []string, fan map[string]map[int][]result, starve map[string][]result, stalls map[string]string) {
	slices.SortFunc(loads, func(a, b string) int {
		x, _ := strconv.ParseFloat(a, 64)
		y, _ := strconv.ParseFloat(b, 64)
		return cmp.Compare(x, y)
	})
	fmt.Fprintf(w, "MJPEG fan-out: tinkerbox (drivers/picam + appliance/web, own process) vs go2rtc %s, same machine, same run\n", go2rtcVersion)
	fmt.Fprintf(w, "  %d recorded frames of the simulated camera, 640x480, %.1f KB mean, fed at %d fps to both; loopback;\n", nFrames, float64(mean)/1000, fps)
	fmt.Fprintf(w, "  CPU: the server process's threads (schedstat); latency: the feeder's write to a viewer's last byte\n")
	fmt.Fprintf(w, "  %d x %s, load average %s..%s; median of %d round(s), %s windows after %s warm-up\n",
		runtime.NumCPU(), cpuModel(), loads[0], loads[len(loads)-1], o.rounds, o.window, o.warmup)
	row := func(name, tb, g2, ratio string) {
		fmt.Fprintf(w, "  %-40s %12s %15s %7s\n", name, tb, g2, ratio)
	}
	ratio := func(a, b float64) string {
		if b == 0 {
			return "-"
		}
		return fmt.Sprintf("%.2f", a/b)
	}
	row("", "tinkerbox", "go2rtc", "ratio")
	tb, g2 := fan["tinkerbox"], fan["go2rtc"]
	for _, n := range o.viewers {
		a := median(tb[n], result.perFrame)
		b := median(g2[n], result.perFrame)
		row(fmt.Sprintf("CPU per delivered frame, %d viewer(s)", n), us(a), us(b), ratio(float64(a), float64(b)))
	}
	for _, n := range o.viewers {
		a := median(tb[n], func(r result) int { return r.hwm })
		b := median(g2[n], func(r result) int { return r.hwm })
		row(fmt.Sprintf("peak RSS (VmHWM), %d viewer(s)", n), mb(a), mb(b), ratio(float64(a), float64(b)))
	}
	for _, n := range o.viewers {
		a := median(tb[n], func(r result) int { return r.rss })
		b := median(g2[n], func(r result) int { return r.rss })
		row(fmt.Sprintf("RSS at the end (VmRSS), %d viewer(s)", n), mb(a), mb(b), ratio(float64(a), float64(b)))
	}
	if len(o.viewers) > 0 {
		n := o.viewers[len(o.viewers)-1]
		a := median(tb[n], func(r result) float64 { return r.share })
		b := median(g2[n], func(r result) float64 { return r.share })
		row(fmt.Sprintf("frames each viewer got, %d viewer(s)", n), pc(a), pc(b), ratio(a, b))
		la := median(tb[n], func(r result) time.Duration { return r.p99 })
		lb := median(g2[n], func(r result) time.Duration { return r.p99 })
		row(fmt.Sprintf("p99 latency, %d viewer(s)", n), msec(la), msec(lb), ratio(float64(la), float64(lb)))
	}
	if len(starve) > 0 {
		prio := "feeder and viewers at the servers' priority"
		if o.niced {
			prio = "feeder and viewers at nice -10"
		}
		fmt.Fprintf(w, "  starved: %d busy loops (%d per core), servers on GOMAXPROCS=1, %d viewers, %d fps fed, %s:\n",
			o.hogsPerCore*runtime.NumCPU(), o.hogsPerCore, o.starveViewers, fps, prio)
		for _, k := range []string{"tinkerbox", "tinkerbox+motion"} {
			a, b := starve[k], starve["go2rtc"]
			if len(a) == 0 || len(b) == 0 {
				continue
			}
			label := "  "
			if k != "tinkerbox" {
				label = "  + motion analysis: " // tinkerbox's spy-cam watching; go2rtc has none
			}
			fa, fb := median(a, func(r result) float64 { return r.fps }), median(b, func(r result) float64 { return r.fps })
			row(label+"fps per viewer", fmt.Sprintf("%.1f", fa), fmt.Sprintf("%.1f", fb), ratio(fa, fb))
			sa, sb := median(a, func(r result) float64 { return r.share }), median(b, func(r result) float64 { return r.share })
			row(label+"frames each viewer got", pc(sa), pc(sb), ratio(sa, sb))
			la, lb := median(a, func(r result) time.Duration { return r.p99 }), median(b, func(r result) time.Duration { return r.p99 })
			row(label+"p99 latency", msec(la), msec(lb), ratio(float64(la), float64(lb)))
		}
	}
	if len(stalls) > 0 {
		row("stalled viewer closed after", stalls["tinkerbox"], stalls["go2rtc"], "")
	}
}

func us(d time.Duration) string { return fmt.Sprintf("%.1f µs", float64(d)/1e3) }
func msec(d time.Duration) string {
	if d >= 100*time.Millisecond {
		return fmt.Sprintf("%.0f ms", float64(d)/1e6)
	}
	return fmt.Sprintf("%.1f ms", float64(d)/1e6)
}
func mb(kib int) string   { return fmt.Sprintf("%.1f MB", float64(kib)/1024) }
func pc(f float64) string { return fmt.Sprintf("%.1f %%", f*100) }
