package homeassistant

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"sync"
	"time"
)

// Opts configure a Bridge. Broker, DiscoveryPrefix, BaseTopic, Device.ID,
// Device.Name and App are required; a nil Strips, Weather, Cards or Camera
// leaves its entities out.
type Opts struct {
	Broker       string // mqtt://host[:1883] or mqtts://host[:8883]
	User         string
	Password     string
	PasswordFile string // read at each connection attempt, instead of Password
	CAFile       string // PEM roots for mqtts://; "" = the system's

	BaseTopic       string // state, availability, image and commands live under it
	DiscoveryPrefix string // Home Assistant's, usually "homeassistant"

	Device  Device
	App     App
	Strips  StripPrinter
	Weather WeatherSource
	Cards   CardSource
	Camera  CameraSource

	Clock Clock        // nil: the wall clock
	Log   *slog.Logger // nil: discard

	// Poll is how often the scene, the printer and the captures are read
	// (a change is published at once); SlowPoll, the barometer and the
	// cards, whose values change at most once a sample. Refresh republishes
	// the state even when nothing changed.
	Poll, SlowPoll, Refresh time.Duration
	// ImageEvery spaces snapshot images (the largest messages by far);
	// MotionHold keeps the motion sensor on after a motion capture.
	ImageEvery, MotionHold time.Duration
	// Reconnection waits BackoffMin after a failure, doubling up to
	// BackoffMax, on Clock.
	BackoffMin, BackoffMax time.Duration
	// Network timeouts, in real time: a silent broker is found by the
	// MQTT keepalive (no answer to a ping within KeepAlive/2) or a publish
	// not acknowledged within PublishTimeout.
	KeepAlive, ConnectTimeout, PublishTimeout time.Duration
	// The queue holds at most QueueMessages messages and QueueBytes bytes.
	QueueMessages, QueueBytes int
}

// DefaultOpts are the timings and caps the appliance uses: on an idle
// tinkerbox about one state message a minute (the barometer's sample) plus
// a refresh every ten minutes.
func DefaultOpts() Opts {
	return Opts{
		DiscoveryPrefix: "homeassistant",
		Poll:            time.Second,
		SlowPoll:        30 * time.Second,
		Refresh:         10 * time.Minute,
		ImageEvery:      10 * time.Second,
		MotionHold:      time.Minute,
		BackoffMin:      time.Second,
		BackoffMax:      time.Minute,
		KeepAlive:       30 * time.Second,
		ConnectTimeout:  10 * time.Second,
		PublishTimeout:  10 * time.Second,
		QueueMessages:   32,
		QueueBytes:      1 << 20,
	}
}

// Connection states.
const (
	StateConnecting = "connecting" // before the first connection's outcome
	StateConnected  = "connected"
	StateDown       = "down" // lost or refused; retrying with backoff
)

// Status is the connection as the settings page shows it.
type Status struct {
	Broker      string
	State       string
	Since       time.Time // when State began
	LastError   string
	LastErrorAt time.Time
	NextTry     time.Time // when down: the next attempt
	Attempts    int       // connection attempts so far
	Connects    int       // successful ones
	Queued      int       // messages waiting for the broker
	QueuedBytes int
	Dropped     uint64 // pushed out of the full queue, oldest first
	Replaced    uint64 // superseded by a newer message for the same topic
	Sent        uint64
}

// Availability payloads (also Home Assistant's defaults).
const (
	payloadOnline  = "online"
	payloadOffline = "offline"
)

// Bridge publishes the appliance to Home Assistant and takes its commands.
// Create it with New and run it with Run; Status is safe to call at any
// time from any goroutine.
type Bridge struct {
	o      Opts
	server string // paho's broker URL
	topics topics
	box    *outbox
	log    *slog.Logger

	kick   chan struct{} // a command ran: read the state now
	birth  chan struct{} // Home Assistant came online: announce again
	inbox  chan inbound  // commands from the broker
	limits complaints
	// bigImage: a snapshot too large for the queue was reported (the
	// poller's own).
	bigImage bool

	mu      sync.Mutex
	st      Status
	last    []byte   // the latest state payload
	image   []byte   // the latest snapshot image
	scenes  []string // the scene select's options, as last read
	current map[string]bool
	// reaffirm is when to publish availability and the state once more
	// after a reconnection: what the old connection had sent before the
	// broker stalled can reach the broker after the new one's messages
	// (a stale retained state, or the old session's last will saying
	// offline).
	reaffirm time.Time
}

