package netnstest

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"sync"

	"golang.org/x/sys/unix"
)

// IP protocol numbers the packet builder knows the header of.
const (
	ProtoICMP    uint8 = 1
	ProtoTCP     uint8 = 6
	ProtoUDP     uint8 = 17
	ProtoDCCP    uint8 = 33
	ProtoGRE     uint8 = 47
	ProtoICMPv6  uint8 = 58
	ProtoSCTP    uint8 = 132
	ProtoUDPLite uint8 = 136
)

// TCP flags for Packet.TCPFlags.
const (
	TCPFin uint8 = 0x01
	TCPSyn uint8 = 0x02
	TCPRst uint8 = 0x04
	TCPPsh uint8 = 0x08
	TCPAck uint8 = 0x10
)

// Packet describes one IPv4 or IPv6 packet to inject. The addresses decide
// the family; nothing checks that Src belongs to anybody.
type Packet struct {
	Src, Dst netip.Addr
	// Proto is the IP protocol number (next header for IPv6).
	Proto uint8
	// SrcPort and DstPort fill the first four bytes of the transport header
	// of TCP, UDP, UDP-Lite, SCTP and DCCP.
	SrcPort, DstPort uint16
	// TCPFlags are the TCP header's flags; zero means SYN.
	TCPFlags uint8
	// ICMPType and ICMPCode are used for ICMP and ICMPv6; a zero type with a
	// zero code means an echo request (8 for ICMP, 128 for ICMPv6).
	ICMPType, ICMPCode uint8
	// Payload follows the transport header; for protocols the builder has no
	// header for (GRE included, whose 4-byte base header is added), it is the
	// whole of what follows the IP header after that.
	Payload []byte
	// TTL is the IPv4 TTL or IPv6 hop limit; zero means 64.
	TTL uint8
}

// Marshal returns the packet's bytes, starting with the IP header, with
// every length and checksum filled in.
func (p Packet) Marshal() ([]byte, error) {
	src, dst := p.Src.Unmap(), p.Dst.Unmap()
	if !src.IsValid() || !dst.IsValid() {
		return nil, errors.New("packet: source and destination are required")
	}
	if src.Is4() != dst.Is4() {
		return nil, fmt.Errorf("packet %s -> %s: address families differ", src, dst)
	}
	v6 := dst.Is6()
	if v6 && p.Proto == ProtoICMP || !v6 && p.Proto == ProtoICMPv6 {
		return nil, fmt.Errorf("packet %s -> %s: protocol %d belongs to the other family", src, dst, p.Proto)
	}
	l4 := p.transport(v6)
	ttl := p.TTL
	if ttl == 0 {
		ttl = 64
	}
	var hdr []byte
	if v6 {
		if len(l4) > 0xffff {
			return nil, fmt.Errorf("packet: payload of %d bytes too long", len(l4))
		}
		hdr = make([]byte, 40)
		hdr[0] = 6 << 4
		binary.BigEndian.PutUint16(hdr[4:], uint16(len(l4)))
		hdr[6] = p.Proto
		hdr[7] = ttl
		s, d := src.As16(), dst.As16()
		copy(hdr[8:], s[:])
		copy(hdr[24:], d[:])
	} else {
		if 20+len(l4) > 0xffff {
			return nil, fmt.Errorf("packet: payload of %d bytes too long", len(l4))
		}
		hdr = make([]byte, 20)
		hdr[0] = 4<<4 | 5
		binary.BigEndian.PutUint16(hdr[2:], uint16(20+len(l4)))
		binary.BigEndian.PutUint16(hdr[6:], 0x4000) // don't fragment
		hdr[8] = ttl
		hdr[9] = p.Proto
		s, d := src.As4(), dst.As4()
		copy(hdr[12:], s[:])
		copy(hdr[16:], d[:])
		binary.BigEndian.PutUint16(hdr[10:], checksum(hdr, 0))
	}
	p.fillChecksum(l4, src, dst)
	return append(hdr, l4...), nil
}

// transport builds the transport header and payload, checksum left zero.
func (p Packet) transport(v6 bool) []byte {
	var h []byte
	switch p.Proto {
	case ProtoTCP:
		h = make([]byte, 20)
		binary.BigEndian.PutUint32(h[4:], 1) // sequence number
		h[12] = 5 << 4
		h[13] = p.TCPFlags
		if h[13] == 0 {
			h[13] = TCPSyn
		}
		binary.BigEndian.PutUint16(h[14:], 65535)
	case ProtoUDP, ProtoUDPLite:
		h = make([]byte, 8)
		binary.BigEndian.PutUint16(h[4:], uint16(8+len(p.Payload)))
	case ProtoSCTP:
		h = make([]byte, 12)
	case ProtoDCCP:
		h = make([]byte, 16)
		h[4] = 4 // data offset in 32-bit words
		h[8] = 0 // type request, X=0
	case ProtoICMP, ProtoICMPv6:
		h = make([]byte, 8)
		h[0], h[1] = p.ICMPType, p.ICMPCode
		if p.ICMPType == 0 && p.ICMPCode == 0 {
			h[0] = icmp4Echo
			if v6 {
				h[0] = icmp6Echo
			}
		}
		binary.BigEndian.PutUint16(h[4:], 0x5050) // identifier
		binary.BigEndian.PutUint16(h[6:], 1)      // sequence
	case ProtoGRE:
		h = make([]byte, 4)
		binary.BigEndian.PutUint16(h[2:], 0x0800) // carries IPv4
	}
	switch p.Proto {
	case ProtoTCP, ProtoUDP, ProtoUDPLite, ProtoSCTP, ProtoDCCP:
		binary.BigEndian.PutUint16(h[0:], p.SrcPort)
		binary.BigEndian.PutUint16(h[2:], p.DstPort)
	}
	return append(h, p.Payload...)
}

