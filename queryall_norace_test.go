//go:build !race

package sinopac_test

// raceDetector: the tests run under -race, some ten times slower.
const raceDetector = false
