package api

import (
	"testing"

	"github.com/palisade-sg/palisade/wire"
)

// The action table and package wire's list of actions name the same
// actions with the same services.
func TestActionsMatchWire(t *testing.T) {
	served := actions()
	listed := wire.Actions()
	for _, a := range listed {
		got, ok := served[a.Name]
		switch {
		case !ok:
			t.Errorf("wire lists %s, which is not served", a.Name)
		case got.service != a.Service:
			t.Errorf("%s is served as a %s action, wire says %s", a.Name, got.service, a.Service)
		}
	}
	if len(listed) != len(served) {
		t.Errorf("wire lists %d actions, %d are served", len(listed), len(served))
	}
}
