package netnstest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// NoTrackTable is an nftables table that exempts every packet the host
// receives from connection tracking (`notrack` at the raw priority of
// prerouting); `ct state` of such packets is "untracked". The measured flow
// needs no such help to be classified packet by packet: it is one-way, so
// conntrack keeps it in state new and `ct state established accept` never
// waves it through. Load NoTrackTable beside the ruleset under test to leave
// conntrack's own per-packet cost out of a measurement, or when the receiver
// namespace answers the flow. A ruleset loaded with `flush ruleset` removes
// it.
const NoTrackTable = `table inet netnstest_notrack {
	chain prerouting {
		type filter hook prerouting priority raw; policy accept;
		notrack
	}
}
`

// RateTool selects what sends and counts the packets of a rate measurement.
type RateTool uint8

const (
	// RateGo sends from sockets the test process opens in the sender
	// namespace, one blocking write per packet round-robin over Flows source
	// ports, and counts at a socket in the receiver namespace over a window
	// that starts after a warm-up. It keeps at most 256 packets in flight
	// (sent, not yet received), so a slow ruleset does not flood the
	// kernel's shared input backlog. It needs no external tool.
	RateGo RateTool = iota + 1
	// RateIperf3 runs `iperf3 -u -l SIZE -b 0` between the namespaces and
	// counts the packets the server received over the whole run. Its TCP
	// control connection must pass the ruleset too.
	RateIperf3
)

// String returns the tool's name.
func (t RateTool) String() string {
	switch t {
	case RateGo:
		return "go"
	case RateIperf3:
		return "iperf3"
	default:
		return fmt.Sprintf("RateTool(%d)", uint8(t))
	}
}

// RateOptions describes one packet-rate measurement: small UDP datagrams
// from one namespace to another through the host's forward path.
type RateOptions struct {
	// From sends, To receives at Dst (an address of To reached through the
	// host, for example an instance address).
	From, To NS
	Dst      netip.Addr
	// Src is the sender's source address; zero lets the kernel choose.
	Src netip.Addr
	// Port is the destination UDP port (5201 when zero).
	Port uint16
	// PayloadSize is the UDP payload size (64 when zero).
	PayloadSize int
	// Duration is the measured window (1s when zero; iperf3 rounds it up to
	// whole seconds).
	Duration time.Duration
	// Warmup runs before the window opens (200ms when zero; RateGo only).
	Warmup time.Duration
	// Flows is the number of distinct source ports the Go sender rotates
	// over (1 when zero, at most 1024), to spread the flow over conntrack
	// entries and set elements. Nothing answers the flow, so conntrack keeps
	// it in state new and every packet goes through the rules; see
	// NoTrackTable.
	Flows int
	// Senders is the number of sending threads of the Go sender (1 when
	// zero, at most Flows); each rotates over its share of the flows.
	Senders int
	// Tool is RateGo when zero.
	Tool RateTool
}

func (o RateOptions) withDefaults() (RateOptions, error) {
	if o.Port == 0 {
		o.Port = 5201
	}
	if o.PayloadSize == 0 {
		o.PayloadSize = 64
	}
	if o.Duration == 0 {
		o.Duration = time.Second
	}
	if o.Warmup == 0 {
		o.Warmup = 200 * time.Millisecond
	}
	if o.Flows == 0 {
		o.Flows = 1
	}
	if o.Tool == 0 {
		o.Tool = RateGo
	}
	if o.Senders == 0 {
		o.Senders = 1
	}
	var problems []error
	if err := o.From.validate(); err != nil {
		problems = append(problems, fmt.Errorf("from: %w", err))
	}
	if err := o.To.validate(); err != nil {
		problems = append(problems, fmt.Errorf("to: %w", err))
	}
	if !o.Dst.IsValid() {
		problems = append(problems, errors.New("no destination address"))
	}
	if o.Src.IsValid() && o.Src.Unmap().Is4() != o.Dst.Unmap().Is4() {
		problems = append(problems, fmt.Errorf("source %s and destination %s differ in family", o.Src, o.Dst))
	}
	if o.PayloadSize < 1 || o.PayloadSize > 1400 {
		problems = append(problems, fmt.Errorf("payload size %d: want 1 to 1400", o.PayloadSize))
	}
	if o.Duration < 0 || o.Warmup < 0 {
		problems = append(problems, errors.New("negative duration"))
	}
	if o.Flows < 1 || o.Flows > 1024 {
		problems = append(problems, fmt.Errorf("flows %d: want 1 to 1024", o.Flows))
	}
	if o.Senders < 1 || o.Senders > o.Flows {
		problems = append(problems, fmt.Errorf("senders %d: want 1 to flows (%d)", o.Senders, o.Flows))
	}
	if o.Tool != RateGo && o.Tool != RateIperf3 {
		problems = append(problems, fmt.Errorf("unknown tool %v", o.Tool))
	}
	if err := errors.Join(problems...); err != nil {
		return o, fmt.Errorf("rate options: %w", err)
	}
	return o, nil
}