// fillChecksum writes the transport checksum the protocol needs.
func (p Packet) fillChecksum(l4 []byte, src, dst netip.Addr) {
	pseudo := func() uint32 {
		var sum uint32
		for _, a := range [][]byte{src.AsSlice(), dst.AsSlice()} {
			for i := 0; i < len(a); i += 2 {
				sum += uint32(binary.BigEndian.Uint16(a[i:]))
			}
		}
		return sum + uint32(p.Proto) + uint32(len(l4))
	}
	switch p.Proto {
	case ProtoTCP:
		binary.BigEndian.PutUint16(l4[16:], checksum(l4, pseudo()))
	case ProtoUDP, ProtoUDPLite:
		c := checksum(l4, pseudo())
		if c == 0 {
			c = 0xffff
		}
		binary.BigEndian.PutUint16(l4[6:], c)
	case ProtoDCCP:
		binary.BigEndian.PutUint16(l4[6:], checksum(l4, pseudo()))
	case ProtoICMP:
		binary.BigEndian.PutUint16(l4[2:], checksum(l4, 0))
	case ProtoICMPv6:
		binary.BigEndian.PutUint16(l4[2:], checksum(l4, pseudo()))
	}
	// SCTP's CRC32c is left zero: routers and nftables do not check it.
}

// Injector sends whole IP packets from a namespace through raw sockets that
// carry the caller's IP header (IPPROTO_RAW: IP_HDRINCL for IPv4,
// IPV6_HDRINCL for IPv6), so the source address, protocol and ports are
// arbitrary. The packets leave by the namespace's routing table, as its own
// packets would; from an instance or the internet namespace that is towards
// the host. The host's rp_filter is off, so it forwards them whatever their
// source, except sources the kernel never forwards (checked here): IPv4
// 127.0.0.0/8, multicast, 255.255.255.255 and the host's own addresses,
// IPv6 loopback, multicast and link-local.
type Injector struct {
	ns     NS
	mu     sync.Mutex
	fd4    int
	fd6    int
	closed bool
}

// NewInjector opens the raw sockets in ns.
func NewInjector(ns NS) (*Injector, error) {
	in := &Injector{ns: ns, fd4: -1, fd6: -1}
	err := Do(ns, func() error {
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.IPPROTO_RAW)
		if err != nil {
			return fmt.Errorf("raw ipv4 socket: %w", err)
		}
		in.fd4 = fd
		fd, err = unix.Socket(unix.AF_INET6, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.IPPROTO_RAW)
		if err != nil {
			return fmt.Errorf("raw ipv6 socket: %w", err)
		}
		in.fd6 = fd
		// IPPROTO_RAW implies the header is the caller's; say so anyway.
		if err := unix.SetsockoptInt(in.fd6, unix.IPPROTO_IPV6, unix.IPV6_HDRINCL, 1); err != nil {
			return fmt.Errorf("set IPV6_HDRINCL: %w", err)
		}
		return nil
	})
	if err != nil {
		in.Close()
		return nil, fmt.Errorf("injector in %s: %w", ns, err)
	}
	return in, nil
}

// Send marshals p and sends it, fire and forget.
func (in *Injector) Send(p Packet) error {
	b, err := p.Marshal()
	if err != nil {
		return err
	}
	return in.SendRaw(b)
}

// SendRaw sends b, which must start with an IPv4 or IPv6 header; the
// destination is read from it.
func (in *Injector) SendRaw(b []byte) error {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.closed {
		return errors.New("injector closed")
	}
	if len(b) < 1 {
		return errors.New("inject: empty packet")
	}
	var err error
	switch b[0] >> 4 {
	case 4:
		if len(b) < 20 {
			return errors.New("inject: short ipv4 header")
		}
		sa := &unix.SockaddrInet4{}
		copy(sa.Addr[:], b[16:20])
		err = unix.Sendto(in.fd4, b, 0, sa)
	case 6:
		if len(b) < 40 {
			return errors.New("inject: short ipv6 header")
		}
		sa := &unix.SockaddrInet6{}
		copy(sa.Addr[:], b[24:40])
		err = unix.Sendto(in.fd6, b, 0, sa)
	default:
		return fmt.Errorf("inject: ip version %d", b[0]>>4)
	}
	if err != nil {
		return fmt.Errorf("inject %d bytes from %s: %w", len(b), in.ns, err)
	}
	return nil
}

// Close closes the sockets.
func (in *Injector) Close() error {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.closed = true
	var errs []error
	for _, fd := range []*int{&in.fd4, &in.fd6} {
		if *fd >= 0 {
			if err := unix.Close(*fd); err != nil {
				errs = append(errs, err)
			}
			*fd = -1
		}
	}
	return errors.Join(errs...)
}

// Inject sends one packet from ns with a fresh Injector.
func Inject(ns NS, p Packet) error {
	in, err := NewInjector(ns)
	if err != nil {
		return err
	}
	defer in.Close()
	return in.Send(p)
}