// New checks o and returns a Bridge; it does not connect yet.
func New(o Opts) (*Bridge, error) {
	def := DefaultOpts()
	for _, d := range []struct {
		v   *time.Duration
		def time.Duration
	}{
		{&o.Poll, def.Poll}, {&o.SlowPoll, def.SlowPoll}, {&o.Refresh, def.Refresh}, {&o.ImageEvery, def.ImageEvery},
		{&o.MotionHold, def.MotionHold}, {&o.BackoffMin, def.BackoffMin}, {&o.BackoffMax, def.BackoffMax},
		{&o.KeepAlive, def.KeepAlive}, {&o.ConnectTimeout, def.ConnectTimeout}, {&o.PublishTimeout, def.PublishTimeout},
	} {
		if *d.v <= 0 {
			*d.v = d.def
		}
	}
	if o.QueueMessages <= 0 {
		o.QueueMessages = def.QueueMessages
	}
	if o.QueueBytes <= 0 {
		o.QueueBytes = def.QueueBytes
	}
	o.BackoffMax = max(o.BackoffMax, o.BackoffMin)
	switch {
	case o.App == nil:
		return nil, errors.New("homeassistant: no App")
	case o.Device.ID == "" || o.Device.Name == "":
		return nil, errors.New("homeassistant: the device needs an ID and a name")
	case !validNode(o.Device.ID):
		return nil, fmt.Errorf("homeassistant: device ID %q: want letters, digits, _ and - only", o.Device.ID)
	case o.BaseTopic == "" || o.DiscoveryPrefix == "":
		return nil, errors.New("homeassistant: no base topic or discovery prefix")
	}
	server, err := brokerURL(o.Broker)
	if err != nil {
		return nil, err
	}
	if o.Clock == nil {
		o.Clock = wallClock{}
	}
	b := &Bridge{
		o:      o,
		server: server,
		topics: topics{base: o.BaseTopic, prefix: o.DiscoveryPrefix, node: o.Device.ID},
		box:    newOutbox(o.QueueMessages, o.QueueBytes),
		log:    o.Log,
		kick:   make(chan struct{}, 1),
		birth:  make(chan struct{}, 1),
		inbox:  make(chan inbound, 16),
	}
	if b.log == nil {
		b.log = slog.New(slog.DiscardHandler)
	}
	b.st = Status{Broker: o.Broker, State: StateConnecting, Since: o.Clock.Now()}
	return b, nil
}

// brokerURL turns mqtt://host[:port] or mqtts://host[:port] into paho's
// form, with the default port.
func brokerURL(s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil || u.Hostname() == "" {
		return "", fmt.Errorf("homeassistant: invalid broker %q (want mqtt://host:1883 or mqtts://host:8883)", s)
	}
	port, scheme := 1883, "tcp"
	switch u.Scheme {
	case "mqtt":
	case "mqtts":
		port, scheme = 8883, "ssl"
	default:
		return "", fmt.Errorf("homeassistant: broker %q: want mqtt:// or mqtts://", s)
	}
	if p := u.Port(); p != "" {
		if port, err = strconv.Atoi(p); err != nil || port < 1 || port > 65535 {
			return "", fmt.Errorf("homeassistant: broker %q: bad port", s)
		}
	}
	return scheme + "://" + joinHostPort(u.Hostname(), port), nil
}

// validNode reports whether s may be a discovery node id (and so a client
// id): Home Assistant allows [a-zA-Z0-9_-].
func validNode(s string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return false
		}
	}
	return s != ""
}

// Status returns the connection's state and the queue's counts.
func (b *Bridge) Status() Status {
	b.mu.Lock()
	st := b.st
	b.mu.Unlock()
	q := b.box.stats()
	st.Queued, st.QueuedBytes, st.Dropped, st.Replaced, st.Sent = q.Queued, q.Bytes, q.Dropped, q.Replaced, q.Sent
	return st
}

func (b *Bridge) setState(state string, err error, next time.Time) {
	now := b.o.Clock.Now()
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.st.State != state {
		b.st.State, b.st.Since = state, now
	}
	if err != nil {
		b.st.LastError, b.st.LastErrorAt = err.Error(), now
	}
	b.st.NextTry = next
	if state == StateConnected {
		b.st.Connects++
	}
}

