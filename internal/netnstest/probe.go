package netnstest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"syscall"
	"time"
)

// Result is what a probe observed.
type Result uint8

const (
	// ResultInvalid is the zero Result; no probe returns it.
	ResultInvalid Result = iota
	// Reached means the TCP connection was established, the UDP datagram
	// echoed or the ping answered.
	Reached
	// Refused means a TCP reset or an ICMP port unreachable came back.
	Refused
	// Unreachable means an ICMP destination unreachable (other than port
	// unreachable, for example administratively prohibited) came back, or
	// the sending namespace's own kernel refused to send (EPERM or EACCES,
	// as from a drop in its output hook).
	Unreachable
	// TimedOut means nothing came back before the timeout.
	TimedOut
)

// String returns the result's name.
func (r Result) String() string {
	switch r {
	case Reached:
		return "reached"
	case Refused:
		return "refused"
	case Unreachable:
		return "unreachable"
	case TimedOut:
		return "timed-out"
	default:
		return fmt.Sprintf("Result(%d)", uint8(r))
	}
}

// MarshalText implements encoding.TextMarshaler.
func (r Result) MarshalText() ([]byte, error) {
	if r < Reached || r > TimedOut {
		return nil, fmt.Errorf("invalid result %d", uint8(r))
	}
	return []byte(r.String()), nil
}

// classify maps a socket error to a Result; other errors are returned.
func classify(err error) (Result, error) {
	var ne net.Error
	switch {
	case err == nil:
		return Reached, nil
	case errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET):
		return Refused, nil
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH),
		errors.Is(err, syscall.EACCES), errors.Is(err, syscall.EPERM):
		// EACCES/EPERM: an ICMP "administratively prohibited" or a local
		// output drop.
		return Unreachable, nil
	case errors.Is(err, os.ErrDeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return TimedOut, nil
	default:
		return ResultInvalid, err
	}
}

func checkTimeout(timeout time.Duration) error {
	if timeout <= 0 {
		return fmt.Errorf("timeout %v: want a positive duration", timeout)
	}
	return nil
}

func tcpAddr(ap netip.AddrPort) *net.TCPAddr {
	if !ap.Addr().IsValid() {
		return nil
	}
	return net.TCPAddrFromAddrPort(ap)
}

func udpAddr(ap netip.AddrPort) *net.UDPAddr {
	if !ap.Addr().IsValid() {
		return nil
	}
	return net.UDPAddrFromAddrPort(ap)
}

// DialTCP opens a TCP connection from ns to addr and closes it again,
// reporting whether it was established, refused, unreachable or timed out.
func DialTCP(ns NS, addr netip.AddrPort, timeout time.Duration) (Result, error) {
	return DialTCPFrom(ns, netip.AddrPort{}, addr, timeout)
}

// DialTCPFrom is DialTCP from a chosen local address and port (either may be
// zero, the port meaning "any"); in the internet namespace any address of
// Options.InternetPrefixes works.
func DialTCPFrom(ns NS, src, addr netip.AddrPort, timeout time.Duration) (Result, error) {
	c, res, err := dialTCP(ns, src, addr, timeout)
	if c != nil {
		c.Close()
	}
	return res, err
}

func dialTCP(ns NS, src, addr netip.AddrPort, timeout time.Duration) (*net.TCPConn, Result, error) {
	if err := checkTimeout(timeout); err != nil {
		return nil, ResultInvalid, err
	}
	if !addr.IsValid() {
		return nil, ResultInvalid, errors.New("dial tcp: invalid destination")
	}
	var conn net.Conn
	err := Do(ns, func() error {
		d := net.Dialer{Timeout: timeout}
		if la := tcpAddr(src); la != nil {
			d.LocalAddr = la
		}
		c, err := d.Dial("tcp", addr.String())
		conn = c
		return err
	})
	res, cerr := classify(err)
	if cerr != nil {
		return nil, ResultInvalid, fmt.Errorf("dial tcp %s from %s: %w", addr, ns, cerr)
	}
	if res != Reached {
		return nil, res, nil
	}
	return conn.(*net.TCPConn), Reached, nil
}

// Conn is an established TCP connection opened from a namespace, kept for
// later exchanges (for example across a ruleset change).
type Conn struct {
	c *net.TCPConn
}

