package netnstest

import (
	"bytes"
	"testing"
	"time"
)

func TestCaptureShowsWhatTheHostForwarded(t *testing.T) {
	t.Parallel()
	tp := newTopology(t)
	i1, i2 := tp.Instance(1), tp.Instance(2)
	if err := LoadNft(tp.Host, "table inet t { chain forward { type filter hook forward priority filter; udp dport 1002 drop; }; }"); err != nil {
		t.Fatal(err)
	}
	capt := NewCapture(t, i2.NS, i2.InstanceIf)
	in, err := NewInjector(i1.NS)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	sent := []Packet{
		{Src: addr("198.51.100.1"), Dst: i2.Addr4, Proto: ProtoUDP, SrcPort: 7, DstPort: 1001, Payload: []byte("one")},
		{Src: addr("198.51.100.2"), Dst: i2.Addr4, Proto: ProtoUDP, SrcPort: 7, DstPort: 1002, Payload: []byte("two")},
		{Src: addr("198.51.100.3"), Dst: i2.Addr4, Proto: ProtoTCP, SrcPort: 7, DstPort: 1003},
		{Src: addr("2001:db8:f::4"), Dst: i2.Addr6, Proto: ProtoUDP, SrcPort: 7, DstPort: 1004, Payload: []byte("four")},
		{Src: addr("2001:db8:f::5"), Dst: i2.Addr6, Proto: ProtoGRE, Payload: []byte("gre")},
	}
	for _, p := range sent {
		if err := in.Send(p); err != nil {
			t.Fatal(err)
		}
	}
	is := func(p Packet) func(Captured) bool {
		return func(c Captured) bool {
			return c.Src == p.Src && c.Dst == p.Dst && c.Proto == p.Proto && c.DstPort == p.DstPort && c.SrcPort == p.SrcPort
		}
	}
	tests := []struct {
		name    string
		p       Packet
		want    int
		payload string
	}{
		{"v4 udp passes", sent[0], 1, "one"},
		{"v4 udp dropped by the host", sent[1], 0, ""},
		{"v4 tcp passes", sent[2], 1, ""},
		{"v6 udp passes", sent[3], 1, "four"},
		{"v6 gre passes", sent[4], 1, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wait := time.Second
			if tc.want == 0 {
				wait = 200 * time.Millisecond
			}
			if got := capt.WaitFor(1, wait, is(tc.p)); got != tc.want {
				t.Errorf("captured %d packets %v -> %v port %d, want %d", got, tc.p.Src, tc.p.Dst, tc.p.DstPort, tc.want)
			}
			if tc.payload == "" {
				return
			}
			for _, c := range capt.Packets() {
				if is(tc.p)(c) && !bytes.Equal(c.Payload, []byte(tc.payload)) {
					t.Errorf("payload %q, want %q", c.Payload, tc.payload)
				}
			}
		})
	}
	// Packets the instance itself sends are not recorded, its replies are.
	before := capt.Count(func(c Captured) bool { return c.Src == i2.Addr4 })
	if got, err := Ping(i2.NS, i1.Addr4, probeTimeout); err != nil || got != Reached {
		t.Fatalf("Ping(%v) = %v, %v; want reached", i1.Addr4, got, err)
	}
	if got := capt.Count(func(c Captured) bool { return c.Src == i2.Addr4 }); got != before {
		t.Errorf("capture recorded %d outgoing packets", got-before)
	}
	if got := capt.WaitFor(1, time.Second, func(c Captured) bool { return c.Src == i1.Addr4 && c.Proto == ProtoICMP }); got != 1 {
		t.Errorf("captured %d echo replies from instance 1, want 1", got)
	}
}

// TestCaptureManyInjectedPackets is the shape of a differential test: many
// spoofed packets in, the host's ruleset decides, the capture shows which
// ones it forwarded.
func TestCaptureManyInjectedPackets(t *testing.T) {
	t.Parallel()
	tp := newTopology(t)
	i1, i2 := tp.Instance(1), tp.Instance(2)
	if err := LoadNft(tp.Host, "table inet t { chain forward { type filter hook forward priority filter; ip saddr 198.51.100.0/25 udp dport 53 drop; ip6 saddr 2001:db8:f::/121 udp dport 53 drop; }; }"); err != nil {
		t.Fatal(err)
	}
	capt := NewCapture(t, i2.NS, i2.InstanceIf)
	in, err := NewInjector(i1.NS)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	v4, v6 := addr("198.51.100.0"), addr("2001:db8:f::")
	for range 256 {
		for _, p := range []Packet{
			{Src: v4, Dst: i2.Addr4, Proto: ProtoUDP, SrcPort: 5353, DstPort: 53},
			{Src: v6, Dst: i2.Addr6, Proto: ProtoUDP, SrcPort: 5353, DstPort: 53},
		} {
			if err := in.Send(p); err != nil {
				t.Fatal(err)
			}
		}
		v4, v6 = v4.Next(), v6.Next()
	}
	dns := func(c Captured) bool { return c.DstPort == 53 }
	if got := capt.WaitFor(256, 2*time.Second, dns); got != 256 {
		t.Fatalf("captured %d packets to port 53, want 256", got)
	}
	for _, c := range capt.Packets() {
		if !dns(c) {
			continue
		}
		last := c.Src.As16()[15]
		if c.Src.Is4() {
			last = c.Src.As4()[3]
		}
		if last < 128 {
			t.Errorf("captured %v, which the host drops", c.Src)
		}
	}
}
