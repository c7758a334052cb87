package update

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
)

// Socket is where the update service (root) listens; the appliance (its
// own user, group tinkerbox) and the CLI reach it there.
const Socket = "/run/tinkerbox/update.sock"

// The service's HTTP protocol over the Unix socket:
//
//	GET  /status    Status
//	POST /install   body: the bundle; answer: NDJSON, one Progress per line,
//	                then {"result":Result} or {"error":"..."}
//	POST /rollback  {"ok":true} (then it reboots) or {"error":"..."} with 409
type line struct {
	*Progress
	Result *Result `json:"result,omitempty"`
	Error  string  `json:"error,omitempty"`
}

// Client talks to the update service.
type Client struct {
	socket string
	http   *http.Client
}

// NewClient returns a client of the service on socket (Socket on a device).
func NewClient(socket string) *Client {
	tr := &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", socket)
	}}
	return &Client{socket: socket, http: &http.Client{Transport: tr}}
}

func (c *Client) do(ctx context.Context, method, path string, body io.Reader) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, "http://update"+path, body)
	if err != nil {
		return nil, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		var op *net.OpError
		if errors.As(err, &op) && op.Op == "dial" {
			return nil, fmt.Errorf("update: no update service at %s (updates install on a tinkerbox device, where the service runs as root): %w", c.socket, err)
		}
		return nil, fmt.Errorf("update: %w", err)
	}
	return resp, nil
}

// Status asks the service for the slots and the last outcome.
func (c *Client) Status(ctx context.Context) (Status, error) {
	var st Status
	resp, err := c.do(ctx, "GET", "/status", nil)
	if err != nil {
		return st, err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&st); err != nil {
		return st, fmt.Errorf("update: status: %w", err)
	}
	return st, nil
}

// Install streams a bundle to the service, calling progress as it goes.
// On success the service reboots into the new slot shortly after.
func (c *Client) Install(ctx context.Context, bundle io.Reader, progress func(Progress)) (Result, error) {
	resp, err := c.do(ctx, "POST", "/install", bundle)
	if err != nil {
		return Result{}, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		var l line
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			return Result{}, fmt.Errorf("update: bad answer %q: %w", sc.Bytes(), err)
		}
		switch {
		case l.Error != "":
			return Result{}, errors.New(l.Error)
		case l.Result != nil:
			return *l.Result, nil
		case l.Progress != nil && progress != nil:
			progress(*l.Progress)
		}
	}
	if err := sc.Err(); err != nil {
		return Result{}, fmt.Errorf("update: %w", err)
	}
	return Result{}, errors.New("update: the service ended the install without a result")
}

// Rollback asks the service to boot the other slot's firmware (on trial,
// like an update) and make it the default once it proves healthy.
func (c *Client) Rollback(ctx context.Context) error {
	resp, err := c.do(ctx, "POST", "/rollback", strings.NewReader("{}"))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var l line
	if err := json.Unmarshal(bytes.TrimSpace(b), &l); err != nil {
		return fmt.Errorf("update: rollback: bad answer %q", b)
	}
	if l.Error != "" {
		return errors.New(l.Error)
	}
	return nil
}

// WriteConfig asks the service to replace tinkerbox.toml on the boot
// partition with data (checked there as the appliance reads it).
func (c *Client) WriteConfig(ctx context.Context, data []byte) error {
	resp, err := c.do(ctx, "PUT", "/config", bytes.NewReader(data))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var l line
	if err := json.Unmarshal(bytes.TrimSpace(b), &l); err != nil {
		return fmt.Errorf("update: config: bad answer %q", b)
	}
	if l.Error != "" {
		return errors.New(l.Error)
	}
	return nil
}
