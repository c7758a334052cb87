package picam_test

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/jpeg"
	"log"
	"time"

	"tinkerbox/drivers/picam"
)

// A camera owner with the Pi camera; readers call Next with the last Seq they
// saw and always get the newest frame.
func ExampleNewOwner() {
	cam := picam.NewRPiCam(&picam.RPiCamOpts{Width: 640, Height: 480, FrameRate: 15, Quality: 60})
	owner := picam.NewOwner(cam, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	go owner.Run(ctx)
	defer owner.Halt()

	var seq uint64
	for range 3 {
		f, err := owner.Next(ctx, seq)
		if err != nil {
			log.Print(err)
			return
		}
		seq = f.Seq
		fmt.Println(f.Seq, len(f.JPEG), owner.Stats().FPS)
	}
}

// Split cuts concatenated JPEGs (an MJPEG stream) into frames.
func ExampleSplit() {
	var stream bytes.Buffer
	for range 2 {
		jpeg.Encode(&stream, image.NewGray(image.Rect(0, 0, 32, 16)), nil)
	}
	picam.Split(&stream, picam.DefaultMaxFrame, func(frame []byte) {
		w, h, err := picam.ParseSize(frame)
		fmt.Println(w, h, err)
	})
	// Output:
	// 32 16 <nil>
	// 32 16 <nil>
}