// Connect opens a TCP connection from ns to addr. Anything but an
// established connection is an error naming the Result.
func Connect(ns NS, addr netip.AddrPort, timeout time.Duration) (*Conn, error) {
	return ConnectFrom(ns, netip.AddrPort{}, addr, timeout)
}

// ConnectFrom is Connect from a chosen local address and port.
func ConnectFrom(ns NS, src, addr netip.AddrPort, timeout time.Duration) (*Conn, error) {
	c, res, err := dialTCP(ns, src, addr, timeout)
	if err != nil {
		return nil, err
	}
	if res != Reached {
		return nil, fmt.Errorf("connect tcp %s from %s: %v", addr, ns, res)
	}
	return &Conn{c: c}, nil
}

// LocalAddr returns the connection's local address.
func (c *Conn) LocalAddr() netip.AddrPort { return c.c.LocalAddr().(*net.TCPAddr).AddrPort() }

// RemoteAddr returns the connection's remote address.
func (c *Conn) RemoteAddr() netip.AddrPort { return c.c.RemoteAddr().(*net.TCPAddr).AddrPort() }

// RoundTrip sends payload and waits for the same bytes back (the peer is an
// echo server from Listen). It returns Reached, TimedOut when the bytes do not
// all come back in time, or Refused when the connection was reset.
func (c *Conn) RoundTrip(payload []byte, timeout time.Duration) (Result, error) {
	if err := checkTimeout(timeout); err != nil {
		return ResultInvalid, err
	}
	if len(payload) == 0 {
		return ResultInvalid, errors.New("round trip: empty payload")
	}
	if err := c.c.SetDeadline(time.Now().Add(timeout)); err != nil {
		return ResultInvalid, fmt.Errorf("set deadline: %w", err)
	}
	if _, err := c.c.Write(payload); err != nil {
		return classifyConn(err)
	}
	got := make([]byte, len(payload))
	if _, err := io.ReadFull(c.c, got); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return Refused, nil
		}
		return classifyConn(err)
	}
	if !bytes.Equal(got, payload) {
		return ResultInvalid, fmt.Errorf("round trip on %s: echoed %q, sent %q", c.LocalAddr(), got, payload)
	}
	return Reached, nil
}

func classifyConn(err error) (Result, error) {
	res, cerr := classify(err)
	if cerr != nil {
		return ResultInvalid, fmt.Errorf("round trip: %w", cerr)
	}
	return res, nil
}

// Close closes the connection.
func (c *Conn) Close() error { return c.c.Close() }

// UDPRoundTrip sends payload from ns to addr and waits for it to be echoed
// back (by a server from ListenPacket). A reply that differs from payload is
// an error.
func UDPRoundTrip(ns NS, addr netip.AddrPort, payload []byte, timeout time.Duration) (Result, error) {
	return UDPRoundTripFrom(ns, netip.AddrPort{}, addr, payload, timeout)
}

// UDPRoundTripFrom is UDPRoundTrip from a chosen local address and port.
func UDPRoundTripFrom(ns NS, src, addr netip.AddrPort, payload []byte, timeout time.Duration) (Result, error) {
	if err := checkTimeout(timeout); err != nil {
		return ResultInvalid, err
	}
	if !addr.IsValid() {
		return ResultInvalid, errors.New("udp round trip: invalid destination")
	}
	if len(payload) == 0 {
		return ResultInvalid, errors.New("udp round trip: empty payload")
	}
	var conn *net.UDPConn
	err := Do(ns, func() error {
		c, err := net.DialUDP("udp", udpAddr(src), net.UDPAddrFromAddrPort(addr))
		conn = c
		return err
	})
	if err != nil {
		return ResultInvalid, fmt.Errorf("udp socket to %s in %s: %w", addr, ns, err)
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(timeout)); err != nil {
		return ResultInvalid, fmt.Errorf("set deadline: %w", err)
	}
	buf := make([]byte, len(payload)+512)
	_, err = conn.Write(payload)
	n := 0
	if err == nil {
		n, err = conn.Read(buf)
	}
	res, cerr := classify(err)
	if cerr != nil {
		return ResultInvalid, fmt.Errorf("udp round trip to %s from %s: %w", addr, ns, cerr)
	}
	if res == Reached && !bytes.Equal(buf[:n], payload) {
		return ResultInvalid, fmt.Errorf("udp round trip to %s from %s: echoed %q, sent %q", addr, ns, buf[:n], payload)
	}
	return res, nil
}
