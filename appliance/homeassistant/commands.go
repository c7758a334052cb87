package homeassistant

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	mqtt "github.com/eclipse/paho.mqtt.golang"
)

// inbound is a command as it came from the broker.
type inbound struct {
	topic    string
	payload  []byte
	retained bool
}

// maxPayload bounds a command's payload: a scene name or a press.
const maxPayload = 256

// onCommand runs on paho's goroutine: it only hands the command on, so a
// slow command never holds up the connection.
func (b *Bridge) onCommand(_ mqtt.Client, m mqtt.Message) {
	in := inbound{topic: m.Topic(), payload: m.Payload(), retained: m.Retained()}
	select {
	case b.inbox <- in:
	default:
		b.refuse(in, "too many commands at once")
	}
}

// onHAStatus hears Home Assistant's birth message.
func (b *Bridge) onHAStatus(_ mqtt.Client, m mqtt.Message) {
	if string(m.Payload()) == payloadOnline {
		select {
		case b.birth <- struct{}{}:
		default:
		}
	}
}

// onOwnConfig removes a retained discovery config of this device that
// names an entity it no longer has (an empty retained message deletes it).
func (b *Bridge) onOwnConfig(_ mqtt.Client, m mqtt.Message) {
	if len(m.Payload()) == 0 {
		return
	}
	b.mu.Lock()
	known := b.current[m.Topic()]
	b.mu.Unlock()
	if !known {
		b.log.Info("homeassistant: removing a stale entity", "topic", m.Topic())
		b.box.push(message{m.Topic(), nil, true})
	}
}

// work runs the commands one at a time.
func (b *Bridge) work(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case in := <-b.inbox:
			if err := b.command(ctx, in); err != nil {
				b.refuse(in, err.Error())
				continue
			}
			select { // show its effect without waiting for the next poll
			case b.kick <- struct{}{}:
			default:
			}
		}
	}
}

// command runs one command through the same functions, with the same
// checks, as the web API's; a payload that is not what the topic takes is
// refused.
func (b *Bridge) command(ctx context.Context, in inbound) error {
	name, ok := strings.CutPrefix(in.topic, b.topics.base+"/cmd/")
	switch {
	case !ok:
		return fmt.Errorf("not a command topic")
	case in.retained:
		// A retained command would run again at every reconnection.
		return fmt.Errorf("retained: commands must not be")
	case len(in.payload) > maxPayload || !utf8.Valid(in.payload):
		return fmt.Errorf("payload of %d bytes is not a short UTF-8 text", len(in.payload))
	}
	p := strings.TrimSpace(string(in.payload))
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	switch name {
	case cmdScene:
		if p == "" {
			return fmt.Errorf("missing scene name")
		}
		return b.o.App.SwitchScene(p)
	case cmdButtonA, cmdButtonB:
		if p == pressPayload { // a hand-made button's default payload
			p = "short"
		}
		return b.o.App.Press(strings.ToUpper(strings.TrimPrefix(name, "button_")), p)
	case cmdPrint:
		if b.o.Strips == nil {
			return fmt.Errorf("this tinkerbox has no comic scene")
		}
		if p != pressPayload {
			return fmt.Errorf("want %q", pressPayload)
		}
		return b.o.Strips.PrintStrip(ctx)
	case cmdSnapshot:
		if b.o.Camera == nil {
			return fmt.Errorf("this tinkerbox has no spy-cam")
		}
		if p != pressPayload {
			return fmt.Errorf("want %q", pressPayload)
		}
		return b.o.Camera.Snapshot(ctx)
	}
	return fmt.Errorf("unknown command %q", name)
}

// complaints keeps refused commands from flooding the log: a few lines a
// minute, then a count.
type complaints struct {
	window time.Time
	logged int
	hidden int
}

const complaintsPerMinute = 10

// refuse logs one line for a command that was ignored.
func (b *Bridge) refuse(in inbound, why string) {
	now := b.o.Clock.Now()
	b.mu.Lock()
	c := &b.limits
	if now.Sub(c.window) >= time.Minute {
		if c.hidden > 0 {
			b.log.Warn("homeassistant: more commands ignored", "count", c.hidden)
		}
		*c = complaints{window: now}
	}
	if c.logged >= complaintsPerMinute {
		c.hidden++
		b.mu.Unlock()
		return
	}
	c.logged++
	b.mu.Unlock()
	b.log.Warn("homeassistant: command ignored", "topic", in.topic, "payload", shortPayload(in.payload), "why", why)
}

// shortPayload quotes a payload for the log, cut short.
func shortPayload(p []byte) string {
	const n = 64
	if len(p) > n {
		return strconv.Quote(string(p[:n])) + "…"
	}
	return strconv.Quote(string(p))
}
