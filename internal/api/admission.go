package api

import (
	"context"
	"net/http"

	"golang.org/x/sync/semaphore"
)

// Admission bounds the work of the requests in flight, so that a few
// hostile requests cannot take the server's memory or starve the others.
//
// Two budgets apply. Bodies being read are bounded by their declared size.
// Decoded requests are bounded by the values their JSON arrays hold: a
// policy of three bytes (`{},`) decodes to a few hundred, so the size of a
// body says little about the memory its decoding takes. Before decoding,
// a body is scanned (no allocation) and refused if any array holds more
// than maxArrayLen values; the rest wait their turn for the budget. Small
// requests (nearly all) pass at once. The health check and metrics do not
// go through admission.
const (
	// readBudget is the total declared length of the bodies being read.
	readBudget = 32 << 20
	// decodeBudget is the total weight of the requests being decoded and
	// served, in bytes of decoded values, roughly.
	decodeBudget = 16 << 20
	// valueWeight is what one array value of a request is charged.
	valueWeight = 512
	// minWeight is what any request is charged.
	minWeight = 4 << 10
	// maxArrayLen is the most values one JSON array of a request may hold.
	maxArrayLen = 20_000
)

// admission gates action requests on the budgets.
type admission struct {
	read, decode *semaphore.Weighted
	maxBody      int64
}

func newAdmission(maxBody int64) *admission {
	return &admission{read: semaphore.NewWeighted(readBudget), decode: semaphore.NewWeighted(decodeBudget), maxBody: maxBody}
}

// wrap admits each request to next within the read budget, charging its
// declared length (the most a body may be when none is declared). A request
// whose client goes away while it waits is dropped.
func (a *admission) wrap(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		n := r.ContentLength
		if n < 0 || n > a.maxBody {
			n = a.maxBody
		}
		n = min(max(n, minWeight), readBudget)
		if err := a.read.Acquire(r.Context(), n); err != nil {
			return
		}
		defer a.read.Release(n)
		next(w, r)
	}
}

// admit charges a request about to be decoded from body to the decode
// budget, waiting for room, and returns the function that releases it. It
// refuses a body with an array longer than maxArrayLen.
func (a *admission) admit(ctx context.Context, body []byte) (func(), error) {
	values, longest := arrayValues(body)
	if longest > maxArrayLen {
		return nil, newAPIError(codeValueLimitExceeded, "a list in the request has %d items; a list may have at most %d", longest, maxArrayLen)
	}
	n := min(max(int64(values)*valueWeight, 2*int64(len(body)), minWeight), decodeBudget)
	if err := a.decode.Acquire(ctx, n); err != nil {
		return nil, err
	}
	return func() { a.decode.Release(n) }, nil
}

// arrayValues scans JSON text and returns how many values its arrays hold
// in all, and how many the longest holds. It does not validate the text
// (the decoder does that next): on malformed input its counts are
// approximate.
func arrayValues(b []byte) (total, longest int) {
	// For each open bracket, whether it is an array and the values seen in
	// it so far (an array's count starts when its first value does).
	type level struct {
		array bool
		n     int
		open  bool // a value has started since the last comma or the bracket
	}
	stack := make([]level, 0, 16)
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch c {
		case ' ', '\t', '\n', '\r':
			continue
		case '"':
			for i++; i < len(b) && b[i] != '"'; i++ {
				if b[i] == '\\' {
					i++
				}
			}
		case ',':
			if k := len(stack) - 1; k >= 0 {
				stack[k].open = false
			}
			continue
		case ']', '}':
			if k := len(stack) - 1; k >= 0 {
				if stack[k].array {
					total += stack[k].n
					longest = max(longest, stack[k].n)
				}
				stack = stack[:k]
			}
			continue
		}
		// c starts (or continues) a value in the innermost bracket.
		if k := len(stack) - 1; k >= 0 && stack[k].array && !stack[k].open {
			stack[k].open = true
			stack[k].n++
		}
		if c == '[' || c == '{' {
			stack = append(stack, level{array: c == '['})
		}
	}
	return total, longest
}
