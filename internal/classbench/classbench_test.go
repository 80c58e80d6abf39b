package classbench_test

import (
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/palisade-sg/palisade/internal/classbench"
	"github.com/palisade-sg/palisade/internal/eval"
)

func pfx(s string) netip.Prefix { return netip.MustParsePrefix(s) }

func TestParseRule(t *testing.T) {
	tests := []struct {
		name string
		line string
		want eval.Rule
	}{
		{
			name: "tcp exact",
			line: "@186.11.101.36/32\t20.69.109.43/32\t0 : 65535\t1521 : 1521\t0x06/0xFF\t0x1000/0x1000\t",
			want: eval.Rule{Src: pfx("186.11.101.36/32"), Dst: pfx("20.69.109.43/32"), SrcPorts: eval.AllPorts, DstPorts: eval.Port(1521), Proto: 6, Action: eval.Accept},
		},
		{
			name: "wildcard protocol",
			line: "@0.0.0.0/0\t72.0.0.0/6\t0 : 65535\t0 : 65535\t0x00/0x00\t0x0000/0x0000\t",
			want: eval.Rule{Src: pfx("0.0.0.0/0"), Dst: pfx("72.0.0.0/6"), SrcPorts: eval.AllPorts, DstPorts: eval.AllPorts, Proto: eval.AnyProto, Action: eval.Accept},
		},
		{
			name: "host bits masked",
			line: "@10.1.2.3/8 10.1.2.3/16 1 : 2 3 : 4 0x11/0xff 0x0000/0x0000",
			want: eval.Rule{Src: pfx("10.0.0.0/8"), Dst: pfx("10.1.0.0/16"), SrcPorts: eval.PortRange{Lo: 1, Hi: 2}, DstPorts: eval.PortRange{Lo: 3, Hi: 4}, Proto: 17, Action: eval.Accept},
		},
		{
			name: "ipv6",
			line: "@2001:db8::/32 ::/0 0 : 65535 443 : 443 0x06/0xFF 0x0000/0x0000",
			want: eval.Rule{Src: pfx("2001:db8::/32"), Dst: pfx("::/0"), SrcPorts: eval.AllPorts, DstPorts: eval.Port(443), Proto: 6, Action: eval.Accept},
		},
		{
			name: "exact protocol zero",
			line: "@1.2.3.4/32 5.6.7.8/32 0 : 0 0 : 0 0x00/0xFF 0x0000/0x0000",
			want: eval.Rule{Src: pfx("1.2.3.4/32"), Dst: pfx("5.6.7.8/32"), Proto: 0, Action: eval.Accept},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := classbench.ParseRule(tt.line)
			if err != nil {
				t.Fatalf("ParseRule(%q) = %v", tt.line, err)
			}
			if got != tt.want {
				t.Errorf("ParseRule(%q) = %v, want %v", tt.line, got, tt.want)
			}
			back, err := classbench.ParseRule(classbench.Format(got))
			if err != nil || back != got {
				t.Errorf("ParseRule(Format(%v)) = %v, %v", got, back, err)
			}
		})
	}
}

func TestParseRuleErrors(t *testing.T) {
	tests := []struct {
		name string
		line string
	}{
		{"no at", "1.2.3.4/32 5.6.7.8/32 0 : 0 0 : 0 0x06/0xFF 0x0000/0x0000"},
		{"too few fields", "@1.2.3.4/32 5.6.7.8/32 0 : 0 0 : 0 0x06/0xFF"},
		{"too many fields", "@1.2.3.4/32 5.6.7.8/32 0 : 0 0 : 0 0x06/0xFF 0x0000/0x0000 x"},
		{"no colon", "@1.2.3.4/32 5.6.7.8/32 0 - 0 0 : 0 0x06/0xFF 0x0000/0x0000"},
		{"bad prefix", "@1.2.3.400/32 5.6.7.8/32 0 : 0 0 : 0 0x06/0xFF 0x0000/0x0000"},
		{"no length", "@1.2.3.4 5.6.7.8/32 0 : 0 0 : 0 0x06/0xFF 0x0000/0x0000"},
		{"mixed families", "@1.2.3.4/32 ::/0 0 : 0 0 : 0 0x06/0xFF 0x0000/0x0000"},
		{"zone", "@fe80::1%eth0/128 ::/0 0 : 0 0 : 0 0x06/0xFF 0x0000/0x0000"},
		{"port too big", "@1.2.3.4/32 5.6.7.8/32 0 : 65536 0 : 0 0x06/0xFF 0x0000/0x0000"},
		{"empty range", "@1.2.3.4/32 5.6.7.8/32 2 : 1 0 : 0 0x06/0xFF 0x0000/0x0000"},
		{"negative port", "@1.2.3.4/32 5.6.7.8/32 -1 : 1 0 : 0 0x06/0xFF 0x0000/0x0000"},
		{"protocol not hex", "@1.2.3.4/32 5.6.7.8/32 0 : 0 0 : 0 6/0xFF 0x0000/0x0000"},
		{"protocol too big", "@1.2.3.4/32 5.6.7.8/32 0 : 0 0 : 0 0x106/0xFF 0x0000/0x0000"},
		{"protocol partial mask", "@1.2.3.4/32 5.6.7.8/32 0 : 0 0 : 0 0x06/0x0F 0x0000/0x0000"},
		{"protocol no mask", "@1.2.3.4/32 5.6.7.8/32 0 : 0 0 : 0 0x06 0x0000/0x0000"},
		{"flags too big", "@1.2.3.4/32 5.6.7.8/32 0 : 0 0 : 0 0x06/0xFF 0x10000/0x0000"},
		{"empty hex", "@1.2.3.4/32 5.6.7.8/32 0 : 0 0 : 0 0x/0xFF 0x0000/0x0000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if r, err := classbench.ParseRule(tt.line); err == nil {
				t.Errorf("ParseRule(%q) = %v, want an error", tt.line, r)
			}
		})
	}
}

