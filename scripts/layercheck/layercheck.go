// Command layercheck enforces the dependency direction of ARCHITECTURE.md:
// scenes never import drivers, periph's host or the appliance; drivers import
// only periph, go-gpiocdev, tarm/serial, x/image, x/sys, other drivers and the
// standard library; only appliance/board touches periph's global registries.
//
//	go run ./scripts/layercheck [DIR]
package main

import (
	"fmt"
	"os"
)

func main() {
	root := "."
	if len(os.Args) > 1 {
		root = os.Args[1]
	}
	v, err := Check(root)
	if err != nil {
		fmt.Fprintln(os.Stderr, "layercheck:", err)
		os.Exit(2)
	}
	for _, x := range v {
		fmt.Fprintln(os.Stderr, x)
	}
	if len(v) > 0 {
		fmt.Fprintf(os.Stderr, "layercheck: %d forbidden import(s)\n", len(v))
		os.Exit(1)
	}
	fmt.Println("layercheck: ok")
}
