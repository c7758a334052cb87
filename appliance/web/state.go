package web

import (
	"encoding/json"
	"fmt"
	"strconv"

	"tinkerbox/scenes/scene"
)

// State is what GET /api/state returns and the SSE stream pushes. The JSON
// field names are a stable API.
type State struct {
	Scene   string         `json:"scene"`
	Scenes  []string       `json:"scenes"`
	LEDs    map[string]LED `json:"leds"`
	Display DisplayState   `json:"display"`
	Printer PrinterState   `json:"printer"`
	Camera  CameraState    `json:"camera"`
	Sim     bool           `json:"sim"`
	Help    Help           `json:"help"`
	Extra   map[string]any `json:"extra,omitempty"` // scene-specific bits
	MQTT    *MQTTState     `json:"mqtt,omitempty"`  // the Home Assistant link; nil: none in this appliance
}

// Help is what the buttons do in the running scene now and what its lights
// mean (light name → meaning), for the front panel.
type Help struct {
	A      string            `json:"a"`
	ALong  string            `json:"a_long"`
	B      string            `json:"b"`
	Lights map[string]string `json:"lights"`
}

// LED is one status light.
type LED struct {
	Mode string `json:"mode"` // "off", "on", "blink", "blink-fast"
	Lit  bool   `json:"lit"`  // whether it is lit right now
}

// LED modes as they appear in the JSON.
const (
	ModeOff       = "off"
	ModeOn        = "on"
	ModeBlink     = "blink"
	ModeBlinkFast = "blink-fast"
)

// LEDMode names a scene.LightMode the way the JSON does.
func LEDMode(m scene.LightMode) string {
	switch m {
	case scene.LightOn:
		return ModeOn
	case scene.LightBlink:
		return ModeBlink
	case scene.LightBlinkFast:
		return ModeBlinkFast
	}
	return ModeOff
}

// DisplayState is the LED matrix: W*H brightness values (0 off, 255 full),
// row-major.
type DisplayState struct {
	W      int
	H      int
	Pixels []uint8
}

// MarshalJSON writes pixels as an array of numbers: encoding/json would write
// a []uint8 as base64, which the front panel and scripts would have to decode.
func (d DisplayState) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, 32+4*len(d.Pixels))
	b = append(b, `{"w":`...)
	b = strconv.AppendInt(b, int64(d.W), 10)
	b = append(b, `,"h":`...)
	b = strconv.AppendInt(b, int64(d.H), 10)
	b = append(b, `,"pixels":[`...)
	for i, p := range d.Pixels {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendUint(b, uint64(p), 10)
	}
	return append(b, "]}"...), nil
}

// UnmarshalJSON is the inverse of MarshalJSON.
func (d *DisplayState) UnmarshalJSON(b []byte) error {
	var v struct {
		W      int   `json:"w"`
		H      int   `json:"h"`
		Pixels []int `json:"pixels"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return fmt.Errorf("web: display: %w", err)
	}
	px := make([]uint8, len(v.Pixels))
	for i, p := range v.Pixels {
		if p < 0 || p > 255 {
			return fmt.Errorf("web: display: pixel %d is %d, want 0..255", i, p)
		}
		px[i] = uint8(p)
	}
	*d = DisplayState{W: v.W, H: v.H, Pixels: px}
	return nil
}

// PrinterState describes the thermal printer (and, in the simulator, its roll).
type PrinterState struct {
	Online  bool   `json:"online"`
	Status  string `json:"status"`
	Width   int    `json:"width"`   // dots per line
	Rows    int    `json:"rows"`    // simulated roll length in dot rows
	Version uint64 `json:"version"` // changes whenever the roll image changes
	Queue   int    `json:"queue"`   // jobs waiting
}

// CameraState describes the camera.
type CameraState struct {
	Online bool    `json:"online"`
	FPS    float64 `json:"fps"`
	Width  int     `json:"width"`
	Height int     `json:"height"`
	Frames uint64  `json:"frames"`
	Error  string  `json:"error"`
}
