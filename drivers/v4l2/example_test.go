package v4l2_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"tinkerbox/drivers/v4l2"
)

// Capture a few frames from a USB webcam.
func ExampleOpen() {
	cam, err := v4l2.Open("/dev/video0", &v4l2.Opts{Width: 640, Height: 480, FrameRate: 15})
	if err != nil {
		log.Print(err) // e.g. no webcam, or one without MJPEG
		return
	}
	defer cam.Halt()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	n := 0
	err = cam.Stream(ctx, func(jpeg []byte) {
		n++
		fmt.Println(cam, len(jpeg))
		if n == 3 {
			cancel()
		}
	})
	log.Print(err)
}
