package cli_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/palisade-sg/palisade/client"
	"github.com/palisade-sg/palisade/internal/fleet"
	"github.com/palisade-sg/palisade/internal/service"
	"github.com/palisade-sg/palisade/internal/store/backend"
	"github.com/palisade-sg/palisade/internal/store/postgres/pgtest"
	"github.com/palisade-sg/palisade/wire"
)

// replica is a `palisade serve` process of the built binary.
type replica struct {
	endpoint string
	cmd      *exec.Cmd
	exited   chan struct{}
}

// startReplica runs palisade serve over dsn until the test ends (or it is
// killed) and returns it once it serves.
func startReplica(t *testing.T, dsn, key string) *replica {
	t.Helper()
	cmd := exec.Command(binary, "serve", "--listen", "127.0.0.1:0", "--db", dsn, "--master-key-file", key)
	cmd.Env = []string{"HOME=" + t.TempDir(), "PATH=" + os.Getenv("PATH")}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r := &replica{cmd: cmd, exited: make(chan struct{})}
	go func() { cmd.Wait(); close(r.exited) }() //nolint:errcheck // a killed replica exits with an error
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt) //nolint:errcheck // it may be gone
		select {
		case <-r.exited:
		case <-time.After(15 * time.Second):
			cmd.Process.Kill() //nolint:errcheck
			<-r.exited
		}
	})
	addr := regexp.MustCompile(`Serving the API at (http://\S+) `)
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := addr.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
			}
		}
	}()
	select {
	case r.endpoint = <-found:
	case <-r.exited:
		t.Fatal("palisade serve exited before serving")
	case <-time.After(60 * time.Second):
		t.Fatal("palisade serve: no endpoint within 60 s")
	}
	return r
}