// Rate is the outcome of one measurement.
type Rate struct {
	// Sent is the number of datagrams the sender handed to the kernel during
	// the window; Received the number the receiver read in it. Received can
	// exceed Sent by the packets in flight when the window opened.
	Sent, Received uint64
	// Elapsed is the window's measured length.
	Elapsed time.Duration
}

// PPS returns the received packets per second.
func (r Rate) PPS() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Received) / r.Elapsed.Seconds()
}

// String formats the rate.
func (r Rate) String() string {
	return fmt.Sprintf("%.0f pps (%d of %d received in %v)", r.PPS(), r.Received, r.Sent, r.Elapsed.Round(time.Millisecond))
}

// MeasureRate measures the rate at which datagrams are received at o.To.
// The ruleset in force decides what is measured; MeasureRate changes none.
// Measurements of all test processes on the machine take turns (a lock file
// in /run), since concurrent floods would measure each other.
func MeasureRate(o RateOptions) (Rate, error) {
	o, err := o.withDefaults()
	if err != nil {
		return Rate{}, err
	}
	unlock, err := lockRate()
	if err != nil {
		return Rate{}, err
	}
	defer unlock()
	if o.Tool == RateIperf3 {
		return measureIperf3(o)
	}
	return measureGo(o)
}

func sockaddr(a netip.Addr, port uint16) unix.Sockaddr {
	a = a.Unmap()
	if a.Is4() {
		return &unix.SockaddrInet4{Addr: a.As4(), Port: int(port)}
	}
	return &unix.SockaddrInet6{Addr: a.As16(), Port: int(port)}
}

func udpSocket(a netip.Addr) (int, error) {
	fam := unix.AF_INET6
	if a.Unmap().Is4() {
		fam = unix.AF_INET
	}
	return unix.Socket(fam, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, unix.IPPROTO_UDP)
}

// maxInFlight bounds the Go sender's packets sent but not yet received.
// Without a bound a ruleset slower than the sender fills the kernel's per-CPU
// input backlog, which every namespace shares: the flood would then drop
// the packets of other tests running at the same time, ARP and neighbour
// discovery included, and the measurement's own first packets. The bound is
// far above what a path needs to run at full rate.
const maxInFlight = 256

// stallTimeout is how long the Go sender first waits, with a full window
// and no packet received, before it takes the window's packets for dropped;
// the wait doubles, up to maxStallTimeout, while nothing arrives.
const (
	stallTimeout    = 2 * time.Millisecond
	maxStallTimeout = 128 * time.Millisecond
)

// rateLockPath is the file MeasureRate locks so that measurements of every
// test process on the machine run one at a time: two floods at once would
// measure each other.
const rateLockPath = "/run/palisade-netnstest-rate.lock"

// lockRate takes the machine-wide measurement lock; unlock releases it.
func lockRate() (unlock func(), err error) {
	return flockRate(unix.LOCK_EX)
}

func flockRate(how int) (unlock func(), err error) {
	fd, err := unix.Open(rateLockPath, unix.O_RDWR|unix.O_CREAT|unix.O_CLOEXEC, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open rate lock: %w", err)
	}
	if err := unix.Flock(fd, how); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("lock %s: %w", rateLockPath, err)
	}
	return func() { unix.Close(fd) }, nil
}

// Quiet keeps packet-rate measurements of every test process on the
// machine from running until the test ends: their floods fill the
// kernel's per-CPU input queue, which every namespace shares, and would
// make a latency-sensitive test's packets (its HTTP over loopback
// included) time out. Tests holding Quiet run alongside each other.
func Quiet(t testing.TB) {
	t.Helper()
	unlock, err := flockRate(unix.LOCK_SH)
	if err != nil {
		t.Fatalf("netnstest: %v", err)
	}
	t.Cleanup(unlock)
}

