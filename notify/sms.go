package notify

import "unicode/utf16"

// SMS segment arithmetic (3GPP TS 23.038 and 23.040). A text in the GSM 7-bit
// alphabet takes 160 characters in one SMS, 153 per part of a longer one
// (the rest of each part is the concatenation header); an extension
// character (€, [, ], ...) takes two. Any other character, and every
// Vietnamese letter with a diacritic is one, makes the whole text UCS-2:
// 70 UTF-16 units in one SMS, 67 per part.
const (
	gsmSingle  = 160
	gsmPart    = 153
	ucs2Single = 70
	ucs2Part   = 67
)

// Encodings a segment count is in.
const (
	EncodingGSM7 = "GSM-7"
	EncodingUCS2 = "UCS-2"
)

const gsmBasic = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
	"¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"

const gsmExtension = "\f^{}\\[~]|€"

var gsmWidth = func() map[rune]int {
	m := map[rune]int{}
	for _, r := range gsmBasic {
		m[r] = 1
	}
	for _, r := range gsmExtension {
		m[r] = 2
	}
	return m
}()

// Segments says how a text travels as SMS: its encoding and how many
// messages the network bills and the phone joins. An empty text is one.
func Segments(text string) (encoding string, segments int) {
	septets := 0
	for _, r := range text {
		w, ok := gsmWidth[r]
		if !ok {
			return EncodingUCS2, parts(len(utf16.Encode([]rune(text))), ucs2Single, ucs2Part)
		}
		septets += w
	}
	return EncodingGSM7, parts(septets, gsmSingle, gsmPart)
}

func parts(units, single, part int) int {
	if units <= single {
		return 1
	}
	return (units + part - 1) / part
}
