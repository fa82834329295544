package section

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestWrite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "report.md")
	render := func(figure string) func(string) string {
		return func(notes string) string {
			return figure + "\n" + For("drain").NotesBegin + "\n" + notes + "\n" + For("drain").NotesEnd + "\n"
		}
	}

	// A new document is created with the section alone.
	require.NoError(t, Write(path, "drain", render("one")))
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, "<!-- drain:begin -->\none\n<!-- drain-notes:begin -->\n\n<!-- drain-notes:end -->\n<!-- drain:end -->\n", string(b))

	// Findings written by hand survive a rerun, and the rest of the document stays.
	doc := "# Report\n\n" + string(b) + "\n## Reproduce\n\nrun it\n"
	doc = strings.Replace(doc, "-->\n\n<!-- drain-notes:end", "-->\nslow at night\n<!-- drain-notes:end", 1)
	require.NoError(t, os.WriteFile(path, []byte(doc), 0o600))
	require.NoError(t, Write(path, "drain", render("two")))
	b, err = os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, "# Report\n\n<!-- drain:begin -->\ntwo\n<!-- drain-notes:begin -->\nslow at night\n<!-- drain-notes:end -->\n<!-- drain:end -->\n\n## Reproduce\n\nrun it\n", string(b))

	// A document without the section gets it before "## Reproduce".
	require.NoError(t, os.WriteFile(path, []byte("# Report\n\n## Reproduce\n"), 0o600))
	require.NoError(t, Write(path, "drain", render("three")))
	b, err = os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, "# Report\n\n<!-- drain:begin -->\nthree\n<!-- drain-notes:begin -->\n\n<!-- drain-notes:end -->\n<!-- drain:end -->\n\n## Reproduce\n", string(b))
}
