package service

import "time"

// Await waits for done until deadline, the end of the service's shutdown budget
// (SHUTDOWN_TIMEOUT from the moment the stop began). ok is false when the deadline came
// first: the caller stops waiting, and what would have sent on done ends with the
// process, which is exiting.
func Await(done <-chan error, deadline time.Time) (err error, ok bool) {
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	select {
	case err := <-done:
		return err, true
	case <-timer.C:
		return nil, false
	}
}
