package netnstest

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// Captured is one IP packet a Capture saw arrive.
type Captured struct {
	Src, Dst netip.Addr
	// Proto is the IPv4 protocol or the IPv6 next header (extension headers
	// are not walked).
	Proto uint8
	// SrcPort and DstPort are read for TCP, UDP, UDP-Lite, SCTP and DCCP
	// (and are zero for other protocols and IPv4 non-first fragments).
	SrcPort, DstPort uint16
	// Payload is what follows the transport header for TCP and UDP, and what
	// follows the IP header otherwise.
	Payload []byte
	// At is when the packet was read.
	At time.Time
}

// Capture records the IPv4 and IPv6 packets arriving on one interface of a
// namespace, as the interface receives them, before that namespace's
// netfilter hooks: on an instance's interface it shows what the host
// forwarded. Outgoing packets are not recorded.
type Capture struct {
	fd   int
	mu   sync.Mutex
	pkts []Captured
	cond *sync.Cond
	stop chan struct{}
	done chan struct{}
	once sync.Once
}

// NewCapture starts capturing on ifName in ns and stops when the test ends.
func NewCapture(t testing.TB, ns NS, ifName string) *Capture {
	t.Helper()
	c, err := startCapture(ns, ifName)
	if err != nil {
		t.Fatalf("netnstest: %v", err)
	}
	t.Cleanup(c.Close)
	return c
}

func startCapture(ns NS, ifName string) (*Capture, error) {
	const ethPAll = 0x0003
	proto := int(htons(ethPAll))
	fd := -1
	err := Do(ns, func() error {
		ifi, err := net.InterfaceByName(ifName)
		if err != nil {
			return err
		}
		fd, err = unix.Socket(unix.AF_PACKET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, proto)
		if err != nil {
			return fmt.Errorf("packet socket: %w", err)
		}
		if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &unix.Timeval{Usec: 50000}); err != nil {
			return err
		}
		_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, 4<<20)
		return unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: uint16(proto), Ifindex: ifi.Index})
	})
	if err != nil {
		if fd >= 0 {
			unix.Close(fd)
		}
		return nil, fmt.Errorf("capture on %s in %s: %w", ifName, ns, err)
	}
	c := &Capture{fd: fd, stop: make(chan struct{}), done: make(chan struct{})}
	c.cond = sync.NewCond(&c.mu)
	go c.run()
	return c, nil
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

func (c *Capture) run() {
	defer close(c.done)
	buf := make([]byte, 65536)
	for {
		select {
		case <-c.stop:
			return
		default:
		}
		n, from, err := unix.Recvfrom(c.fd, buf, 0)
		if err != nil {
			if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR) {
				continue
			}
			return
		}
		if ll, ok := from.(*unix.SockaddrLinklayer); ok && ll.Pkttype == unix.PACKET_OUTGOING {
			continue
		}
		p, ok := parseIP(buf[:n])
		if !ok {
			continue
		}
		p.At = time.Now()
		c.mu.Lock()
		c.pkts = append(c.pkts, p)
		c.cond.Broadcast()
		c.mu.Unlock()
	}
}

// parseIP reads the addresses, protocol and ports of an IP packet.
func parseIP(b []byte) (Captured, bool) {
	if len(b) < 1 {
		return Captured{}, false
	}
	var p Captured
	var l4 []byte
	firstFragment := true
	switch b[0] >> 4 {
	case 4:
		if len(b) < 20 {
			return Captured{}, false
		}
		ihl := int(b[0]&0x0f) * 4
		if ihl < 20 || len(b) < ihl {
			return Captured{}, false
		}
		p.Src = netip.AddrFrom4([4]byte(b[12:16]))
		p.Dst = netip.AddrFrom4([4]byte(b[16:20]))
		p.Proto = b[9]
		firstFragment = binary.BigEndian.Uint16(b[6:])&0x1fff == 0
		l4 = b[ihl:]
		if total := int(binary.BigEndian.Uint16(b[2:])); total >= ihl && total <= len(b) {
			l4 = b[ihl:total]
		}
	case 6:
		if len(b) < 40 {
			return Captured{}, false
		}
		p.Src = netip.AddrFrom16([16]byte(b[8:24]))
		p.Dst = netip.AddrFrom16([16]byte(b[24:40]))
		p.Proto = b[6]
		l4 = b[40:]
		if plen := int(binary.BigEndian.Uint16(b[4:])); plen <= len(l4) {
			l4 = l4[:plen]
		}
	default:
		return Captured{}, false
	}
	p.Payload = l4
	if !firstFragment {
		p.Payload = append([]byte(nil), l4...)
		return p, true
	}
	switch p.Proto {
	case ProtoTCP, ProtoUDP, ProtoUDPLite, ProtoSCTP, ProtoDCCP:
		if len(l4) >= 4 {
			p.SrcPort = binary.BigEndian.Uint16(l4[0:])
			p.DstPort = binary.BigEndian.Uint16(l4[2:])
		}
	}
	switch p.Proto {
	case ProtoTCP:
		if len(l4) >= 20 {
			if off := int(l4[12]>>4) * 4; off >= 20 && off <= len(l4) {
				p.Payload = l4[off:]
			}
		}
	case ProtoUDP:
		if len(l4) >= 8 {
			p.Payload = l4[8:]
		}
	}
	p.Payload = append([]byte(nil), p.Payload...)
	return p, true
}

// Packets returns every packet captured so far.
func (c *Capture) Packets() []Captured {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Captured(nil), c.pkts...)
}

// Count returns how many captured packets match.
func (c *Capture) Count(match func(Captured) bool) int {
	n := 0
	for _, p := range c.Packets() {
		if match(p) {
			n++
		}
	}
	return n
}

// WaitFor waits until n captured packets match, or timeout passes, and
// returns how many matched.
func (c *Capture) WaitFor(n int, timeout time.Duration, match func(Captured) bool) int {
	deadline := time.Now().Add(timeout)
	timer := time.AfterFunc(timeout, func() {
		c.mu.Lock()
		c.cond.Broadcast()
		c.mu.Unlock()
	})
	defer timer.Stop()
	c.mu.Lock()
	defer c.mu.Unlock()
	for {
		got := 0
		for _, p := range c.pkts {
			if match(p) {
				got++
			}
		}
		if got >= n || !time.Now().Before(deadline) {
			return got
		}
		c.cond.Wait()
	}
}

// Close stops the capture; it is safe to call more than once.
func (c *Capture) Close() {
	c.once.Do(func() {
		close(c.stop)
		<-c.done
		unix.Close(c.fd)
	})
}