func measureGo(o RateOptions) (Rate, error) {
	rx := -1
	err := Do(o.To, func() error {
		fd, err := udpSocket(o.Dst)
		if err != nil {
			return err
		}
		rx = fd
		// Best effort: a bigger buffer only smooths bursts.
		_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, 4<<20)
		if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &unix.Timeval{Usec: 50000}); err != nil {
			return err
		}
		return unix.Bind(fd, sockaddr(o.Dst, o.Port))
	})
	if err != nil {
		if rx >= 0 {
			unix.Close(rx)
		}
		return Rate{}, fmt.Errorf("rate receiver on %s port %d in %s: %w", o.Dst, o.Port, o.To, err)
	}
	defer unix.Close(rx)

	tx := make([]int, 0, o.Flows)
	defer func() {
		for _, fd := range tx {
			unix.Close(fd)
		}
	}()
	err = Do(o.From, func() error {
		for range o.Flows {
			fd, err := udpSocket(o.Dst)
			if err != nil {
				return err
			}
			tx = append(tx, fd)
			if o.Src.IsValid() {
				if err := unix.Bind(fd, sockaddr(o.Src, 0)); err != nil {
					return err
				}
			}
			if err := unix.Connect(fd, sockaddr(o.Dst, o.Port)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return Rate{}, fmt.Errorf("rate sender to %s in %s: %w", o.Dst, o.From, err)
	}

	var received, sent atomic.Uint64
	var stop atomic.Bool
	var wg sync.WaitGroup
	wg.Add(1 + o.Senders)
	go func() {
		defer wg.Done()
		buf := make([]byte, 2048)
		for !stop.Load() {
			if n, _ := unix.Read(rx, buf); n > 0 {
				received.Add(1)
			}
		}
	}()
	// forgiven counts packets given up for lost, so that drops by the
	// ruleset do not close the in-flight window for good.
	var forgiven atomic.Int64
	inFlight := func() int64 {
		return int64(sent.Load()) - forgiven.Load() - int64(received.Load())
	}
	for k := range o.Senders {
		var mine []int
		for i := k; i < len(tx); i += o.Senders {
			mine = append(mine, tx[i])
		}
		go func() {
			defer wg.Done()
			payload := make([]byte, o.PayloadSize)
			copy(payload, "palisade netnstest rate")
			wait := stallTimeout
			for i := 0; !stop.Load(); i++ {
				if inFlight() >= maxInFlight {
					last, since := received.Load(), time.Now()
					for inFlight() >= maxInFlight && !stop.Load() {
						time.Sleep(20 * time.Microsecond)
						if r := received.Load(); r != last {
							last, since, wait = r, time.Now(), stallTimeout
						} else if time.Since(since) > wait {
							// Nothing arrives: the window's packets are
							// dropped. Back off before the next window, so a
							// ruleset that drops the flow is not flooded.
							forgiven.Store(int64(sent.Load()) - int64(r))
							wait = min(2*wait, maxStallTimeout)
						}
					}
				}
				// Errors (ENOBUFS, ECONNREFUSED from an earlier ICMP error)
				// are what a flooded or filtered path does; keep sending.
				if _, err := unix.Write(mine[i%len(mine)], payload); err == nil {
					sent.Add(1)
				}
			}
		}()
	}
	time.Sleep(o.Warmup)
	r0, s0, t0 := received.Load(), sent.Load(), time.Now()
	time.Sleep(o.Duration)
	r1, s1, t1 := received.Load(), sent.Load(), time.Now()
	stop.Store(true)
	wg.Wait()
	return Rate{Sent: s1 - s0, Received: r1 - r0, Elapsed: t1.Sub(t0)}, nil
}

func measureIperf3(o RateOptions) (Rate, error) {
	if _, err := exec.LookPath("iperf3"); err != nil {
		return Rate{}, fmt.Errorf("rate with iperf3: %w", err)
	}
	secs := int((o.Duration + time.Second - 1) / time.Second)
	port := strconv.Itoa(int(o.Port))
	dst := o.Dst.Unmap().String()
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(secs+20)*time.Second)
	defer cancel()
	srv := exec.CommandContext(ctx, "ip", "netns", "exec", string(o.To), "iperf3", "-s", "-1", "-B", dst, "-p", port)
	if err := srv.Start(); err != nil {
		return Rate{}, fmt.Errorf("start iperf3 server in %s: %w", o.To, err)
	}
	defer func() {
		_ = srv.Process.Kill()
		_ = srv.Wait()
	}()
	args := []string{"netns", "exec", string(o.From), "iperf3", "-c", dst, "-p", port, "-u",
		"-l", strconv.Itoa(o.PayloadSize), "-b", "0", "-t", strconv.Itoa(secs), "-J", "--connect-timeout", "1000"}
	if o.Src.IsValid() {
		args = append(args, "-B", o.Src.Unmap().String())
	}
	var out []byte
	var err error
	// Until the server listens, the client is refused at once; retry.
	var res iperfResult
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		out, err = exec.CommandContext(ctx, "ip", args...).Output()
		res = iperfResult{}
		if jerr := json.Unmarshal(out, &res); jerr != nil && err == nil {
			err = fmt.Errorf("iperf3 output: %w", jerr)
		}
		refused := strings.Contains(res.Error, "refused")
		if err == nil && !refused || time.Now().After(deadline) {
			break
		}
	}
	if err != nil {
		return Rate{}, fmt.Errorf("iperf3 client in %s: %w: %s", o.From, err, out)
	}
	if res.Error != "" {
		return Rate{}, fmt.Errorf("iperf3: %s", res.Error)
	}
	s := res.End.Sum
	if s.Packets == nil || s.LostPackets == nil || s.Seconds <= 0 || *s.LostPackets > *s.Packets {
		return Rate{}, fmt.Errorf("iperf3 output has no usable end.sum: %s", out)
	}
	return Rate{
		Sent:     *s.Packets,
		Received: *s.Packets - *s.LostPackets,
		Elapsed:  time.Duration(s.Seconds * float64(time.Second)),
	}, nil
}

