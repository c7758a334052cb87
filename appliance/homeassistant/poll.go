package homeassistant

import (
	"bytes"
	"context"
	"log/slog"
	"slices"
	"time"
)

// poll reads the appliance every Poll (or at once after a command) and
// queues the state when it changed; the barometer and the cards every
// SlowPoll; a new snapshot image at most every ImageEvery. Every Refresh,
// and once after a reconnection (see reaffirm), it queues the state and
// the availability even if nothing changed. It only ever pushes to the
// queue, which never blocks.
func (b *Bridge) poll(ctx context.Context) {
	var (
		r                     reading
		nextSlow, nextRefresh time.Time
		imageID               string
		imageAt               time.Time
	)
	for {
		now := b.o.Clock.Now()
		r.app = b.o.App.Status(ctx)
		if !now.Before(nextSlow) {
			b.readSlow(ctx, &r)
			nextSlow = now.Add(b.o.SlowPoll)
		}
		if b.o.Camera != nil {
			if c, err := b.o.Camera.LatestCapture(ctx); err == nil {
				r.camera = &c
				if c.ID != "" && c.ID != imageID && now.Sub(imageAt) >= b.o.ImageEvery {
					imageID, imageAt = c.ID, now
					b.pushImage(ctx, c.ID)
				}
			} else {
				r.camera = nil
				b.log.Debug("homeassistant: captures", "err", err)
			}
		}
		state := b.encode(r, now)
		b.mu.Lock()
		changed := !bytes.Equal(state, b.last)
		b.last = state
		if r.app.Scenes != nil {
			b.scenes = slices.Clone(r.app.Scenes)
		}
		again := !b.reaffirm.IsZero() && !now.Before(b.reaffirm)
		if again {
			b.reaffirm = time.Time{}
		}
		b.mu.Unlock()
		if again || !now.Before(nextRefresh) {
			b.box.push(message{b.topics.availability(), []byte(payloadOnline), true})
			changed = true
			nextRefresh = now.Add(b.o.Refresh)
		}
		if changed {
			b.box.push(message{b.topics.state(), state, true})
		}
		select {
		case <-ctx.Done():
			return
		case <-b.kick:
		case <-b.o.Clock.After(b.o.Poll):
		}
	}
}

// readSlow reads the barometer and the cards; a source that fails reads as
// unknown until it answers again.
func (b *Bridge) readSlow(ctx context.Context, r *reading) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if b.o.Weather != nil {
		if w, err := b.o.Weather.Weather(ctx); err == nil {
			r.weather = &w
		} else {
			r.weather = nil
			b.log.Debug("homeassistant: barometer", "err", err)
		}
	}
	if b.o.Cards != nil {
		if c, err := b.o.Cards.Cards(ctx); err == nil {
			r.cards = &c
		} else {
			r.cards = nil
			b.log.Debug("homeassistant: cards", "err", err)
		}
	}
}

// pushImage queues the capture's JPEG for the image entity. One larger
// than a third of the queue is skipped: one on the wire and a newer one
// waiting must fit with the state.
func (b *Bridge) pushImage(ctx context.Context, id string) {
	jpeg, err := b.o.Camera.CaptureJPEG(ctx, id)
	if err != nil {
		b.log.Debug("homeassistant: snapshot image", "err", err)
		return
	}
	if len(jpeg) > b.o.QueueBytes/3 {
		level := slog.LevelWarn
		if b.bigImage {
			level = slog.LevelDebug // said once
		}
		b.bigImage = true
		b.log.Log(ctx, level, "homeassistant: snapshot image too large to send", "bytes", len(jpeg), "max", b.o.QueueBytes/3)
		return
	}
	b.mu.Lock()
	b.image = jpeg
	b.mu.Unlock()
	b.box.push(message{b.topics.image(), jpeg, true})
}
