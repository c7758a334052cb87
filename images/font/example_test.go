package font_test

import (
	"fmt"
	"image"

	"tinkerbox/images/font"
)

// A pressure reading fits the 17x7 display in the 3x5 face, so it is centred
// and does not scroll.
func ExampleScroller() {
	s := font.NewScroller(font.Font3x5(), "1013", 17, 7)
	frame := image.NewGray(image.Rect(0, 0, 17, 7))
	s.Frame(0, frame)
	fmt.Println(s.Fits(), s.Len())
	for y := 0; y < 7; y++ {
		for x := 0; x < 17; x++ {
			if frame.GrayAt(x, y).Y != 0 {
				fmt.Print("#")
			} else {
				fmt.Print(".")
			}
		}
		fmt.Println()
	}
	// Output:
	// true 1
	// .................
	// ..#..###..#..###.
	// .##..#.#.##....#.
	// ..#..#.#..#..###.
	// ..#..#.#..#....#.
	// .###.###.###.###.
	// .................
}

func ExampleFace_Measure() {
	f := font.Font5x7()
	fmt.Println(f.Measure("HELLO"), f.Advance('H'), f.Height())
	// Output: 29 6 7
}
