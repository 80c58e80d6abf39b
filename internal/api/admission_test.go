package api

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestArrayValues(t *testing.T) {
	for _, tt := range []struct {
		name           string
		in             string
		total, longest int
	}{
		{"empty object", `{}`, 0, 0},
		{"empty array", `{"A":[]}`, 0, 0},
		{"spaces in empty array", `{"A":[ ]}`, 0, 0},
		{"one", `{"A":[1]}`, 1, 1},
		{"three objects", `{"A":[{},{"x":[1,2]},{}]}`, 5, 3},
		{"strings with brackets and commas", `{"A":["a,b","[c]","\"],["]}`, 3, 3},
		{"nested", `[[1,2],[3],[]]`, 6, 3},
		{"object fields are not counted", `{"a":1,"b":2,"c":3}`, 0, 0},
		{"spaces", `{"A": [ 1 , 2 , 3 ] }`, 3, 3},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if !json.Valid([]byte(tt.in)) {
				t.Fatalf("%s is not JSON", tt.in)
			}
			total, longest := arrayValues([]byte(tt.in))
			if total != tt.total || longest != tt.longest {
				t.Errorf("arrayValues(%s) = %d, %d; want %d, %d", tt.in, total, longest, tt.total, tt.longest)
			}
		})
	}
	big := `{"P":[` + strings.Repeat(`{},`, 99_999) + `{}]}`
	if total, longest := arrayValues([]byte(big)); total != 100_000 || longest != 100_000 {
		t.Errorf("arrayValues(100,000 objects) = %d, %d", total, longest)
	}
}

func FuzzArrayValues(f *testing.F) {
	f.Add(`{"A":[{},{"x":[1,2]},{}]}`)
	f.Add(`["a\\",",[]]`)
	f.Fuzz(func(t *testing.T, s string) {
		total, longest := arrayValues([]byte(s))
		if longest > total || total < 0 {
			t.Errorf("arrayValues(%q) = %d, %d", s, total, longest)
		}
	})
}
