package homeassistant

import (
	"context"
	"time"

	"periph.io/x/conn/v3/physic"
)

// Clock is the appliance's clock (scene.SystemClock, or a test's).
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

// App is the appliance as the web API has it: its state and the two
// commands every tinkerbox takes. The appliance implements it with the
// functions behind GET /api/state, POST /api/scene and POST
// /api/buttons/{A|B}, so a command from Home Assistant is checked exactly as
// one from the web page.
type App interface {
	// Status is read every Opts.Poll: it must be quick.
	Status(ctx context.Context) AppStatus
	// SwitchScene refuses a name that is not one of AppStatus.Scenes.
	SwitchScene(name string) error
	// Press presses button "A" or "B"; press is "short", "long" or
	// "double", as POST /api/buttons takes it.
	Press(button, press string) error
}

// AppStatus is the part of the state every tinkerbox has.
type AppStatus struct {
	Scene      string
	Scenes     []string // the scene select's options, in order
	Printer    string   // "ready", "out of paper", "not connected", …
	PrintQueue int      // strips waiting for the printer
}

// StripPrinter makes a new comic strip, as POST /api/comics/print does
// (refused unless the comic scene runs, or when the queue is full).
type StripPrinter interface {
	PrintStrip(ctx context.Context) error
}

// WeatherSource is the barometer (its report, as GET /api/barometer has it).
type WeatherSource interface {
	Weather(ctx context.Context) (Weather, error)
}

// Weather is the barometer's reading; Valid is false before the first.
type Weather struct {
	Valid         bool
	SeaLevel      physic.Pressure
	Temperature   physic.Temperature
	TendencyKnown bool            // false until there is an hour of history
	Change3h      physic.Pressure // negative when falling
	Warning       string          // one of WarningLevels
}

// WarningLevels are the storm warning's values, mildest first.
func WarningLevels() []string { return []string{"none", "watch", "warning", "gale"} }

// CardSource is the card collection (GET /api/cards has the same totals).
type CardSource interface {
	Cards(ctx context.Context) (Cards, error)
}

// Cards is the collection's size and value.
type Cards struct {
	Count    int     // copies owned
	ValueUSD float64 // at catalog prices
}

// CameraSource is the spy-cam: its newest capture and the snapshot command
// (POST /api/spycam/snapshot, refused unless the spy-cam runs).
type CameraSource interface {
	Snapshot(ctx context.Context) error
	// LatestCapture is read every Opts.Poll and must be quick when nothing
	// changed.
	LatestCapture(ctx context.Context) (Capture, error)
	// CaptureJPEG reads the frame of a capture LatestCapture named.
	CaptureJPEG(ctx context.Context, id string) ([]byte, error)
}

// Capture is the newest spy-cam capture.
type Capture struct {
	ID         string    // changes whenever a newer frame is saved; "" = none yet
	LastMotion time.Time // the newest motion event; zero = none
}

// Device is this tinkerbox as Home Assistant lists it.
type Device struct {
	ID      string // stable across restarts and unique: identifiers, unique_id, node id, client id
	Name    string // appliance.name
	Version string // firmware version
	URL     string // its web page (configuration_url); "" = none
}
