package netnstest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// NS names a network namespace mounted under /run/netns by iproute2.
type NS string

// netnsDir is where iproute2 mounts named namespaces.
const netnsDir = "/run/netns"

// execTimeout bounds every command Exec runs.
const execTimeout = 60 * time.Second

// String returns the namespace's name.
func (ns NS) String() string { return string(ns) }

// Path returns the namespace's mount point.
func (ns NS) Path() string { return netnsDir + "/" + string(ns) }

func (ns NS) validate() error {
	if ns == "" {
		return errors.New("empty namespace name")
	}
	if strings.ContainsAny(string(ns), "/\x00") || ns == "." || ns == ".." {
		return fmt.Errorf("invalid namespace name %q", string(ns))
	}
	return nil
}

// errGoexit reports that the function given to Do called runtime.Goexit
// (for example through t.FailNow).
var errGoexit = errors.New("function exited its goroutine (t.FailNow inside Do?)")

// Do runs fn on an OS thread switched into the namespace ns and returns its
// error. Sockets fn creates stay in ns for their whole life and may be used
// from any goroutine afterwards; goroutines fn starts do not run in ns.
//
// fn runs on a dedicated goroutine locked to its thread, so the caller's own
// thread never changes namespace; it must not call t.FailNow. After fn the
// thread is switched back; if that fails the goroutine ends still locked,
// which makes the runtime discard the thread rather than reuse it. A panic in
// fn is re-raised in the caller.
func Do(ns NS, fn func() error) error {
	if err := ns.validate(); err != nil {
		return err
	}
	type outcome struct {
		err      error
		panicked bool
		value    any
	}
	done := make(chan outcome, 1)
	go func() {
		runtime.LockOSThread()
		sent := false
		defer func() {
			if !sent {
				// fn called runtime.Goexit; the deferred restore below has run.
				done <- outcome{err: errGoexit}
			}
		}()
		orig, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			sent = true
			runtime.UnlockOSThread()
			done <- outcome{err: fmt.Errorf("open current network namespace: %w", err)}
			return
		}
		target, err := unix.Open(ns.Path(), unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			unix.Close(orig)
			sent = true
			runtime.UnlockOSThread()
			done <- outcome{err: fmt.Errorf("open namespace %s: %w", ns, err)}
			return
		}
		defer unix.Close(target)
		defer unix.Close(orig)
		if err := unix.Setns(target, unix.CLONE_NEWNET); err != nil {
			sent = true
			runtime.UnlockOSThread()
			done <- outcome{err: fmt.Errorf("enter namespace %s: %w", ns, err)}
			return
		}
		defer func() {
			if err := unix.Setns(orig, unix.CLONE_NEWNET); err == nil {
				runtime.UnlockOSThread()
			}
			// Otherwise stay locked: the thread dies with this goroutine.
		}()
		var o outcome
		func() {
			defer func() {
				if v := recover(); v != nil {
					o = outcome{panicked: true, value: v}
				}
			}()
			o.err = fn()
		}()
		sent = true
		done <- o
	}()
	o := <-done
	if o.panicked {
		panic(o.value)
	}
	return o.err
}

// Exec runs argv inside ns (through `ip netns exec`) and returns its combined
// output. A non-zero exit is an error that quotes the output.
func Exec(ns NS, argv ...string) ([]byte, error) {
	return ExecInput(ns, nil, argv...)
}

// ExecInput is Exec with stdin taken from input.
func ExecInput(ns NS, input []byte, argv ...string) ([]byte, error) {
	return execNS(ns, input, true, argv)
}

// execNS runs argv inside ns. It returns the combined output, or only
// standard output when combined is false; the error quotes standard error.
func execNS(ns NS, input []byte, combined bool, argv []string) ([]byte, error) {
	if err := ns.validate(); err != nil {
		return nil, err
	}
	if len(argv) == 0 {
		return nil, errors.New("exec: empty command")
	}
	ctx, cancel := context.WithTimeout(context.Background(), execTimeout)
	defer cancel()
	args := append([]string{"netns", "exec", string(ns)}, argv...)
	cmd := exec.CommandContext(ctx, "ip", args...)
	if input != nil {
		cmd.Stdin = bytes.NewReader(input)
	}
	var out, errOut bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &errOut
	if combined {
		cmd.Stderr = &out
	}
	err := cmd.Run()
	if err != nil {
		msg := errOut.String()
		if combined {
			msg = out.String()
		}
		return out.Bytes(), fmt.Errorf("in %s: %s: %w: %s", ns, strings.Join(argv, " "), err, strings.TrimSpace(msg))
	}
	return out.Bytes(), nil
}

// runIP runs `ip args...` in the caller's namespace (iproute2 selects the
// target namespace itself through -n).
func runIP(args ...string) error {
	ctx, cancel := context.WithTimeout(context.Background(), execTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, "ip", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ip %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// ipBatch runs several ip commands in ns through one `ip -n ns -batch -`.
func ipBatch(ns NS, lines []string) error {
	ctx, cancel := context.WithTimeout(context.Background(), execTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "ip", "-n", string(ns), "-batch", "-")
	cmd.Stdin = strings.NewReader(strings.Join(lines, "\n") + "\n")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("ip -n %s -batch: %w: %s", ns, err, strings.TrimSpace(string(out)))
	}
	return nil
}

// Sysctl writes value to the sysctl key (dotted, as in
// "net.ipv4.ip_forward") inside ns and reads it back. Keys naming an
// interface whose name contains a dot cannot be written this way.
func Sysctl(ns NS, key, value string) error {
	if key == "" || strings.Contains(key, "..") || strings.HasPrefix(key, ".") || strings.Contains(key, "/") {
		return fmt.Errorf("invalid sysctl key %q", key)
	}
	return writeSysctl(ns, strings.ReplaceAll(key, ".", "/"), value)
}

// writeSysctl writes value to /proc/sys/path inside ns and reads it back.
func writeSysctl(ns NS, path, value string) error {
	file := "/proc/sys/" + path
	return Do(ns, func() error {
		if err := os.WriteFile(file, []byte(value), 0o644); err != nil {
			return fmt.Errorf("sysctl %s=%s in %s: %w", path, value, ns, err)
		}
		got, err := os.ReadFile(file)
		if err != nil {
			return fmt.Errorf("sysctl %s in %s: %w", path, ns, err)
		}
		if strings.TrimSpace(string(got)) != value {
			return fmt.Errorf("sysctl %s in %s reads %q after writing %q", path, ns, strings.TrimSpace(string(got)), value)
		}
		return nil
	})
}
