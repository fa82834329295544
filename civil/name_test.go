package civil

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
	"golang.org/x/text/unicode/norm"
)

func TestValidateName(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      string
		wantErr error
	}{
		{name: "Vietnamese full name in NFC", in: "Nguyễn Văn An"},
		{name: "long Vietnamese name", in: "Tôn Nữ Thị Hồng Ngọc"},
		{name: "one word", in: "An"},
		{name: "capitals with diacritics", in: "ĐẶNG THỊ HƯỜNG"},
		{name: "Central Highlands name with apostrophe", in: "H'Hen Niê"},
		{name: "Han script", in: "王小明"},
		{name: "script with spacing marks in NFC", in: "अनिल"},
		{name: "exactly 100 characters", in: strings.Repeat("ễ", 100)},

		{name: "empty", in: "", wantErr: ErrNameEmpty},
		{name: "spaces only", in: "   ", wantErr: ErrNameEmpty},
		{name: "NFD input", in: norm.NFD.String("Nguyễn Văn An"), wantErr: ErrNameNotNFC},
		{name: "101 characters", in: strings.Repeat("ễ", 101), wantErr: ErrNameTooLong},
		{name: "digit", in: "Nguyễn Văn 2", wantErr: ErrNameCharacters},
		{name: "digits only", in: "123", wantErr: ErrNameCharacters},
		{name: "hyphen", in: "Lê-Anh", wantErr: ErrNameCharacters},
		{name: "full stop", in: "Nguyễn V. An", wantErr: ErrNameCharacters},
		{name: "apostrophe at start", in: "'An", wantErr: ErrNameCharacters},
		{name: "apostrophe at end", in: "An'", wantErr: ErrNameCharacters},
		{name: "apostrophe before space", in: "H' Hen", wantErr: ErrNameCharacters},
		{name: "lone combining mark", in: "\u0303An", wantErr: ErrNameCharacters},
		{name: "emoji", in: "An 🙂", wantErr: ErrNameCharacters},
		{name: "invalid UTF-8", in: "Nguy\xffn", wantErr: ErrNameCharacters},
		{name: "double space", in: "Nguyễn  Văn An", wantErr: ErrNameSpaces},
		{name: "leading space", in: " Nguyễn Văn An", wantErr: ErrNameSpaces},
		{name: "trailing space", in: "Nguyễn Văn An ", wantErr: ErrNameSpaces},
		{name: "tab", in: "Nguyễn\tVăn An", wantErr: ErrNameSpaces},
		{name: "no-break space", in: "Nguyễn\u00a0Văn An", wantErr: ErrNameSpaces},
		{name: "newline", in: "Nguyễn\nVăn An", wantErr: ErrNameSpaces},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := ValidateName(tt.in)
			if tt.wantErr == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tt.wantErr)
		})
	}
}

func TestValidateNameMessages(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want string
	}{
		{in: "", want: "must not be empty"},
		{in: norm.NFD.String("Văn"), want: "must be Unicode NFC"},
		{in: "An1", want: "must contain only letters and spaces"},
		{in: strings.Repeat("a", 101), want: "must be at most 100 characters"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			t.Parallel()
			require.EqualError(t, ValidateName(tt.in), tt.want)
		})
	}
}

// FuzzValidateName checks that validation never panics and that an accepted name keeps
// the promised shape.
func FuzzValidateName(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string) {
		if ValidateName(s) != nil {
			return
		}
		require.True(t, utf8.ValidString(s))
		require.True(t, norm.NFC.IsNormalString(s))
		require.LessOrEqual(t, utf8.RuneCountInString(s), MaxNameLength)
		require.Equal(t, strings.TrimSpace(s), s)
		require.Equal(t, strings.Join(strings.Fields(s), " "), s)
		require.NotEmpty(t, s)
	})
}
