package civil_test

import (
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lienthong/lienthong/civil"
)

func TestNormalizePhone(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"0912345678":       "+84912345678",
		"0912 345 678":     "+84912345678",
		"091.234.5678":     "+84912345678",
		"+84 912 345 678":  "+84912345678",
		"+84-3-1234-5678":  "+84312345678",
		"0084912345678":    "+84912345678",
		"84912345678":      "+84912345678",
		"(+84) 987654321":  "+84987654321",
		"++84912345678":    "",
		"+1 415 555 0100":  "",
		"024 3825 1234":    "",
		"0112345678":       "",
		"09123456789":      "",
		"091234567":        "",
		"0912345678 ext 2": "",
		"":                 "",
	} {
		got, err := civil.NormalizePhone(in)
		if want == "" {
			require.Error(t, err, in)
			continue
		}
		require.NoError(t, err, in)
		require.Equal(t, want, got, in)
	}
}

func TestPhoneHash(t *testing.T) {
	t.Parallel()
	// The portal and the engine must agree on this value byte for byte.
	require.Equal(t, "ed644edf0566470f0b5a8c13c792fa8e8a489574da3aceec119b9456e870d396", civil.PhoneHash("+84912345678"))
}

func FuzzNormalizePhone(f *testing.F) {
	for _, s := range []string{"0912345678", "+84912345678", "(+84) 912-345-678", "84 24 3825 1234", "+", "0", "++84912345678"} {
		f.Add(s)
	}
	e164 := regexp.MustCompile(`^\+84[35789][0-9]{8}$`)
	f.Fuzz(func(t *testing.T, s string) {
		got, err := civil.NormalizePhone(s)
		if err != nil {
			return
		}
		if !e164.MatchString(got) {
			t.Fatalf("NormalizePhone(%q) = %q, not a Vietnamese mobile in E.164", s, got)
		}
		again, err := civil.NormalizePhone(got)
		if err != nil || again != got {
			t.Fatalf("NormalizePhone(%q) = %q, %v; want it unchanged", got, again, err)
		}
	})
}
