package button_test

import (
	"fmt"
	"log"
	"time"

	"tinkerbox/drivers/button"
)

func ExampleOpen() {
	// Buttons A and B on GPIO5 and GPIO6 of a Raspberry Pi, wired to GND.
	s, err := button.Open("gpiochip0", map[string]int{"A": 5, "B": 6}, nil)
	if err != nil {
		log.Print(err) // e.g. not on a Pi: run with --sim
		return
	}
	defer s.Halt()
	for e := range s.Events() {
		fmt.Println(e.Name, e.Press) // "A short", "A+B long", ...
	}
}

func ExampleDecoder() {
	d, err := button.NewDecoder([]string{"A", "B"}, nil)
	if err != nil {
		log.Fatal(err)
	}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	// A bounces on press, is held 150 ms, then released.
	for _, e := range []button.Edge{
		{Name: "A", Pressed: true, At: at(0)},
		{Name: "A", Pressed: false, At: at(1)},
		{Name: "A", Pressed: true, At: at(3)},
		{Name: "A", Pressed: false, At: at(153)},
	} {
		evs, err := d.Feed(e)
		if err != nil {
			log.Fatal(err)
		}
		for _, ev := range evs {
			fmt.Println(ev.Name, ev.Press, ev.At.Sub(t0))
		}
	}
	// A's release is confirmed once it has been stable for the debounce time.
	for _, ev := range d.Advance(at(200)) {
		fmt.Println(ev.Name, ev.Press, ev.At.Sub(t0))
	}
	// B held: long is reported at the threshold, before any release.
	if _, err := d.Feed(button.Edge{Name: "B", Pressed: true, At: at(500)}); err != nil {
		log.Fatal(err)
	}
	for _, ev := range d.Advance(at(2000)) {
		fmt.Println(ev.Name, ev.Press, ev.At.Sub(t0))
	}
	// Output:
	// A short 153ms
	// B long 1.5s
}
