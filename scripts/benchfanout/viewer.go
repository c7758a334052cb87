package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// viewer reads one MJPEG stream at full speed, the way a browser does: parts
// by their Content-Length, nothing kept but the counts and, while measuring,
// each part's latency from the feeder's stamp.
type viewer struct {
	mu        sync.Mutex
	measuring bool
	got       int    // parts while measuring
	minSeq    uint32 // frames the feeder stamped, seen while measuring
	maxSeq    uint32
	latencies []time.Duration
	err       error
	first     chan struct{} // closed at the first part
}

func newViewer() *viewer {
	return &viewer{first: make(chan struct{}), latencies: make([]time.Duration, 0, 4096)}
}

func (v *viewer) setMeasuring(on bool) {
	v.mu.Lock()
	v.measuring = on
	v.mu.Unlock()
}

func (v *viewer) fail(err error) {
	v.mu.Lock()
	if v.err == nil {
		v.err = err
	}
	v.mu.Unlock()
}

// open starts reading url; user and password are sent as Basic credentials
// (go2rtc ignores them).
func (v *viewer) open(ctx context.Context, client *http.Client, url string) error {
	r, err := http.NewRequestWithContext(ctx, "GET", url, nil)
	if err != nil {
		return err
	}
	r.SetBasicAuth("admin", password)
	res, err := client.Do(r)
	if err != nil {
		return fmt.Errorf("open %s: %w", url, err)
	}
	if res.StatusCode != http.StatusOK {
		res.Body.Close()
		return fmt.Errorf("open %s: %s", url, res.Status)
	}
	go v.read(res.Body)
	return nil
}

func (v *viewer) read(body io.ReadCloser) {
	defer body.Close()
	br := bufio.NewReaderSize(body, 64<<10)
	buf := make([]byte, 0, 128<<10)
	once := sync.OnceFunc(func() { close(v.first) })
	for {
		size := -1
		// Boundary line (after the previous part's CRLF), then headers.
		for inHeader := false; ; {
			line, err := br.ReadSlice('\n')
			if err != nil {
				v.fail(err)
				return
			}
			line = bytes.TrimRight(line, "\r\n")
			switch {
			case len(line) == 0 && inHeader:
			case len(line) == 0:
				continue // the CRLF that ends a part
			case bytes.HasPrefix(line, []byte("--")) && !inHeader:
				inHeader = true
				continue
			case !inHeader:
				v.fail(fmt.Errorf("no boundary: %q", line))
				return
			default:
				if k, val, ok := bytes.Cut(line, []byte(":")); ok && bytes.EqualFold(bytes.TrimSpace(k), []byte("Content-Length")) {
					n, err := strconv.Atoi(string(bytes.TrimSpace(val)))
					if err != nil || n < 0 || n > 16<<20 {
						v.fail(fmt.Errorf("bad Content-Length %q", val))
						return
					}
					size = n
				}
				continue
			}
			break
		}
		if size < 0 {
			v.fail(errors.New("part without Content-Length"))
			return
		}
		if cap(buf) < size {
			buf = make([]byte, size)
		}
		buf = buf[:size]
		if _, err := io.ReadFull(br, buf); err != nil {
			v.fail(err)
			return
		}
		now := time.Now()
		seq, at, ok := readStamp(buf)
		if !ok {
			v.fail(errors.New("a part without the feeder's stamp"))
			return
		}
		once()
		v.mu.Lock()
		if v.measuring {
			if v.got == 0 || seq < v.minSeq {
				v.minSeq = seq
			}
			v.maxSeq = max(v.maxSeq, seq)
			v.got++
			v.latencies = append(v.latencies, now.Sub(at))
		}
		v.mu.Unlock()
	}
}
