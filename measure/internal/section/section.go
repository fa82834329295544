// Package section rewrites one scenario's section of a Markdown report and
// leaves the rest of the document alone. A section lies between
// <!-- name:begin --> and <!-- name:end -->; the hand-written findings inside
// it, between <!-- name-notes:begin --> and <!-- name-notes:end -->, are
// kept across runs.
package section

import (
	"fmt"
	"os"
	"strings"
)

// Markers are one section's delimiters.
type Markers struct{ Begin, End, NotesBegin, NotesEnd string }

// For gives the markers of the section called name.
func For(name string) Markers {
	return Markers{
		Begin: "<!-- " + name + ":begin -->", End: "<!-- " + name + ":end -->",
		NotesBegin: "<!-- " + name + "-notes:begin -->", NotesEnd: "<!-- " + name + "-notes:end -->",
	}
}

// Notes are the findings the document at doc holds between the markers, or "".
func (m Markers) Notes(doc string) string {
	i, j := strings.Index(doc, m.NotesBegin), strings.Index(doc, m.NotesEnd)
	if i < 0 || j < i {
		return ""
	}
	return strings.TrimSpace(doc[i+len(m.NotesBegin) : j])
}

// Write rewrites the section called name of the document at path with what
// render makes of the old findings: in place when the document has the
// section, else before its "## Reproduce" heading, else at its end. The
// document is created when it does not exist.
func Write(path, name string, render func(notes string) string) error {
	m := For(name)
	b, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("reading %s: %w", path, err)
	}
	doc := string(b)
	section := m.Begin + "\n" + render(m.Notes(doc)) + m.End + "\n"
	i, j := strings.Index(doc, m.Begin), strings.Index(doc, m.End)
	switch {
	case i >= 0 && j > i:
		doc = doc[:i] + section + strings.TrimPrefix(doc[j+len(m.End):], "\n")
	case strings.Contains(doc, "\n## Reproduce"):
		k := strings.Index(doc, "\n## Reproduce") + 1
		doc = doc[:k] + section + "\n" + doc[k:]
	default:
		if doc != "" && !strings.HasSuffix(doc, "\n\n") {
			doc = strings.TrimRight(doc, "\n") + "\n\n"
		}
		doc += section
	}
	if err := os.WriteFile(path, []byte(doc), 0o644); err != nil { //nolint:gosec // a document in the repository
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}
