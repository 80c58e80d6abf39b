package kernel

import (
	"errors"
	"fmt"
	"testing"

	"github.com/palisade-sg/palisade/internal/store"
)

func TestFromStore(t *testing.T) {
	domain := &Error{Kind: KindNotFound, Message: "x"}
	other := errors.New("disk on fire")
	tests := []struct {
		name string
		err  error
		kind Kind // 0: passed through unchanged
	}{
		{"version taken by a concurrent write", fmt.Errorf("update group sg-1: %w", store.ErrVersionMismatch), KindVersionMismatch},
		{"name taken by a concurrent write", fmt.Errorf("create group sg-1: %w", store.ErrConflict), KindDuplicate},
		{"busy through every retry", fmt.Errorf("transaction: %w: locked", store.ErrBusy), KindBusy},
		{"a domain error", domain, 0},
		{"a store error wrapped in a domain error", &Error{Kind: KindInUse, cause: store.ErrConflict}, 0},
		{"not found is the caller's to name", fmt.Errorf("group: %w", store.ErrNotFound), 0},
		{"anything else", other, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := FromStore(tt.err)
			if tt.kind == 0 {
				if got != tt.err {
					t.Errorf("FromStore(%v) = %v, want it unchanged", tt.err, got)
				}
				return
			}
			var e *Error
			if !errors.As(got, &e) || e.Kind != tt.kind || e.Message == "" {
				t.Fatalf("FromStore(%v) = %#v, want a %s error with a message", tt.err, got, tt.kind)
			}
			if !errors.Is(got, errors.Unwrap(tt.err)) {
				t.Errorf("FromStore(%v) = %v, which no longer wraps the store's error", tt.err, got)
			}
		})
	}
	if FromStore(nil) != nil {
		t.Error("FromStore(nil) != nil")
	}
}
