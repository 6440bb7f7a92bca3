package server

import "time"

// SetListenBackoff sets the listener's first reconnect delay (tests that
// publish while it is down) and returns a func restoring it.
func SetListenBackoff(d time.Duration) func() {
	old := listenBackoffMin
	listenBackoffMin = d
	return func() { listenBackoffMin = old }
}
