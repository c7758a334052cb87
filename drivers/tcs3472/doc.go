// Package tcs3472 drives the ams TCS3472 (TCS34721/3/5/7) colour light-to-digital
// converter on I²C: raw clear, red, green and blue counts plus a lux and
// correlated colour temperature estimate.
//
// Datasheet: https://ams.com/documents/20143/36005/TCS3472_DS000390_3-00.pdf
//
// Lux and CCT follow ams design note DN40 ("Lux and CCT Calculations using ams
// Color Sensors"), with its open-air coefficients.
package tcs3472
