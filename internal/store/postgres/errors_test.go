package postgres

import (
	"errors"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

func TestErrorClasses(t *testing.T) {
	tests := []struct {
		name         string
		err          error
		unique, busy bool
	}{
		{"unique violation", &pgconn.PgError{Code: "23505"}, true, false},
		{"serialization failure", &pgconn.PgError{Code: "40001"}, false, true},
		{"deadlock", &pgconn.PgError{Code: "40P01"}, false, true},
		{"lock timeout", &pgconn.PgError{Code: "55P03"}, false, true},
		{"wrapped", fmt.Errorf("update group: %w", &pgconn.PgError{Code: "40001"}), false, true},
		{"foreign key violation", &pgconn.PgError{Code: "23503"}, false, false},
		{"not a server error", errors.New("connection refused"), false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := isUnique(tt.err); got != tt.unique {
				t.Errorf("isUnique(%v) = %v, want %v", tt.err, got, tt.unique)
			}
			if got := isBusy(tt.err); got != tt.busy {
				t.Errorf("isBusy(%v) = %v, want %v", tt.err, got, tt.busy)
			}
		})
	}
}
