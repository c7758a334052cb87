package appliance

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"tinkerbox/appliance/update"
	"tinkerbox/appliance/web"
)

// Files of the device image that the updater reads (post-build.sh).
const (
	boardFile     = "/etc/tinkerbox/board"
	updateKeyFile = "/etc/tinkerbox/update.pub"
	trybootMarker = "/run/tinkerbox/tryboot"
)

// Update is `tinkerbox update [--status | --rollback | FILE | URL]`: it
// hands the bundle to the update service (root) and shows its progress.
func Update(ctx context.Context, o Options, args []string) error {
	errOut := o.Stderr
	if errOut == nil {
		errOut = os.Stderr
	}
	if o.Stdout == nil {
		o.Stdout = os.Stdout
	}
	fs := flag.NewFlagSet("tinkerbox update", flag.ContinueOnError)
	fs.SetOutput(errOut)
	status := fs.Bool("status", false, "show the running and the other slot's firmware and the last update's outcome")
	rollback := fs.Bool("rollback", false, "go back to the firmware in the other slot (booted on trial, kept once healthy)")
	socket := fs.String("socket", update.Socket, "the update service's socket")
	fs.Usage = func() {
		fmt.Fprintln(errOut, "usage: tinkerbox update FILE.tbup|URL | --status | --rollback")
		fs.PrintDefaults()
	}
	pos, err := ParseFlags(fs, args)
	if err != nil {
		return err
	}
	c := update.NewClient(*socket)
	out := o.Stdout
	switch {
	case *status && len(pos) == 0 && !*rollback:
		st, err := c.Status(ctx)
		if err != nil {
			return err
		}
		fmt.Fprint(out, formatStatus(st))
		return nil
	case *rollback && len(pos) == 0 && !*status:
		if err := c.Rollback(ctx); err != nil {
			return err
		}
		fmt.Fprintln(out, "going back to the other slot's firmware: rebooting into it on trial; it becomes the default once it proves healthy")
		return nil
	case len(pos) != 1 || *status || *rollback:
		fs.Usage()
		return UsageError{Err: errors.New("update: give one bundle (a file or an http(s) URL), or --status, or --rollback")}
	}
	src, size, err := openBundle(ctx, pos[0])
	if err != nil {
		return err
	}
	defer src.Close()
	if size > 0 {
		fmt.Fprintf(errOut, "installing %s (%.1f MiB)\n", pos[0], float64(size)/(1<<20))
	}
	var last struct {
		phase string
		pct   int64
	}
	res, err := c.Install(ctx, src, func(p update.Progress) {
		pct := int64(-1)
		if p.Total > 0 {
			pct = p.Done * 100 / p.Total
		}
		if p.Phase == last.phase && pct/10 == last.pct/10 {
			return
		}
		last.phase, last.pct = p.Phase, pct
		if pct >= 0 {
			fmt.Fprintf(errOut, "%s: %3d%% (%d of %d MiB)\n", p.Phase, pct, p.Done>>20, p.Total>>20)
		} else {
			fmt.Fprintf(errOut, "%s\n", p.Phase)
		}
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "installed %s into slot %s; rebooting into it on trial: it becomes the default once it proves healthy, else the board comes back to %s by itself\n", res.Version, res.Slot, o.Version)
	return nil
}

// openBundle opens a bundle file or starts downloading one.
func openBundle(ctx context.Context, src string) (io.ReadCloser, int64, error) {
	if strings.HasPrefix(src, "http://") || strings.HasPrefix(src, "https://") {
		req, err := http.NewRequestWithContext(ctx, "GET", src, nil)
		if err != nil {
			return nil, 0, fmt.Errorf("update: %w", err)
		}
		c := &http.Client{Transport: &http.Transport{
			DialContext:           (&net.Dialer{Timeout: 30 * time.Second}).DialContext,
			TLSHandshakeTimeout:   30 * time.Second,
			ResponseHeaderTimeout: time.Minute,
			TLSClientConfig:       &tls.Config{MinVersion: tls.VersionTLS12},
		}}
		resp, err := c.Do(req)
		if err != nil {
			return nil, 0, fmt.Errorf("update: download %s: %w", src, err)
		}
		if resp.StatusCode != http.StatusOK {
			resp.Body.Close()
			return nil, 0, fmt.Errorf("update: download %s: %s", src, resp.Status)
		}
		return resp.Body, resp.ContentLength, nil
	}
	f, err := os.Open(src)
	if err != nil {
		return nil, 0, fmt.Errorf("update: %w", err)
	}
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		f.Close()
		return nil, 0, fmt.Errorf("update: %s is not a file", src)
	}
	return f, st.Size(), nil
}

func formatStatus(st update.Status) string {
	var b strings.Builder
	fmt.Fprintf(&b, "board:    %s\n", st.Board)
	fmt.Fprintf(&b, "running:  %s in slot %s (%s)\n", st.Running.Version, st.Running.Name, st.Running.State)
	other := st.Other.State
	if st.Other.Version != "" {
		other = st.Other.Version + " (" + st.Other.State + ")"
	}
	fmt.Fprintf(&b, "other:    slot %s: %s\n", st.Other.Name, other)
	if l := st.Last; l != nil {
		fmt.Fprintf(&b, "last:     %s %s at %s", l.Result, l.Version, l.At.Format(time.RFC3339))
		if l.Detail != "" {
			fmt.Fprintf(&b, ": %s", l.Detail)
		}
		b.WriteString("\n")
	}
	if st.Busy != nil {
		fmt.Fprintf(&b, "busy:     %s %d of %d MiB\n", st.Busy.Phase, st.Busy.Done>>20, st.Busy.Total>>20)
	}
	if st.CanRollback {
		fmt.Fprintf(&b, "tinkerbox update --rollback goes back to %s\n", st.Other.Version)
	}
	return b.String()
}

// applianceHealth asks the appliance on dataDir how it is: its control
// socket for the version and devices, its web server for /healthz.
type applianceHealth struct{ dataDir string }

func (h applianceHealth) Check(ctx context.Context) (update.Report, error) {
	ch, err := healthViaControl(ctx, h.dataDir)
	if err != nil {
		return update.Report{}, err
	}
	rep := update.Report{Version: ch.Version, Devices: ch.Devices}
	host, port, err := net.SplitHostPort(ch.Listen)
	if err != nil {
		return rep, nil
	}
	if ip := net.ParseIP(host); host == "" || ip == nil || ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	scheme := "http"
	if ch.HTTPS {
		scheme = "https"
	}
	// The appliance's own certificate is self-signed; this is loopback.
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	req, _ := http.NewRequestWithContext(ctx, "GET", scheme+"://"+net.JoinHostPort(host, port)+"/healthz", nil)
	if resp, err := c.Do(req); err == nil {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 64))
		resp.Body.Close()
		rep.Web = resp.StatusCode == http.StatusOK && strings.TrimSpace(string(body)) == "ok"
	}
	return rep, nil
}

// firmwareUpdater is the update service the web page talks to: on the
// device image its socket, elsewhere none, with the reason in a sentence.
func firmwareUpdater(o Options) (web.Updater, string) {
	switch {
	case o.Sim:
		return nil, "Updates install on a tinkerbox device; this is the simulator. Build a bundle with make image (see the README, Updating)."
	case !onDevice(o):
		return nil, "Updates install on the tinkerbox SD-card image; this tinkerbox runs on another system."
	}
	return update.NewClient(update.Socket), ""
}

func onDevice(o Options) bool {
	if o.OnDevice != nil {
		return o.OnDevice()
	}
	return onDeviceImage()
}
