package web

import (
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"tinkerbox/appliance/web/webtest"
)

// TestBrowserSettingsMQTT drives the Home Assistant section of /settings in
// real Chromium: it passes axe-core at desktop and phone sizes, follows the
// connection from the stream, saves the form (the password only when one
// is typed) and shows a refusal in the appliance's words.
func TestBrowserSettingsMQTT(t *testing.T) {
	ctx := webtest.Browser(t)
	axe := webtest.Axe(t)
	app := newMQTTApp()
	app.set(func(s *State) { s.Sim = false })
	srv, err := New(Options{App: app, PasswordHash: testHash(t)})
	if err != nil {
		t.Fatal(err)
	}
	srv.MountMQTT()
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		srv.EndStreams()
		ts.CloseClientConnections()
		ts.Close()
	})
	tctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	errs := watchErrors(tctx)
	poll := func(what, js string) {
		t.Helper()
		if _, err := chromedp.Run(tctx, chromedp.Poll[bool](js, chromedp.WithPollingTimeout(10*time.Second))); err != nil {
			got, _ := chromedp.Run(tctx, chromedp.Evaluate[string](`document.getElementById('mqtt-state').textContent + ' | ' + document.getElementById('mqtt-msg').textContent + ' | ' + document.getElementById('mqtt-fail').textContent`))
			t.Fatalf("%s: %v (state | message | error: %q)", what, err, got)
		}
	}
	checkAxe := func(when string) {
		t.Helper()
		found, err := webtest.RunAxe(tctx, axe)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range found {
			if f.Serious() {
				t.Errorf("axe /settings (MQTT) %s: %s", when, f)
			} else {
				t.Logf("axe /settings (MQTT) %s: %s", when, f)
			}
		}
	}

	shot := func(name string) {
		t.Helper()
		if *screenshots == "" {
			return
		}
		png, err := chromedp.Run(tctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(*screenshots, name), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	if err := webtest.Login(tctx, ts.URL, testPassword); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(tctx, chromedp.Navigate(ts.URL+"/settings")); err != nil {
		t.Fatal(err)
	}
	// The stream's state, in words and local time.
	poll("live", `document.getElementById('conn').dataset.state === 'live' && document.getElementById('mqtt-state').textContent.startsWith('Connected since ') &&
		!document.getElementById('mqtt-state').textContent.endsWith('UTC')`)
	checkAxe("at rest")
	shot("settings-mqtt-1280.png")
	if err := chromedp.Do(tctx, chromedp.EmulateViewport(390, 844)); err != nil {
		t.Fatal(err)
	}
	if fits, _ := chromedp.Run(tctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth <= window.innerWidth`)); !fits {
		t.Error("/settings with MQTT overflows a 390 px wide screen")
	}
	checkAxe("on a phone")
	shot("settings-mqtt-390.png")
	if err := chromedp.Do(tctx, chromedp.EmulateViewport(1280, 900)); err != nil {
		t.Fatal(err)
	}

	// The broker goes away: the stream says so.
	since, next := time.Now(), time.Now().Add(8*time.Second)
	app.mu.Lock()
	app.state = MQTTState{State: MQTTDown, Since: &since, NextTry: &next, Broker: "mqtt://ha.lan:1883", LastError: "connection refused", LastErrorAt: &since, Queued: 3}
	app.mu.Unlock()
	poll("down", `document.getElementById('mqtt-state').dataset.state === 'down' && document.getElementById('mqtt-state').textContent.includes('next try') &&
		document.getElementById('mqtt-error').textContent.startsWith('connection refused') && document.getElementById('mqtt-queue').textContent.startsWith('3 messages')`)

	// Saving: the fields go, the password only as typed.
	if err := chromedp.Do(tctx,
		chromedp.SetValue(chromedp.ID("mqtt-broker"), "mqtts://broker.lan:8883"),
		chromedp.SetValue(chromedp.ID("mqtt-base"), "boat/baro"),
		chromedp.Click(chromedp.ID("mqtt-save")),
	); err != nil {
		t.Fatal(err)
	}
	poll("saved", `document.getElementById('mqtt-msg').textContent === 'Saved: connecting to the broker.' && document.getElementById('mqtt-state').dataset.state === 'connecting'`)
	if f := app.MQTTSettings(); f.Broker != "mqtts://broker.lan:8883" || f.BaseTopic != "boat/baro" || app.pw != "s3cr3t-old" {
		t.Errorf("saved %+v, password %q", f, app.pw)
	}
	if err := chromedp.Do(tctx, chromedp.SendKeys(chromedp.ID("mqtt-password"), "n3w pass"), chromedp.Click(chromedp.ID("mqtt-save"))); err != nil {
		t.Fatal(err)
	}
	poll("password saved", `document.getElementById('mqtt-password').value === '' && document.getElementById('mqtt-password').placeholder === 'unchanged'`)
	if app.pw != "n3w pass" {
		t.Errorf("password %q", app.pw)
	}
	checkAxe("after saving")

	// A refusal: the appliance's words in the alert, nothing saved.
	saves := app.saves
	if err := chromedp.Do(tctx, chromedp.Evaluate[chromedp.Void](`document.getElementById('mqtt-broker').value = ''`), chromedp.Click(chromedp.ID("mqtt-save"))); err != nil {
		t.Fatal(err)
	}
	poll("refused", `!document.getElementById('mqtt-fail').hidden && document.getElementById('mqtt-fail').textContent.includes('mqtt.broker: must be set')`)
	if app.saves != saves {
		t.Error("a refused form was saved")
	}
	checkAxe("after a refusal")
	shot("settings-mqtt-refused.png")
	for _, e := range errs.take() {
		if !strings.Contains(e, "status of 400") {
			t.Errorf("console error: %s", e)
		}
	}
}
