package civil

import (
	"errors"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// MaxNameLength is the longest full name accepted, in characters (runes).
const MaxNameLength = 100

// Reasons ValidateName rejects a name. Their text is meant for the person typing the
// name, after the field's label: "child's full name must be Unicode NFC".
var (
	ErrNameEmpty      = errors.New("must not be empty")
	ErrNameTooLong    = errors.New("must be at most 100 characters")
	ErrNameNotNFC     = errors.New("must be Unicode NFC")
	ErrNameSpaces     = errors.New("must not start or end with a space or contain two spaces in a row")
	ErrNameCharacters = errors.New("must contain only letters and spaces")
)

// ValidateName checks a Vietnamese full name as civil status records it: letters of any
// script (Vietnamese diacritics included) in words separated by single spaces, in Unicode
// NFC, at most MaxNameLength characters. One word is enough.
//
// An apostrophe is allowed between two letters: names of the Ê Đê, Gia Rai and other
// Central Highlands peoples are written with one (H'Hen Niê), and refusing them would
// refuse real births.
//
// The name is checked as given, not trimmed or normalised: the stored name must be the
// checked one, so the caller normalises (norm.NFC, strings.Fields) before asking.
func ValidateName(name string) error {
	if strings.TrimSpace(name) == "" {
		return ErrNameEmpty
	}
	if !utf8.ValidString(name) {
		return ErrNameCharacters
	}
	if utf8.RuneCountInString(name) > MaxNameLength {
		return ErrNameTooLong
	}
	if !norm.NFC.IsNormalString(name) {
		return ErrNameNotNFC
	}
	runes := []rune(name)
	for i, r := range runes {
		switch {
		case r == ' ':
			if i == 0 || i == len(runes)-1 || runes[i-1] == ' ' {
				return ErrNameSpaces
			}
		case unicode.IsLetter(r):
		case unicode.In(r, unicode.Mn, unicode.Mc):
			// Some scripts keep combining marks even in NFC; a mark must follow a letter.
			if i == 0 || !(unicode.IsLetter(runes[i-1]) || unicode.In(runes[i-1], unicode.Mn, unicode.Mc)) {
				return ErrNameCharacters
			}
		case r == '\'':
			if i == 0 || i == len(runes)-1 || !unicode.IsLetter(runes[i-1]) || !unicode.IsLetter(runes[i+1]) {
				return ErrNameCharacters
			}
		default:
			if unicode.IsSpace(r) {
				return ErrNameSpaces
			}
			return ErrNameCharacters
		}
	}
	return nil
}
