package homeassistant

import (
	"time"

	"tinkerbox/scenes/scene/fakeclock"
)

func newStepClock(t time.Time) *fakeclock.Clock { return fakeclock.New(t) }
