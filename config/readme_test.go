package config_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lienthong/lienthong/config"
)

// TestREADMETableIsCurrent: README's table of settings is the one the
// settings' tags write; `make readme` rewrites it.
func TestREADMETableIsCurrent(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile(filepath.Join("..", "README.md"))
	require.NoError(t, err)
	_, rest, ok := bytes.Cut(doc, []byte(config.TableStart+"\n"))
	require.True(t, ok, "README has the line %s", config.TableStart)
	got, _, ok := bytes.Cut(rest, []byte(config.TableEnd))
	require.True(t, ok, "README has the line %s", config.TableEnd)
	var want bytes.Buffer
	require.NoError(t, config.WriteTable(&want, config.Settings()))
	require.Equal(t, want.String(), string(got), "README's table of settings is stale: run make readme and commit")
}

func TestReplaceTable(t *testing.T) {
	t.Parallel()
	doc := []byte("# x\n\n" + config.TableStart + "\nold\nrows\n" + config.TableEnd + "\n\nafter\n")
	out, err := config.ReplaceTable(doc, []byte("new\n"))
	require.NoError(t, err)
	require.Equal(t, "# x\n\n"+config.TableStart+"\nnew\n"+config.TableEnd+"\n\nafter\n", string(out))
	_, err = config.ReplaceTable([]byte("# no table\n"), nil)
	require.Error(t, err)
}
