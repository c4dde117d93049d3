//go:build race

package live_test

// raceEnabled: the race detector multiplies memory and time; the memory
// test then only reports.
const raceEnabled = true