// Run connects, publishes and takes commands until ctx ends, reconnecting
// with backoff whenever the broker goes away. Nothing it does waits for
// the appliance: the state is read on the bridge's own goroutines and what
// the broker has not taken waits in the bounded queue. At the end it tells
// Home Assistant the device is offline.
func (b *Bridge) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	wg.Go(func() { b.poll(ctx) })
	wg.Go(func() { b.work(ctx) })

	backoff := b.o.BackoffMin
	var downSince time.Time
	for {
		b.mu.Lock()
		b.st.Attempts++
		b.mu.Unlock()
		c, err := b.connect(ctx)
		if err == nil {
			if !downSince.IsZero() {
				b.log.Info("homeassistant: connected again", "broker", b.o.Broker, "down", b.o.Clock.Now().Sub(downSince).Round(time.Second))
			} else {
				b.log.Info("homeassistant: connected", "broker", b.o.Broker)
			}
			if b.Status().Connects > 0 {
				b.mu.Lock()
				b.reaffirm = b.o.Clock.Now().Add(b.o.PublishTimeout)
				b.mu.Unlock()
			}
			downSince, backoff = time.Time{}, b.o.BackoffMin
			b.setState(StateConnected, nil, time.Time{})
			err = b.serve(ctx, c)
			if ctx.Err() != nil {
				c.goodbye(b.topics.availability(), b.o.PublishTimeout)
				return nil
			}
			c.close()
		}
		if ctx.Err() != nil {
			return nil
		}
		next := b.o.Clock.Now().Add(backoff)
		if downSince.IsZero() {
			downSince = b.o.Clock.Now()
			b.log.Warn("homeassistant: broker unreachable; retrying with backoff", "broker", b.o.Broker, "err", err)
		} else {
			b.log.Debug("homeassistant: retry failed", "err", err, "next", backoff)
		}
		b.setState(StateDown, err, next)
		select {
		case <-ctx.Done():
			return nil
		case <-b.o.Clock.After(backoff):
		}
		backoff = min(backoff*2, b.o.BackoffMax)
	}
}

// serve publishes until the connection fails or ctx ends: the
// announcement (availability, discovery configs, state), then whatever the
// queue holds, oldest first.
func (b *Bridge) serve(ctx context.Context, c *conn) error {
	if err := b.announce(c); err != nil {
		return err
	}
	for {
		for {
			m, seq, ok := b.box.next()
			if !ok {
				break
			}
			if err := c.publish(m, b.o.PublishTimeout); err != nil {
				b.box.failed()
				return err
			}
			b.box.done(seq)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-c.lost:
			return fmt.Errorf("connection lost: %w", err)
		case <-b.box.wake:
		case <-b.birth:
			b.log.Info("homeassistant: Home Assistant came online; publishing the discovery configs again")
			if err := b.announce(c); err != nil {
				return err
			}
		}
	}
}

// announce makes the device known again: availability, every discovery
// config, then the state and the snapshot through the queue. On a
// reconnection, or when Home Assistant restarts, this is what brings the
// entities back.
func (b *Bridge) announce(c *conn) error {
	if err := c.publish(message{b.topics.availability(), []byte(payloadOnline), true}, b.o.PublishTimeout); err != nil {
		return err
	}
	b.box.countSent()
	for _, e := range b.entities(b.sceneList()) {
		if err := c.publish(message{b.topics.discovery(e), b.config(e), true}, b.o.PublishTimeout); err != nil {
			return err
		}
		b.box.countSent()
	}
	b.mu.Lock()
	state, img := b.last, b.image
	b.mu.Unlock()
	if state != nil {
		b.box.push(message{b.topics.state(), state, true})
	}
	if img != nil {
		b.box.push(message{b.topics.image(), img, true})
	}
	return nil
}

// sceneList is the select's options: as last polled, or read now.
func (b *Bridge) sceneList() []string {
	b.mu.Lock()
	s := b.scenes
	b.mu.Unlock()
	if s == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		s = b.o.App.Status(ctx).Scenes
	}
	return s
}

// ownTopics are the discovery topics of the current entities: a retained
// config of this device on any other is stale (an entity of a feature the
// appliance no longer has) and is removed.
func (b *Bridge) ownTopics() map[string]bool {
	set := map[string]bool{}
	for _, e := range b.entities(b.sceneList()) {
		set[b.topics.discovery(e)] = true
	}
	return set
}

type wallClock struct{}

func (wallClock) Now() time.Time                         { return time.Now() }
func (wallClock) After(d time.Duration) <-chan time.Time { return time.After(d) }
