package agent_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/palisade-sg/palisade/client"
	"github.com/palisade-sg/palisade/internal/agent"
	"github.com/palisade-sg/palisade/wire"
)

// TestFailover: a server that does not answer is passed over for the next,
// which then keeps the requests; an API error is an answer, not a reason to
// move on.
func TestFailover(t *testing.T) {
	e := newEnv(t)
	e.setup(t)
	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL
	dead.Close()
	f, err := agent.NewFailover(client.New(deadURL, "AKIDnobody", "key", ""), e.host)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	st, err := f.DescribeHostState(ctx, &wire.DescribeHostStateRequest{})
	if err != nil {
		t.Fatalf("DescribeHostState through a dead server then a live one: %v", err)
	}
	if len(st.Instances) != 1 {
		t.Errorf("%d instances, want 1", len(st.Instances))
	}
	// An API error from the server that answers is returned as it is.
	bad, err := agent.NewFailover(client.New(e.srv.URL, "AKIDnobody", "key", ""), e.host)
	if err != nil {
		t.Fatal(err)
	}
	_, err = bad.DescribeHostState(ctx, &wire.DescribeHostStateRequest{})
	var ce *client.Error
	if !errors.As(err, &ce) {
		t.Errorf("an unknown credential on the first server: %v, want its API error, not the second server's answer", err)
	}
	if _, err := agent.NewFailover(); err == nil {
		t.Error("NewFailover of no server succeeded")
	}
}