// TestTwoReplicasOverPostgres runs two palisade serve processes over one
// PostgreSQL database: versioned writes through both lose no update; agents
// following both through failover hold every write; the simulation cache of
// each replica answers the other's writes; a replica killed with SIGKILL
// while writes go on loses no acknowledged write, and the agents fail over
// to the other and hold every write.
func TestTwoReplicasOverPostgres(t *testing.T) {
	dsn := pgtest.DSN(t)
	key := filepath.Join(t.TempDir(), "master.key")
	ctx := context.Background()

	// The account, platform key and hosts, straight in the store.
	st, err := backend.OpenWith(dsn, backend.Options{MasterKeyFile: key})
	if err != nil {
		t.Fatal(err)
	}
	creds, err := fleet.Seed(ctx, service.New(st, service.Options{}), 6)
	st.Close()
	if err != nil {
		t.Fatal(err)
	}

	a, b := startReplica(t, dsn, key), startReplica(t, dsn, key)
	endpoints := []string{a.endpoint, b.endpoint}
	adminA := client.New(a.endpoint, creds.AdminID, creds.AdminKey, fleet.Region)
	adminB := client.New(b.endpoint, creds.AdminID, creds.AdminKey, fleet.Region)

	// 36 instances on 6 hosts, in 2 groups of 18 (each spans every host).
	lay, err := fleet.Lay(ctx, creds, a.endpoint, fleet.BenchOptions{Instances: 36, GroupSize: 18})
	if err != nil {
		t.Fatal(err)
	}
	agents, err := fleet.Start(creds, endpoints, fleet.AgentOptions{WatchWait: 5 * time.Second, ReportInterval: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer agents.Stop()
	allHosts := []int{0, 1, 2, 3, 4, 5}
	converge := func(t *testing.T, via *client.Client, what string) {
		t.Helper()
		head := groupsRevision(t, via, lay.Groups)
		wctx, cancel := context.WithTimeout(ctx, 60*time.Second)
		defer cancel()
		if _, err := agents.WaitFor(wctx, allHosts, head, 10*time.Millisecond); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		// The servers' propagation view agrees once the agents reported.
		for {
			resp, err := via.DescribeSecurityGroupPropagation(wctx, &wire.DescribeSecurityGroupPropagationRequest{SecurityGroupIds: wire.Strings(lay.Groups...)})
			if err != nil {
				t.Fatalf("%s: propagation: %v", what, err)
			}
			done := true
			for _, p := range resp.PropagationSet {
				done = done && p.AffectedHosts == 6 && p.AppliedHosts == 6
			}
			if done {
				return
			}
			select {
			case <-wctx.Done():
				t.Fatalf("%s: the propagation view never showed every host applied: %+v", what, resp.PropagationSet)
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
	converge(t, adminB, "the layout")

	// Versioned writes through both replicas at once, each adding a
	// policy to group 0 at the version it read, again on a mismatch: every
	// acknowledged write is there, none lost.
	t.Run("versioned writes through both lose no update", func(t *testing.T) {
		const perWriter = 8
		var wg sync.WaitGroup
		errs := make(chan error, 2)
		for w, c := range []*client.Client{adminA, adminB} {
			wg.Go(func() {
				for i := range perWriter {
					if err := addVersioned(ctx, c, lay.Groups[0], 40000+w*100+i); err != nil {
						errs <- err
						return
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		got := ingressPorts(t, adminA, lay.Groups[0])
		for w := range 2 {
			for i := range perWriter {
				if !got[40000+w*100+i] {
					t.Errorf("port %d, acknowledged, is not in the group: %v", 40000+w*100+i, got)
				}
			}
		}
		converge(t, adminA, "after the versioned writes")
	})

	t.Run("each replica's simulation answers the other's writes", func(t *testing.T) {
		ins := lay.Instances[0] // in group 0
		for round, pair := range [][2]*client.Client{{adminA, adminB}, {adminB, adminA}} {
			writer, reader := pair[0], pair[1]
			port := 41000 + round
			// Warm the reader's cache with the old answer.
			if v := simulate(t, reader, ins, port); v != "DROP" {
				t.Fatalf("port %d before the write: %s, want DROP", port, v)
			}
			if err := addVersioned(ctx, writer, lay.Groups[0], port); err != nil {
				t.Fatal(err)
			}
			// The other replica learns of the write through the shared
			// feed: it answers the new rule, promptly.
			deadline := time.Now().Add(5 * time.Second)
			for v := simulate(t, reader, ins, port); v != "ACCEPT"; v = simulate(t, reader, ins, port) {
				if time.Now().After(deadline) {
					t.Fatalf("port %d after a write through the other replica: %s, want ACCEPT within 5 s", port, v)
				}
				time.Sleep(20 * time.Millisecond)
			}
		}
	})

	t.Run("a replica killed mid-load", func(t *testing.T) {
		var (
			mu    sync.Mutex
			acked []int
			wg    sync.WaitGroup
		)
		stop := make(chan struct{})
		// Two writers, each alternating replicas and falling back on the
		// other when one does not answer; each write a new port on
		// group 1, 10 ms apart.
		for w := range 2 {
			wg.Go(func() {
				// At most 40 each: a group holds 100 policies per direction.
				for i := range 40 {
					select {
					case <-stop:
						return
					default:
					}
					port := 42000 + w*1000 + i
					first := []*client.Client{adminA, adminB}[(w+i)%2]
					other := []*client.Client{adminB, adminA}[(w+i)%2]
					err := addVersioned(ctx, first, lay.Groups[1], port)
					if err != nil && unanswered(err) {
						err = addVersioned(ctx, other, lay.Groups[1], port)
					}
					if err == nil {
						mu.Lock()
						acked = append(acked, port)
						mu.Unlock()
					}
					time.Sleep(10 * time.Millisecond)
				}
			})
		}
		time.Sleep(700 * time.Millisecond)
		if err := a.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		<-a.exited
		mu.Lock()
		atKill := len(acked)
		mu.Unlock()
		time.Sleep(1500 * time.Millisecond)
		close(stop)
		wg.Wait()
		if atKill == 0 || len(acked) <= atKill {
			t.Fatalf("%d writes acknowledged before the kill, %d in all: want some before and some after", atKill, len(acked))
		}
		// B keeps serving and holds every acknowledged write.
		got := ingressPorts(t, adminB, lay.Groups[1])
		for _, p := range acked {
			if !got[p] {
				t.Errorf("port %d was acknowledged but is not in the group after the kill", p)
			}
		}
		// The agents that followed A fail over to B and hold every write.
		converge(t, adminB, "after the kill")
		t.Logf("%d writes acknowledged, %d before the kill", len(acked), atKill)
	})
}

// unanswered reports whether err says the server did not answer at all.
func unanswered(err error) bool {
	var api *client.Error
	return !errors.As(err, &api)
}

// addVersioned adds an ingress policy admitting port to group at the
// version it reads, reading again and retrying on a version mismatch.
func addVersioned(ctx context.Context, c *client.Client, group string, port int) error {
	for attempt := 0; attempt < 50; attempt++ {
		cur, err := c.DescribeSecurityGroupPolicies(ctx, &wire.DescribeSecurityGroupPoliciesRequest{SecurityGroupId: wire.NewString(group)})
		if err != nil {
			return err
		}
		_, err = c.CreateSecurityGroupPolicies(ctx, &wire.CreateSecurityGroupPoliciesRequest{
			SecurityGroupId: wire.NewString(group),
			SecurityGroupPolicySet: &wire.SecurityGroupPolicySetInput{Version: wire.NewString(cur.SecurityGroupPolicySet.Version),
				Ingress: []wire.SecurityGroupPolicyInput{{Protocol: wire.NewString("TCP"), Port: wire.NewString(strconv.Itoa(port)),
					CidrBlock: wire.NewString("10.0.0.0/8"), Action: wire.NewString("ACCEPT")}}},
		})
		var api *client.Error
		if errors.As(err, &api) && api.Code == "UnsupportedOperation.VersionMismatch" {
			continue
		}
		return err
	}
	return fmt.Errorf("port %d: the version kept changing", port)
}

// ingressPorts returns the ports of group's ingress policies.
func ingressPorts(t *testing.T, c *client.Client, group string) map[int]bool {
	t.Helper()
	resp, err := c.DescribeSecurityGroupPolicies(context.Background(), &wire.DescribeSecurityGroupPoliciesRequest{SecurityGroupId: wire.NewString(group)})
	if err != nil {
		t.Fatal(err)
	}
	out := map[int]bool{}
	for _, p := range resp.SecurityGroupPolicySet.Ingress {
		if n, err := strconv.Atoi(p.Port); err == nil {
			out[n] = true
		}
	}
	return out
}

// simulate asks whether TCP from 10.1.2.3 to port of ins is admitted.
func simulate(t *testing.T, c *client.Client, ins string, port int) string {
	t.Helper()
	resp, err := c.SimulateTraffic(context.Background(), &wire.SimulateTrafficRequest{InstanceId: wire.NewString(ins), Direction: wire.NewString("INGRESS"),
		Protocol: wire.NewString("TCP"), Address: wire.NewString("10.1.2.3"), Port: wire.NewInt(int64(port))})
	if err != nil {
		t.Fatal(err)
	}
	return resp.Verdict
}

// groupsRevision returns the newest revision of the groups' last changes.
func groupsRevision(t *testing.T, c *client.Client, groups []string) int64 {
	t.Helper()
	resp, err := c.DescribeSecurityGroupPropagation(context.Background(), &wire.DescribeSecurityGroupPropagationRequest{SecurityGroupIds: wire.Strings(groups...)})
	if err != nil {
		t.Fatal(err)
	}
	var head int64
	for _, p := range resp.PropagationSet {
		head = max(head, p.Revision)
	}
	return head
}
