package civil

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
)

// NormalizePhone returns a Vietnamese mobile number in E.164 (+84 and nine
// digits). It accepts the national form (0912 345 678), +84 and 0084
// prefixes, with spaces, dots, dashes and parentheses.
func NormalizePhone(s string) (string, error) {
	var b strings.Builder
	for _, r := range strings.TrimSpace(s) {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == '+' && b.Len() == 0:
			b.WriteRune(r)
		case r == ' ' || r == '.' || r == '-' || r == '(' || r == ')':
		default:
			return "", fmt.Errorf("must contain only digits, spaces, dots or dashes and an optional leading +")
		}
	}
	d := b.String()
	var national string
	switch {
	case strings.HasPrefix(d, "+84"):
		national = d[3:]
	case strings.HasPrefix(d, "0084"):
		national = d[4:]
	case strings.HasPrefix(d, "84") && len(d) == 11:
		national = d[2:]
	case strings.HasPrefix(d, "0") && len(d) == 10:
		national = d[1:]
	case strings.HasPrefix(d, "+"):
		return "", fmt.Errorf("must be a Vietnamese mobile number (+84)")
	default:
		return "", fmt.Errorf("must be a Vietnamese mobile number such as 0912 345 678 or +84 912 345 678")
	}
	if len(national) != 9 || strings.Contains(national, "+") {
		return "", fmt.Errorf("must have 10 digits in the national form (0 and 9 digits)")
	}
	switch national[0] {
	case '3', '5', '7', '8', '9':
	default:
		return "", fmt.Errorf("must be a mobile number: after the 0 it starts with 3, 5, 7, 8 or 9")
	}
	return "+84" + national, nil
}

// PhoneHash is how the engine and the portal compare phone numbers without
// passing them around: the lowercase hex SHA-256 of the E.164 form.
func PhoneHash(e164 string) string {
	sum := sha256.Sum256([]byte(e164))
	return hex.EncodeToString(sum[:])
}
