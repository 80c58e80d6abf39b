package netnstest

import (
	"errors"
	"io"
	"net"
	"net/netip"
	"sync"
	"testing"
)

// peerLog records the remote addresses a server saw.
type peerLog struct {
	mu    sync.Mutex
	peers []netip.AddrPort
}

func (l *peerLog) add(ap netip.AddrPort) {
	ap = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	l.mu.Lock()
	l.peers = append(l.peers, ap)
	l.mu.Unlock()
}

func (l *peerLog) list() []netip.AddrPort {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]netip.AddrPort(nil), l.peers...)
}

// TCPEcho is a TCP server in a namespace that echoes every byte back.
type TCPEcho struct {
	ln    *net.TCPListener
	addr  netip.AddrPort
	peers peerLog
	wg    sync.WaitGroup
	mu    sync.Mutex
	conns map[*net.TCPConn]bool
	done  bool
}

// Listen starts a TCP echo server in ns on addr (port 0 picks one; an
// unspecified address listens on all) and closes it when the test ends.
func Listen(t testing.TB, ns NS, addr netip.AddrPort) *TCPEcho {
	t.Helper()
	var ln *net.TCPListener
	err := Do(ns, func() error {
		l, err := net.ListenTCP("tcp", net.TCPAddrFromAddrPort(addr))
		ln = l
		return err
	})
	if err != nil {
		t.Fatalf("netnstest: listen tcp %s in %s: %v", addr, ns, err)
	}
	s := &TCPEcho{ln: ln, addr: ln.Addr().(*net.TCPAddr).AddrPort(), conns: map[*net.TCPConn]bool{}}
	s.wg.Add(1)
	go s.serve()
	t.Cleanup(s.Close)
	return s
}

func (s *TCPEcho) serve() {
	defer s.wg.Done()
	for {
		c, err := s.ln.AcceptTCP()
		if err != nil {
			return
		}
		s.mu.Lock()
		if s.done {
			s.mu.Unlock()
			c.Close()
			return
		}
		s.conns[c] = true
		s.mu.Unlock()
		s.peers.add(c.RemoteAddr().(*net.TCPAddr).AddrPort())
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			_, _ = io.Copy(c, c)
			c.Close()
			s.mu.Lock()
			delete(s.conns, c)
			s.mu.Unlock()
		}()
	}
}

// Addr returns the address the server listens on.
func (s *TCPEcho) Addr() netip.AddrPort { return s.addr }

// Port returns the port the server listens on.
func (s *TCPEcho) Port() uint16 { return s.addr.Port() }

// Peers returns the remote address of every connection accepted so far;
// IPv4 peers of a dual-stack listener appear as IPv4 addresses.
func (s *TCPEcho) Peers() []netip.AddrPort { return s.peers.list() }

// Close stops the server and closes its connections; it is safe to call
// more than once.
func (s *TCPEcho) Close() {
	s.mu.Lock()
	s.done = true
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.ln.Close()
	s.wg.Wait()
}

// UDPEcho is a UDP server in a namespace that sends every datagram back to
// its sender.
type UDPEcho struct {
	conn  *net.UDPConn
	addr  netip.AddrPort
	peers peerLog
	wg    sync.WaitGroup
	once  sync.Once
}

// ListenPacket starts a UDP echo server in ns on addr (port 0 picks one) and
// closes it when the test ends.
func ListenPacket(t testing.TB, ns NS, addr netip.AddrPort) *UDPEcho {
	t.Helper()
	var conn *net.UDPConn
	err := Do(ns, func() error {
		c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(addr))
		conn = c
		return err
	})
	if err != nil {
		t.Fatalf("netnstest: listen udp %s in %s: %v", addr, ns, err)
	}
	s := &UDPEcho{conn: conn, addr: conn.LocalAddr().(*net.UDPAddr).AddrPort()}
	s.wg.Add(1)
	go s.serve()
	t.Cleanup(s.Close)
	return s
}

func (s *UDPEcho) serve() {
	defer s.wg.Done()
	buf := make([]byte, 65536)
	for {
		n, from, err := s.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue // an ICMP error for an earlier reply; keep serving
		}
		s.peers.add(from)
		_, _ = s.conn.WriteToUDPAddrPort(buf[:n], from)
	}
}

// Addr returns the address the server listens on.
func (s *UDPEcho) Addr() netip.AddrPort { return s.addr }

// Port returns the port the server listens on.
func (s *UDPEcho) Port() uint16 { return s.addr.Port() }

// Peers returns the source of every datagram received so far; IPv4 peers
// of a dual-stack listener appear as IPv4 addresses.
func (s *UDPEcho) Peers() []netip.AddrPort { return s.peers.list() }

// Close stops the server; it is safe to call more than once.
func (s *UDPEcho) Close() {
	s.once.Do(func() { s.conn.Close() })
	s.wg.Wait()
}
