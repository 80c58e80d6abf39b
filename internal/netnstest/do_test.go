package netnstest

import (
	"fmt"
	"runtime"
	"sync"
	"syscall"
	"testing"
)

func nsInode(path string) (uint64, error) {
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		return 0, err
	}
	return st.Ino, nil
}

// TestDoKeepsThreadsApart switches many goroutines between namespaces at
// once and checks that each call runs in its namespace and that no thread
// comes back to the runtime in another one.
func TestDoKeepsThreadsApart(t *testing.T) {
	t.Parallel()
	tp := New(t, Options{Instances: 3})
	orig, err := nsInode("/proc/self/ns/net")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 300 {
				ns := tp.Namespaces()[(g+i)%len(tp.Namespaces())]
				want, _ := nsInode(ns.Path())
				err := Do(ns, func() error {
					got, err := nsInode("/proc/thread-self/ns/net")
					if err != nil {
						return err
					}
					if got != want {
						return fmt.Errorf("inside Do(%s): ns %d want %d", ns, got, want)
					}
					return nil
				})
				if err != nil {
					errs <- err
					return
				}
				runtime.Gosched()
				got, _ := nsInode("/proc/thread-self/ns/net")
				if got != orig {
					errs <- fmt.Errorf("outside Do: thread in ns %d, want %d (iteration %d)", got, orig, i)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
