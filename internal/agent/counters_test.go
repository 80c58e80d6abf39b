package agent

import (
	"fmt"
	"testing"

	"github.com/palisade-sg/palisade/internal/agent/nft"
	"github.com/palisade-sg/palisade/internal/policy"
	"github.com/palisade-sg/palisade/internal/rules"
)

// TestCounterTotals feeds readings of one hit, a group's policy, to the
// totals and checks what is reported per instance: a counter going on
// adds up, one made again (reading less) keeps what it had counted, and
// one reported against another instance (a shared group whose first
// instance left) moves on to it without counting twice.
func TestCounterTotals(t *testing.T) {
	hit := func(instance string, packets uint64) nft.Hit {
		return nft.Hit{Counter: "sg-00000001.in.0", Packets: packets, Bytes: 10 * packets, Attribution: nft.Attribution{
			Instance: instance, Direction: policy.Ingress,
			Origins: []rules.Origin{{Direction: policy.Ingress, Layer: rules.LayerSecurityGroup, GroupID: "sg-00000001", PolicyIndex: 0}},
		}}
	}
	tests := []struct {
		name      string
		readings  []nft.Hit
		restarted bool // the hit restarted before the last reading (Restarted)
		want      string
	}{
		{"counting on", []nft.Hit{hit("ins-a", 5), hit("ins-a", 9)}, false, "ins-a:9/90"},
		{"made again", []nft.Hit{hit("ins-a", 5), hit("ins-a", 2)}, false, "ins-a:7/70"},
		{"restarted", []nft.Hit{hit("ins-a", 5), hit("ins-a", 6)}, true, "ins-a:11/110"},
		{"another instance", []nft.Hit{hit("ins-a", 5), hit("ins-b", 8), hit("ins-b", 12)}, false, "ins-a:5/50 ins-b:7/70"},
		{"another instance, then made again", []nft.Hit{hit("ins-a", 5), hit("ins-b", 8), hit("ins-b", 1)}, false, "ins-a:5/50 ins-b:4/40"},
		{"back to the first", []nft.Hit{hit("ins-a", 5), hit("ins-b", 8), hit("ins-a", 10)}, false, "ins-a:7/70 ins-b:3/30"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCounterTotals()
			for i, h := range tt.readings {
				if tt.restarted && i == len(tt.readings)-1 {
					c.restarted([]string{h.Counter})
				}
				c.update([]nft.Hit{h})
			}
			got := ""
			for _, hc := range c.report() {
				if got != "" {
					got += " "
				}
				got += fmt.Sprintf("%s:%s/%s", *hc.InstanceId, hc.Packets.Text(), hc.Bytes.Text())
			}
			if got != tt.want {
				t.Errorf("report %s, want %s", got, tt.want)
			}
		})
	}
}
