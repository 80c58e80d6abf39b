package policyset

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/palisade-sg/palisade/internal/policy"
)

// list returns n policies ACCEPT TCP <1000+i> 10.0.0.0/8, each named by its
// port.
func list(t testing.TB, n int) []policy.Policy {
	t.Helper()
	var out []policy.Policy
	for i := range n {
		out = append(out, pol(t, fmt.Sprintf("ACCEPT TCP %d 10.0.0.0/8", 1000+i)))
	}
	return out
}

func pol(t testing.TB, s string) policy.Policy {
	t.Helper()
	p, err := policy.ParsePolicy(s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// ports names a list by its policies' ports.
func ports(ps []policy.Policy) string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Ports.String())
	}
	return strings.Join(out, " ")
}

func kindOf(err error) ErrorKind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return 0
}

func TestReorder(t *testing.T) {
	tests := []struct {
		name    string
		moves   []Move
		want    string
		changed []int
		err     ErrorKind
	}{
		{"one down", []Move{{From: 0, To: 2}}, "1001 1002 1000 1003", nil, 0},
		{"one up", []Move{{From: 3, To: 0}}, "1003 1000 1001 1002", nil, 0},
		{"in place", []Move{{From: 1, To: 1}}, "1000 1001 1002 1003", nil, 0},
		{"swap", []Move{{From: 0, To: 3}, {From: 3, To: 0}}, "1003 1001 1002 1000", nil, 0},
		{"rotate among held positions", []Move{{From: 0, To: 2}, {From: 2, To: 3}, {From: 3, To: 0}}, "1003 1001 1000 1002", nil, 0},
		{"from out of range", []Move{{From: 4, To: 0}}, "", nil, OutOfRange},
		{"to out of range", []Move{{From: 0, To: 4}}, "", nil, OutOfRange},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, changed, err := Reorder(list(t, 4), tt.moves)
			if kindOf(err) != tt.err || (err == nil) != (tt.err == 0) {
				t.Fatalf("Reorder(%v) error = %v, want kind %d", tt.moves, err, tt.err)
			}
			if err == nil && (ports(got) != tt.want || !slices.Equal(changed, tt.changed)) {
				t.Errorf("Reorder(%v) = %s, %v; want %s, %v", tt.moves, ports(got), changed, tt.want, tt.changed)
			}
		})
	}
}

// TestReorderOneMoveIsRemoveAndInsert checks every single move of every
// list up to 6 policies against its definition: the policy is removed and
// inserted at its target.
func TestReorderOneMoveIsRemoveAndInsert(t *testing.T) {
	for n := 1; n <= 6; n++ {
		l := list(t, n)
		for from := range n {
			for to := range n {
				want := slices.Insert(slices.Delete(slices.Clone(l), from, from+1), to, l[from])
				got, _, err := Reorder(l, []Move{{From: from, To: to}})
				if err != nil || ports(got) != ports(want) {
					t.Errorf("Reorder(%d policies, %d→%d) = %s, %v; want %s", n, from, to, ports(got), err, ports(want))
				}
			}
		}
	}
}

func TestReorderContents(t *testing.T) {
	l := list(t, 3)
	other := pol(t, "DROP UDP 53 10.0.0.0/8")
	// A claimed or kept content that is not the moved policy's is refused.
	if _, _, err := Reorder(l, []Move{{From: 0, To: 1, Claimed: &other}}); kindOf(err) != NotTheOne {
		t.Errorf("Reorder with a wrong Original content = %v, want NotTheOne", err)
	}
	if _, _, err := Reorder(l, []Move{{From: 0, To: 1, Kept: &other}}); kindOf(err) != Changed {
		t.Errorf("Reorder keeping contents with another content = %v, want Changed", err)
	}
	same := l[0]
	if _, _, err := Reorder(l, []Move{{From: 0, To: 1, Claimed: &same, Kept: &same}}); err != nil {
		t.Errorf("Reorder with the moved policy's own content = %v", err)
	}
	// A new content takes the target position and is reported.
	got, changed, err := Reorder(l, []Move{{From: 0, To: 2, Content: &other}})
	if err != nil || ports(got) != "1001 1002 53" || !slices.Equal(changed, []int{2}) {
		t.Errorf("Reorder with a new content = %s, %v, %v; want 1001 1002 53, [2]", ports(got), changed, err)
	}
}

func TestEdits(t *testing.T) {
	two, five := 2, 5
	dup := list(t, 3)
	described := dup[1]
	described.Description = "web"
	withDesc := []policy.Policy{dup[1], described, dup[2]}
	tests := []struct {
		name string
		edit func() ([]policy.Policy, error)
		want string
		err  ErrorKind
	}{
		{"insert at an index", func() ([]policy.Policy, error) {
			out, _, err := Insert(list(t, 3), &two, []policy.Policy{pol(t, "DROP UDP 53 10.0.0.0/8")})
			return out, err
		}, "1000 1001 53 1002", 0},
		{"append", func() ([]policy.Policy, error) {
			out, _, err := Insert(list(t, 2), nil, list(t, 1))
			return out, err
		}, "1000 1001 1000", 0},
		{"insert past the end", func() ([]policy.Policy, error) {
			out, _, err := Insert(list(t, 3), &five, list(t, 1))
			return out, err
		}, "", PastEnd},
		{"replace", func() ([]policy.Policy, error) {
			return ReplaceAt(list(t, 3), []int{0, 2}, []policy.Policy{pol(t, "DROP UDP 53 10.0.0.0/8"), pol(t, "DROP UDP 54 10.0.0.0/8")})
		}, "53 1001 54", 0},
		{"replace out of range", func() ([]policy.Policy, error) { return ReplaceAt(list(t, 3), []int{3}, list(t, 1)) }, "", OutOfRange},
		{"delete by index", func() ([]policy.Policy, error) { return DeleteAt(list(t, 4), []int{3, 1}) }, "1000 1002", 0},
		{"delete by index out of range", func() ([]policy.Policy, error) { return DeleteAt(list(t, 2), []int{-1}) }, "", OutOfRange},
		{"delete by content", func() ([]policy.Policy, error) { return DeleteContent(list(t, 3), list(t, 2)[1:]) }, "1000 1002", 0},
		{"delete by content prefers the same description", func() ([]policy.Policy, error) {
			out, err := DeleteContent(withDesc, []policy.Policy{described})
			if err == nil && (len(out) != 2 || out[0].Description != "") {
				return nil, fmt.Errorf("deleted the policy without the description: %v", out)
			}
			return out, err
		}, "1001 1002", 0},
		{"delete by content without a match", func() ([]policy.Policy, error) {
			return DeleteContent(list(t, 2), []policy.Policy{pol(t, "DROP UDP 53 10.0.0.0/8")})
		}, "", NoMatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.edit()
			if kindOf(err) != tt.err || (err == nil) != (tt.err == 0) {
				t.Fatalf("error = %v, want kind %d", err, tt.err)
			}
			if err == nil && ports(got) != tt.want {
				t.Errorf("got %s, want %s", ports(got), tt.want)
			}
		})
	}
}

func TestParseUpdateType(t *testing.T) {
	tests := []struct {
		in   string
		want UpdateType
		ok   bool
	}{
		{"", UpdatePolicy, true}, {"policy", UpdatePolicy, true}, {"Priority", UpdatePriority, true}, {"BOTH", UpdateBoth, true}, {"Order", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseUpdateType(tt.in)
			if got != tt.want || (err == nil) != tt.ok {
				t.Errorf("ParseUpdateType(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			}
		})
	}
}
