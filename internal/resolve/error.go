package resolve

import (
	"fmt"
	"strings"

	"github.com/palisade-sg/palisade/internal/policy"
)

// Problem is one stored value that keeps an instance's lists from being
// resolved. GroupID, Direction and PolicyIndex name the policy concerned;
// for a platform address GroupID is empty and PolicyIndex −1.
type Problem struct {
	GroupID     string
	Direction   policy.Direction
	PolicyIndex int
	Value       string // the value that does not resolve
	Reason      string
}

func (p Problem) Error() string {
	if p.GroupID == "" {
		if p.Value == "" {
			return p.Reason
		}
		return fmt.Sprintf("%q: %s", p.Value, p.Reason)
	}
	return fmt.Sprintf("%s %s policy %d: %q: %s", p.GroupID, p.Direction.Field(), p.PolicyIndex, p.Value, p.Reason)
}

// Error is the refusal of an instance's lists: every problem met, in the
// order of the lists.
type Error struct {
	InstanceID string
	Problems   []Problem
}

func (e *Error) Error() string { return e.Summary(len(e.Problems)) }

// Summary describes the refusal naming at most n problems, then how many
// more there are.
func (e *Error) Summary(n int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "effective rules of %s do not resolve", e.InstanceID)
	for i, p := range e.Problems {
		if i == n {
			fmt.Fprintf(&b, "; and %d more", len(e.Problems)-n)
			break
		}
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		b.WriteString(p.Error())
	}
	return b.String()
}

// Unwrap returns the problems, for errors.As.
func (e *Error) Unwrap() []error {
	out := make([]error, len(e.Problems))
	for i, p := range e.Problems {
		out[i] = p
	}
	return out
}
