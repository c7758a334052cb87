// Package servo drives hobby servos with 50 Hz pulse-width signals: positional
// servos (pulse width → angle) and continuous-rotation servos (pulse width →
// speed), each with its own calibration.
//
// The pulses come from an Output: Linux hardware PWM through sysfs (Sysfs;
// on a Pi, dtoverlay=pwm-2chan puts PWM0 on GPIO18 and PWM1 on GPIO19) or a
// channel of a PCA9685 16-channel PWM controller (PCA9685).
//
// Linux PWM sysfs ABI: https://www.kernel.org/doc/html/latest/driver-api/pwm.html
// PCA9685 datasheet: https://www.nxp.com/docs/en/data-sheet/PCA9685.pdf
// Servo pulse timing (typical 1–2 ms, many servos 0.5–2.5 ms at 50 Hz):
// https://www.pololu.com/blog/17/servo-control-interface-in-detail
package servo
