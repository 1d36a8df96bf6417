package server

import "context"

// background runs run in a goroutine until the returned stop is called;
// stop cancels run's context and waits for it to return, so that what run
// uses (the store, the router) may be closed after.
func background(run func(ctx context.Context)) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		run(ctx)
	}()
	return func() { cancel(); <-done }
}