// iperfResult is the part of `iperf3 -J` output MeasureRate reads.
type iperfResult struct {
	End struct {
		Sum struct {
			Seconds     float64 `json:"seconds"`
			Packets     *uint64 `json:"packets"`
			LostPackets *uint64 `json:"lost_packets"`
		} `json:"sum"`
	} `json:"end"`
	Error string `json:"error"`
}

// RateCase is one configuration of a side-by-side comparison.
type RateCase struct {
	Name string
	// Apply puts the case's ruleset in force; it runs before each of the
	// case's rounds.
	Apply func() error
}

// RateSummary is every round of one case.
type RateSummary struct {
	Name   string
	Rounds []Rate
}

// Best returns the highest rate of the rounds, in packets per second.
func (s RateSummary) Best() float64 {
	best := 0.0
	for _, r := range s.Rounds {
		best = max(best, r.PPS())
	}
	return best
}

// Median returns the median rate of the rounds, in packets per second.
func (s RateSummary) Median() float64 {
	if len(s.Rounds) == 0 {
		return 0
	}
	pps := make([]float64, len(s.Rounds))
	for i, r := range s.Rounds {
		pps[i] = r.PPS()
	}
	slices.Sort(pps)
	if n := len(pps); n%2 == 0 {
		return (pps[n/2-1] + pps[n/2]) / 2
	}
	return pps[len(pps)/2]
}

// String formats the summary.
func (s RateSummary) String() string {
	return fmt.Sprintf("%s: median %.0f pps, best %.0f pps over %d rounds", s.Name, s.Median(), s.Best(), len(s.Rounds))
}

// CompareRates measures every case for the given number of rounds,
// alternating between cases (in order on even rounds, in reverse on odd ones,
// so that a drift in the machine's load touches every case alike) and
// applying each case's ruleset before each of its rounds.
func CompareRates(o RateOptions, rounds int, cases ...RateCase) ([]RateSummary, error) {
	if rounds < 1 {
		return nil, fmt.Errorf("compare rates: %d rounds", rounds)
	}
	if len(cases) == 0 {
		return nil, errors.New("compare rates: no cases")
	}
	out := make([]RateSummary, len(cases))
	for i, c := range cases {
		if c.Apply == nil {
			return nil, fmt.Errorf("compare rates: case %q has no Apply", c.Name)
		}
		out[i].Name = c.Name
	}
	for r := range rounds {
		for k := range cases {
			i := k
			if r%2 == 1 {
				i = len(cases) - 1 - k
			}
			if err := cases[i].Apply(); err != nil {
				return nil, fmt.Errorf("compare rates: apply %q: %w", cases[i].Name, err)
			}
			rate, err := MeasureRate(o)
			if err != nil {
				return nil, fmt.Errorf("compare rates: %q round %d: %w", cases[i].Name, r+1, err)
			}
			out[i].Rounds = append(out[i].Rounds, rate)
		}
	}
	return out, nil
}