func TestParse(t *testing.T) {
	in := "@1.2.3.4/32\t5.6.7.8/32\t0 : 65535\t80 : 80\t0x06/0xFF\t0x0000/0x0000\t\n" +
		"\n" +
		"@0.0.0.0/0\t0.0.0.0/0\t0 : 65535\t0 : 65535\t0x00/0x00\t0x0000/0x0000\t\n"
	rules, err := classbench.Parse(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(rules) != 2 || rules[0].Decider != 0 || rules[1].Decider != 1 || rules[1].Proto != eval.AnyProto {
		t.Errorf("Parse = %v", rules)
	}

	bad := in + "@1.2.3.4/32 oops\n"
	_, err = classbench.Parse(strings.NewReader(bad))
	var pe *classbench.ParseError
	if !errors.As(err, &pe) {
		t.Fatalf("Parse(bad) = %v, want a *ParseError", err)
	}
	if pe.Line != 4 || pe.Text != "@1.2.3.4/32 oops" {
		t.Errorf("ParseError = line %d text %q, want line 4 text %q", pe.Line, pe.Text, "@1.2.3.4/32 oops")
	}
	if !strings.Contains(err.Error(), "line 4") {
		t.Errorf("error %q does not name the line", err)
	}
}

func TestStandardSets(t *testing.T) {
	dir, err := classbench.Locate(".")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"acl1_1k", "acl1_10k", "fw1_10k", "ipc1_10k"} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, name)
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			rules, err := classbench.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Count(strings.TrimSpace(string(raw)), "\n") + 1
			if len(rules) != lines {
				t.Errorf("%s: %d rules from %d lines", name, len(rules), lines)
			}
			if _, err := eval.Compile(rules); err != nil {
				t.Errorf("Compile(%s) = %v", name, err)
			}
		})
	}
}

func TestLocateMissing(t *testing.T) {
	if dir, err := classbench.Locate(t.TempDir()); err == nil {
		t.Errorf("Locate(empty tree) = %q, want an error", dir)
	}
}

func TestPackets(t *testing.T) {
	rules := []eval.Rule{
		{Src: pfx("10.0.0.0/8"), Dst: pfx("192.168.1.0/24"), SrcPorts: eval.AllPorts, DstPorts: eval.PortRange{Lo: 80, Hi: 90}, Proto: 6, Action: eval.Accept},
		{Src: pfx("2001:db8::/33"), Dst: pfx("::/0"), SrcPorts: eval.Port(7), DstPorts: eval.AllPorts, Proto: eval.AnyProto, Action: eval.Accept},
	}
	a := classbench.Packets(rules, 1000, 9)
	if b := classbench.Packets(rules, 1000, 9); !slices.Equal(a, b) {
		t.Error("Packets is not deterministic")
	}
	if c := classbench.Packets(rules, 1000, 10); slices.Equal(a, c) {
		t.Error("Packets ignores the seed")
	}
	lin := eval.Linear(rules)
	for i, p := range a {
		if i%2 == 0 {
			if _, ok := lin.Decide(p); !ok {
				t.Errorf("packet %d (%v) is in no rule's box", i, p)
			}
		}
		if p.Src.Is4() != p.Dst.Is4() {
			t.Errorf("packet %d (%v) mixes families", i, p)
		}
	}
	if got := classbench.Packets(nil, 3, 1); len(got) != 3 || !got[0].Src.Is4() {
		t.Errorf("Packets(nil) = %v", got)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"@186.11.101.36/32\t20.69.109.43/32\t0 : 65535\t1521 : 1521\t0x06/0xFF\t0x1000/0x1000\t\n",
		"@0.0.0.0/0\t0.0.0.0/0\t0 : 65535\t0 : 65535\t0x00/0x00\t0x0000/0x0000\t\n@1.2.3.4/32 5.6.7.8/32 1 : 2 3 : 4 0x11/0xFF 0x0000/0x0000\n",
		"@2001:db8::/32 ::/0 0 : 65535 443 : 443 0x06/0xFF 0x0000/0x0000",
		"@1.2.3.4/32 5.6.7.8/32 2 : 1 0 : 0 0x06/0xFF 0x0000/0x0000",
		"@1.2.3.4/32 ::/0 0 : 0 0 : 0 0x06/0xFF 0x0000/0x0000",
		"",
		"@",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		rules, err := classbench.Parse(strings.NewReader(in))
		if err != nil {
			var pe *classbench.ParseError
			if errors.As(err, &pe) && pe.Line < 1 {
				t.Errorf("ParseError line %d", pe.Line)
			}
			return
		}
		// Whatever parses compiles, and formats back to the same rules.
		if _, err := eval.Compile(rules); err != nil {
			t.Errorf("Compile(Parse(%q)) = %v", in, err)
		}
		for i, r := range rules {
			back, err := classbench.ParseRule(classbench.Format(r))
			back.Decider = r.Decider
			if err != nil || back != r {
				t.Errorf("rule %d: ParseRule(Format(%v)) = %v, %v", i, r, back, err)
			}
		}
	})
}
