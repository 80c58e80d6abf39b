package netnstest

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"
)

// ICMP message types the probes use.
const (
	icmp4EchoReply   = 0
	icmp4Unreachable = 3
	icmp4Echo        = 8
	icmp6Unreachable = 1
	icmp6Echo        = 128
	icmp6EchoReply   = 129
)

// Ping sends one ICMP (IPv4) or ICMPv6 (IPv6) echo request from ns to addr
// through a raw socket and waits for the matching reply: Reached, Unreachable
// when a destination unreachable quoting the request comes back, or TimedOut.
func Ping(ns NS, addr netip.Addr, timeout time.Duration) (Result, error) {
	return PingFrom(ns, netip.Addr{}, addr, timeout)
}

// PingFrom is Ping from a chosen local address.
func PingFrom(ns NS, src, addr netip.Addr, timeout time.Duration) (Result, error) {
	if err := checkTimeout(timeout); err != nil {
		return ResultInvalid, err
	}
	if !addr.IsValid() {
		return ResultInvalid, errors.New("ping: invalid destination")
	}
	addr = addr.Unmap()
	v6 := addr.Is6()
	network, local := "ip4:icmp", "0.0.0.0"
	if v6 {
		network, local = "ip6:ipv6-icmp", "::"
	}
	if src.IsValid() {
		if src.Unmap().Is6() != v6 {
			return ResultInvalid, fmt.Errorf("ping %s from %s: address families differ", addr, src)
		}
		local = src.Unmap().String()
	}
	var conn net.PacketConn
	err := Do(ns, func() error {
		c, err := net.ListenPacket(network, local)
		conn = c
		return err
	})
	if err != nil {
		return ResultInvalid, fmt.Errorf("ping socket in %s: %w", ns, err)
	}
	defer conn.Close()

	var idb [2]byte
	if _, err := rand.Read(idb[:]); err != nil {
		return ResultInvalid, fmt.Errorf("ping id: %w", err)
	}
	id := binary.BigEndian.Uint16(idb[:])
	const seq = 1
	msg := make([]byte, 8+32)
	msg[0] = icmp4Echo
	if v6 {
		msg[0] = icmp6Echo
	}
	binary.BigEndian.PutUint16(msg[4:], id)
	binary.BigEndian.PutUint16(msg[6:], seq)
	copy(msg[8:], "palisade netnstest ping payload.")
	if !v6 {
		// The kernel computes ICMPv6 checksums of raw sockets, not ICMPv4's.
		binary.BigEndian.PutUint16(msg[2:], checksum(msg, 0))
	}
	if err := conn.SetDeadline(time.Now().Add(timeout)); err != nil {
		return ResultInvalid, fmt.Errorf("set deadline: %w", err)
	}
	if _, err := conn.WriteTo(msg, &net.IPAddr{IP: addr.AsSlice()}); err != nil {
		res, cerr := classify(err)
		if cerr != nil {
			return ResultInvalid, fmt.Errorf("ping %s from %s: %w", addr, ns, cerr)
		}
		return res, nil
	}
	buf := make([]byte, 1500)
	for {
		n, from, err := conn.ReadFrom(buf)
		if err != nil {
			res, cerr := classify(err)
			if cerr != nil {
				return ResultInvalid, fmt.Errorf("ping %s from %s: %w", addr, ns, cerr)
			}
			return res, nil
		}
		if res, ok := matchICMP(buf[:n], from, addr, v6, id, seq); ok {
			return res, nil
		}
	}
}

// matchICMP reports whether an ICMP message (without IP header) answers the
// echo request (id, seq) sent to dst: its reply or an unreachable quoting it.
func matchICMP(m []byte, from net.Addr, dst netip.Addr, v6 bool, id, seq uint16) (Result, bool) {
	if len(m) < 8 {
		return ResultInvalid, false
	}
	echoReply, unreach, echo := byte(icmp4EchoReply), byte(icmp4Unreachable), byte(icmp4Echo)
	if v6 {
		echoReply, unreach, echo = icmp6EchoReply, icmp6Unreachable, icmp6Echo
	}
	switch m[0] {
	case echoReply:
		ip, ok := from.(*net.IPAddr)
		if !ok {
			return ResultInvalid, false
		}
		a, ok := netip.AddrFromSlice(ip.IP)
		if !ok || a.Unmap() != dst {
			return ResultInvalid, false
		}
		if binary.BigEndian.Uint16(m[4:]) == id && binary.BigEndian.Uint16(m[6:]) == seq {
			return Reached, true
		}
	case unreach:
		inner := m[8:]
		var l4 []byte
		if v6 {
			if len(inner) < 40+8 || inner[0]>>4 != 6 || inner[6] != 58 {
				return ResultInvalid, false
			}
			if d, _ := netip.AddrFromSlice(inner[24:40]); d != dst {
				return ResultInvalid, false
			}
			l4 = inner[40:]
		} else {
			if len(inner) < 20 || inner[0]>>4 != 4 || inner[9] != 1 {
				return ResultInvalid, false
			}
			ihl := int(inner[0]&0x0f) * 4
			if len(inner) < ihl+8 {
				return ResultInvalid, false
			}
			if d, _ := netip.AddrFromSlice(inner[16:20]); d != dst {
				return ResultInvalid, false
			}
			l4 = inner[ihl:]
		}
		if l4[0] == echo && binary.BigEndian.Uint16(l4[4:]) == id && binary.BigEndian.Uint16(l4[6:]) == seq {
			return Unreachable, true
		}
	}
	return ResultInvalid, false
}

// checksum returns the Internet checksum of b added to the partial sum
// initial (a pseudo-header's, or 0).
func checksum(b []byte, initial uint32) uint16 {
	sum := initial
	for len(b) >= 2 {
		sum += uint32(binary.BigEndian.Uint16(b))
		b = b[2:]
	}
	if len(b) == 1 {
		sum += uint32(b[0]) << 8
	}
	for sum>>16 != 0 {
		sum = sum&0xffff + sum>>16
	}
	return ^uint16(sum)
}
