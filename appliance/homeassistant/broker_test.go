package homeassistant

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// mosquittoBin finds Debian's mosquitto (in /usr/sbin, often not on a
// user's PATH). Without it the test skips, except under CI, which
// installs it (.ci/run) and so must not pass by skipping.
func mosquittoBin(t testing.TB) string {
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

// passwdBin is mosquitto_passwd, from the same package as mosquitto.
func passwdBin(t testing.TB) string {
	if p, err := exec.LookPath("mosquitto_passwd"); err == nil {
		return p
	}
	t.Fatal("mosquitto is installed without mosquitto_passwd")
	return ""
}

// broker is a mosquitto of the test's own on 127.0.0.1.
type broker struct {
	t    testing.TB
	bin  string
	dir  string
	port int
	conf string
	cmd  *exec.Cmd
	out  *lockedBuffer
	tls  bool
}

type brokerOpts struct {
	passwords map[string]string // user → password; nil: anonymous
	tls       *tlsFiles
}

type tlsFiles struct{ ca, cert, key string }

func startBroker(t testing.TB, o brokerOpts) *broker {
	t.Helper()
	b := &broker{t: t, bin: mosquittoBin(t), dir: t.TempDir(), port: freePort(t), tls: o.tls != nil}
	var conf strings.Builder
	fmt.Fprintf(&conf, "listener %d 127.0.0.1\npersistence false\nlog_type error\nlog_type warning\nlog_type notice\n", b.port)
	if os.Geteuid() == 0 {
		conf.WriteString("user root\n") // else it drops to user mosquitto, who cannot read the test's files
	}
	if o.passwords == nil {
		conf.WriteString("allow_anonymous true\n")
	} else {
		pwfile := filepath.Join(b.dir, "passwords")
		first := true
		for user, pw := range o.passwords {
			args := []string{"-b", pwfile, user, pw}
			if first {
				args = append([]string{"-c"}, args...)
				first = false
			}
			if out, err := exec.Command(passwdBin(t), args...).CombinedOutput(); err != nil {
				t.Fatalf("mosquitto_passwd: %v: %s", err, out)
			}
		}
		fmt.Fprintf(&conf, "allow_anonymous false\npassword_file %s\n", pwfile)
	}
	if f := o.tls; f != nil {
		fmt.Fprintf(&conf, "cafile %s\ncertfile %s\nkeyfile %s\ntls_version tlsv1.2\n", f.ca, f.cert, f.key)
	}
	b.conf = filepath.Join(b.dir, "mosquitto.conf")
	if err := os.WriteFile(b.conf, []byte(conf.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	b.start()
	t.Cleanup(func() {
		if b.cmd != nil {
			b.cmd.Process.Signal(syscall.SIGCONT)
			b.kill()
		}
		if t.Failed() {
			t.Logf("mosquitto said:\n%s", b.out)
		}
	})
	return b
}

// start runs mosquitto on b's port and waits until it accepts connections.
func (b *broker) start() {
	b.t.Helper()
	if b.out == nil {
		b.out = &lockedBuffer{}
	}
	cmd := exec.Command(b.bin, "-c", b.conf)
	cmd.Stdout, cmd.Stderr = b.out, b.out
	if err := cmd.Start(); err != nil {
		b.t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	b.cmd = cmd
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", b.addr(), time.Second)
		if err == nil {
			c.Close()
			return
		}
		select {
		case <-exited:
			b.t.Fatalf("mosquitto exited: %s", b.out)
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("mosquitto did not listen on %s: %s", b.addr(), b.out)
		}
	}
}

// kill ends mosquitto with SIGKILL: no goodbye to anyone, retained
// messages gone (no persistence).
func (b *broker) kill() {
	b.cmd.Process.Kill()
	b.cmd.Process.Wait()
	b.cmd = nil
}

// stall and resume freeze and thaw mosquitto: connections stay open, the
// kernel still takes bytes, nothing answers.
func (b *broker) stall()  { b.cmd.Process.Signal(syscall.SIGSTOP) }
func (b *broker) resume() { b.cmd.Process.Signal(syscall.SIGCONT) }

func (b *broker) addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(b.port)) }

func (b *broker) url() string {
	if b.tls {
		return "mqtts://" + b.addr()
	}
	return "mqtt://" + b.addr()
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
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
