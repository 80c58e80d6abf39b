package netnstest

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
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
	// Read on a thread this goroutine holds: /proc/self names the main
	// thread, which may be running another test's Do at this moment.
	runtime.LockOSThread()
	orig, err := nsInode("/proc/thread-self/ns/net")
	runtime.UnlockOSThread()
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
				runtime.LockOSThread()
				got, _ := nsInode("/proc/thread-self/ns/net")
				runtime.UnlockOSThread()
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

func TestDoRunsCommandsInTheNamespace(t *testing.T) {
	t.Parallel()
	tp := New(t, Options{HostIfNames: []string{"vm-one"}})
	var out []byte
	err := Do(tp.Host, func() error {
		// A child forked from the switched thread inherits its namespace.
		var err error
		out, err = exec.Command("ip", "-o", "link", "show", "vm-one").CombinedOutput()
		return err
	})
	if err != nil || !strings.Contains(string(out), "vm-one") {
		t.Errorf("ip link show vm-one inside Do = %q, %v; want the host namespace's interface", out, err)
	}
	if _, err := exec.Command("ip", "link", "show", "vm-one").CombinedOutput(); err == nil {
		t.Errorf("vm-one is visible outside the host namespace")
	}
}

func TestDoReportsErrorsAndPanics(t *testing.T) {
	t.Parallel()
	tp := New(t, Options{})
	for _, ns := range []NS{"", "a/b", NS("ntnone" + strconv.Itoa(os.Getpid()))} {
		if err := Do(ns, func() error { return nil }); err == nil {
			t.Errorf("Do(%q) succeeded, want an error", ns)
		}
	}
	want := errors.New("inner")
	if err := Do(tp.Host, func() error { return want }); !errors.Is(err, want) {
		t.Errorf("Do returned %v, want %v", err, want)
	}
	func() {
		defer func() {
			if v := recover(); v != "boom" {
				t.Errorf("recovered %v, want the panic of fn", v)
			}
		}()
		_ = Do(tp.Host, func() error { panic("boom") })
	}()
	if err := Do(tp.Host, func() error { runtime.Goexit(); return nil }); err == nil {
		t.Errorf("Do with runtime.Goexit in fn succeeded, want an error")
	}
}
