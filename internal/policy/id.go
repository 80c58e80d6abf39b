package policy

import "strings"

// Resource identifier prefixes.
const (
	PrefixSecurityGroup        = "sg-"
	PrefixInstance             = "ins-"
	PrefixAddressTemplate      = "ipm-"
	PrefixAddressTemplateGroup = "ipmg-"
	PrefixServiceTemplate      = "ppm-"
	PrefixServiceTemplateGroup = "ppmg-"
	PrefixAccount              = "acc-"
	PrefixHost                 = "host-"
)

// IDLength is the number of characters after an identifier's prefix.
const IDLength = 8

// ValidID reports whether s is prefix followed by exactly eight lowercase
// letters or digits ("sg-1a2b3c4d").
func ValidID(prefix, s string) bool {
	rest, ok := strings.CutPrefix(s, prefix)
	if !ok || len(rest) != IDLength {
		return false
	}
	for i := 0; i < len(rest); i++ {
		c := rest[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}
