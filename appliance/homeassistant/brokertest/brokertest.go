// Package brokertest runs a real MQTT broker for tests: Debian's mosquitto,
// on 127.0.0.1 and a free port, with its own configuration, and a client
// that stands in for Home Assistant. Without mosquitto a test skips, except
// under CI (CI=true), which installs it (.ci/run) and must not pass by
// skipping.
package brokertest

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
)

// Opts choose the listener: anonymous, or accounts; plain, or TLS.
type Opts struct {
	Passwords map[string]string // user → password; nil: anonymous
	TLS       *TLSFiles
}

// TLSFiles are PEM files for a TLS listener.
type TLSFiles struct{ CA, Cert, Key string }

// Broker is a mosquitto of the test's own.
type Broker struct {
	t    testing.TB
	bin  string
	dir  string
	port int
	conf string
	cmd  *exec.Cmd
	out  *lockedBuffer
	tls  bool
}

// Bin finds mosquitto (Debian puts it in /usr/sbin, often not on PATH).
func Bin(t testing.TB) string {
	t.Helper()
	if p, err := exec.LookPath("mosquitto"); err == nil {
		return p
	}
	for _, p := range []string{"/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("mosquitto is not installed; .ci/run installs it (apt-get install mosquitto)")
	}
	t.Skip("mosquitto is not installed: apt-get install mosquitto to run the tests against a real broker")
	return ""
}

// Start runs a broker until the test ends.
func Start(t testing.TB, o Opts) *Broker {
	t.Helper()
	b := &Broker{t: t, bin: Bin(t), dir: t.TempDir(), port: FreePort(t), tls: o.TLS != nil, out: &lockedBuffer{}}
	var conf strings.Builder
	fmt.Fprintf(&conf, "listener %d 127.0.0.1\npersistence false\nlog_type error\nlog_type warning\nlog_type notice\n", b.port)
	if os.Geteuid() == 0 {
		conf.WriteString("user root\n") // else it drops to user mosquitto, who cannot read the test's files
	}
	if o.Passwords == nil {
		conf.WriteString("allow_anonymous true\n")
	} else {
		passwd, err := exec.LookPath("mosquitto_passwd")
		if err != nil {
			t.Fatal("mosquitto is installed without mosquitto_passwd")
		}
		pwfile := filepath.Join(b.dir, "passwords")
		users := make([]string, 0, len(o.Passwords))
		for u := range o.Passwords {
			users = append(users, u)
		}
		slices.Sort(users)
		for i, user := range users {
			args := []string{"-b", pwfile, user, o.Passwords[user]}
			if i == 0 {
				args = append([]string{"-c"}, args...)
			}
			if out, err := exec.Command(passwd, args...).CombinedOutput(); err != nil {
				t.Fatalf("mosquitto_passwd: %v: %s", err, out)
			}
		}
		fmt.Fprintf(&conf, "allow_anonymous false\npassword_file %s\n", pwfile)
	}
	if f := o.TLS; f != nil {
		fmt.Fprintf(&conf, "cafile %s\ncertfile %s\nkeyfile %s\ntls_version tlsv1.2\n", f.CA, f.Cert, f.Key)
	}
	b.conf = filepath.Join(b.dir, "mosquitto.conf")
	if err := os.WriteFile(b.conf, []byte(conf.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	b.Start()
	t.Cleanup(func() {
		if b.cmd != nil {
			b.Resume()
			b.Kill()
		}
		if t.Failed() {
			t.Logf("mosquitto said:\n%s", b.out)
		}
	})
	return b
}

// Start runs mosquitto (again) on the broker's port and waits until it
// accepts connections.
func (b *Broker) Start() {
	b.t.Helper()
	cmd := exec.Command(b.bin, "-c", b.conf)
	cmd.Stdout, cmd.Stderr = b.out, b.out
	if err := cmd.Start(); err != nil {
		b.t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	b.cmd = cmd
	deadline := time.Now().Add(10 * time.Second)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		c, err := net.DialTimeout("tcp", b.Addr(), time.Second)
		if err == nil {
			c.Close()
			return
		}
		select {
		case <-exited:
			b.t.Fatalf("mosquitto exited: %s", b.out)
		case <-tick.C:
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("mosquitto did not listen on %s: %s", b.Addr(), b.out)
		}
	}
}

// Kill ends mosquitto with SIGKILL: no goodbye to anyone, and with
// persistence off its retained messages are gone.
func (b *Broker) Kill() {
	b.cmd.Process.Kill()
	b.cmd.Process.Wait()
	b.cmd = nil
}

// Stall and Resume freeze and thaw mosquitto (SIGSTOP, SIGCONT):
// connections stay open, the kernel still takes bytes, nothing answers.
func (b *Broker) Stall()  { b.cmd.Process.Signal(syscall.SIGSTOP) }
func (b *Broker) Resume() { b.cmd.Process.Signal(syscall.SIGCONT) }

// Addr is host:port.
func (b *Broker) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(b.port)) }

// URL is the broker as [mqtt] broker names it.
func (b *Broker) URL() string {
	if b.tls {
		return "mqtts://" + b.Addr()
	}
	return "mqtt://" + b.Addr()
}

// Output is what mosquitto logged.
func (b *Broker) Output() string { return b.out.String() }

// FreePort is a TCP port nothing listens on now.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Message is one message a Watcher got.
type Message struct {
	Topic    string
	Payload  []byte
	Retained bool
	At       time.Time
}

// Watcher is a client of the test's on a plain listener, standing in for
// Home Assistant.
type Watcher struct {
	t  testing.TB
	c  mqtt.Client
	mu sync.Mutex
	ms []Message
}

// Watch connects to the broker at url and subscribes to filters.
func Watch(t testing.TB, url string, filters ...string) *Watcher {
	t.Helper()
	w := &Watcher{t: t}
	o := mqtt.NewClientOptions().AddBroker(url).SetClientID(fmt.Sprintf("watcher-%d", time.Now().UnixNano())).
		SetAutoReconnect(false).SetConnectTimeout(5 * time.Second).SetOrderMatters(true)
	w.c = mqtt.NewClient(o)
	if tok := w.c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("watcher: connect: %v", tok.Error())
	}
	for _, f := range filters {
		if tok := w.c.Subscribe(f, 1, func(_ mqtt.Client, m mqtt.Message) {
			w.mu.Lock()
			w.ms = append(w.ms, Message{m.Topic(), slices.Clone(m.Payload()), m.Retained(), time.Now()})
			w.mu.Unlock()
		}); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
			t.Fatalf("watcher: subscribe: %v", tok.Error())
		}
	}
	t.Cleanup(func() { w.c.Disconnect(0) })
	return w
}

// All is every message so far, in order.
func (w *Watcher) All() []Message {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.ms)
}

// Last is the newest message on topic.
func (w *Watcher) Last(topic string) (Message, bool) {
	ms := w.All()
	for i := len(ms) - 1; i >= 0; i-- {
		if ms[i].Topic == topic {
			return ms[i], true
		}
	}
	return Message{}, false
}

// Publish sends a message with QoS 1 and waits for the broker.
func (w *Watcher) Publish(topic, payload string, retain bool) {
	w.t.Helper()
	if tok := w.c.Publish(topic, 1, retain, payload); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		w.t.Fatalf("watcher: publish: %v", tok.Error())
	}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
