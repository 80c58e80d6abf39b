package guestfw

import "testing"

func TestEnumText(t *testing.T) {
	for _, v := range []Verdict{Accept, Drop, Reject, Uncertain} {
		b, err := v.MarshalText()
		var back Verdict
		if err != nil || back.UnmarshalText(b) != nil || back != v {
			t.Errorf("Verdict %v: MarshalText = %q, %v; back %v", v, b, err, back)
		}
	}
	for _, d := range []Direction{Inbound, Outbound} {
		b, err := d.MarshalText()
		var back Direction
		if err != nil || back.UnmarshalText(b) != nil || back != d {
			t.Errorf("Direction %v: MarshalText = %q, %v; back %v", d, b, err, back)
		}
	}
	for _, f := range []Format{IptablesSave, Ip6tablesSave, NftRuleset} {
		if b, err := f.MarshalText(); err != nil || string(b) != f.String() {
			t.Errorf("Format %v: MarshalText = %q, %v", f, b, err)
		}
	}
	var v Verdict
	var d Direction
	var f Format
	if _, err := v.MarshalText(); err == nil {
		t.Error("the zero Verdict marshals")
	}
	if _, err := d.MarshalText(); err == nil {
		t.Error("the zero Direction marshals")
	}
	if _, err := f.MarshalText(); err == nil {
		t.Error("the zero Format marshals")
	}
	if v.UnmarshalText([]byte("maybe")) == nil || d.UnmarshalText([]byte("sideways")) == nil {
		t.Error("UnmarshalText accepts a name that is none")
	}
}

func TestBlocked(t *testing.T) {
	for _, tc := range []struct {
		name     string
		possible []Verdict
		want     bool
	}{
		{"drop", []Verdict{Drop}, true},
		{"drop or reject", []Verdict{Drop, Reject}, true},
		{"accept or drop", []Verdict{Accept, Drop}, false},
		{"unknown", []Verdict{Uncertain}, false},
		{"nothing", nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := (Result{Possible: tc.possible}).Blocked(); got != tc.want {
				t.Errorf("Result{Possible: %v}.Blocked() = %v, want %v", tc.possible, got, tc.want)
			}
		})
	}
}
