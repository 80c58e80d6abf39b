package nft

import (
	"fmt"
	"regexp"
	"strings"
)

// getElement is the element nft --numeric get element prints (nft 1.0.6
// prints it as text even when asked for JSON).
var getElement = regexp.MustCompile(`elements = \{ (.*?)(?: counter packets \d+ bytes \d+)? : (\w+) \}`)

// ElementOwner returns the hit and verdict of the one element of map m
// that nft --numeric get element printed, as rs compiled it.
func (rs *Ruleset) ElementOwner(m string, out []byte) (owner, verdict string, err error) {
	sm := getElement.FindStringSubmatch(string(out))
	if sm == nil {
		return "", "", fmt.Errorf("no element in %q", out)
	}
	want, err := canonKey(strings.Split(sm[1], " . "))
	if err != nil {
		return "", "", err
	}
	for _, s := range rs.maps {
		if s.name != m {
			continue
		}
		for _, e := range s.elems {
			if c, err := canonKey(e.key); err == nil && c == want {
				if e.value != sm[2] {
					return "", "", fmt.Errorf("element %s: the kernel's verdict is %s, the ruleset's %s", sm[1], sm[2], e.value)
				}
				return e.owner, e.value, nil
			}
		}
		return "", "", fmt.Errorf("element %s is not the ruleset's", sm[1])
	}
	return "", "", fmt.Errorf("no map %s", m)
}
