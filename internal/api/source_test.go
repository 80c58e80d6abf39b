package api

import (
	"net/http/httptest"
	"net/netip"
	"testing"
)

func TestClientAddress(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	tests := []struct {
		name, remote, xff string
		trusted           []netip.Prefix
		want              string
	}{
		{"the connection's address", "198.51.100.7:4000", "", trusted, "198.51.100.7"},
		{"no trusted proxy: the header is ignored", "10.0.0.2:4000", "203.0.113.5", nil, "10.0.0.2"},
		{"an untrusted peer's header is ignored", "198.51.100.7:4000", "203.0.113.5", trusted, "198.51.100.7"},
		{"behind a trusted proxy", "10.0.0.2:4000", "203.0.113.5", trusted, "203.0.113.5"},
		{"through two trusted proxies", "10.0.0.2:4000", "192.0.2.9, 203.0.113.5, 10.1.1.1", trusted, "203.0.113.5"},
		{"a header that does not parse", "10.0.0.2:4000", "203.0.113.5, junk", trusted, "invalid IP"},
		{"only proxies", "10.0.0.2:4000", "10.3.3.3", trusted, "10.0.0.2"},
		{"ipv6", "[2001:db8::1]:4000", "", trusted, "2001:db8::1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/", nil)
			r.RemoteAddr = tt.remote
			if tt.xff != "" {
				r.Header.Set("X-Forwarded-For", tt.xff)
			}
			if got := clientAddress(r, tt.trusted); got.String() != tt.want {
				t.Errorf("clientAddress(%s, %q) = %v, want %s", tt.remote, tt.xff, got, tt.want)
			}
		})
	}
}
