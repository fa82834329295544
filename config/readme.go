package config

import (
	"bytes"
	"errors"
)

// The README's table of settings lies between these two lines, and is
// written by `make readme` (go run ./internal/readme), never by hand.
const (
	TableStart = "<!-- settings table: written by `make readme` from the settings' tags; do not edit -->"
	TableEnd   = "<!-- end of the settings table -->"
)

// ReplaceTable puts table between the markers of doc.
func ReplaceTable(doc, table []byte) ([]byte, error) {
	_, after, ok := bytes.Cut(doc, []byte(TableStart+"\n"))
	if !ok {
		return nil, errors.New("no line " + TableStart)
	}
	before := doc[:len(doc)-len(after)]
	_, rest, ok := bytes.Cut(after, []byte(TableEnd))
	if !ok {
		return nil, errors.New("no line " + TableEnd + " after " + TableStart)
	}
	out := append(bytes.Clone(before), table...)
	out = append(out, TableEnd...)
	return append(out, rest...), nil
}
