package servo_test

import (
	"log"
	"time"

	"periph.io/x/conn/v3/i2c/i2creg"
	"periph.io/x/conn/v3/physic"
	"periph.io/x/host/v3"

	"tinkerbox/drivers/servo"
)

// A positional servo on hardware PWM0 (GPIO18, dtoverlay=pwm-2chan).
func Example() {
	out, err := servo.NewSysfs(&servo.SysfsOpts{Chip: 0, Channel: 0})
	if err != nil {
		log.Fatal(err)
	}
	s, err := servo.New(out, &servo.Opts{MinPulse: 550 * time.Microsecond, MaxPulse: 2450 * time.Microsecond})
	if err != nil {
		log.Fatal(err)
	}
	defer s.Halt()
	if err := s.SetAngle(45 * physic.Degree); err != nil {
		log.Fatal(err)
	}
}

// A continuous-rotation feed wheel on channel 2 of a PCA9685.
func Example_pca9685() {
	if _, err := host.Init(); err != nil {
		log.Fatal(err)
	}
	bus, err := i2creg.Open("")
	if err != nil {
		log.Fatal(err)
	}
	defer bus.Close()
	pca, err := servo.NewPCA9685(bus, 0x40)
	if err != nil {
		log.Fatal(err)
	}
	defer pca.Halt()
	ch, err := pca.Channel(2)
	if err != nil {
		log.Fatal(err)
	}
	wheel, err := servo.New(ch, &servo.Opts{Kind: servo.Continuous, Deadband: 30 * time.Microsecond})
	if err != nil {
		log.Fatal(err)
	}
	defer wheel.Halt()
	if err := wheel.SetSpeed(0.4); err != nil {
		log.Fatal(err)
	}
}
