package parallel

import (
	"errors"
	"sync"
)

// Do runs call(0), ..., call(n-1) concurrently (inline when n is 1), waits
// for all of them, and joins their errors in index order.
func Do(n int, call func(i int) error) error {
	if n == 1 {
		return call(0)
	}
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = call(i)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}
