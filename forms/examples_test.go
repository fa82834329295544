package forms_test

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/lienthong/lienthong/agency/population"
	"github.com/lienthong/lienthong/config"
	"github.com/lienthong/lienthong/forms"
)

var update = flag.Bool("update", false, "rewrite examples/ from the default population")

// The README's examples must name people the default dev population really
// has, or a new user's first dossier would be rejected.
func TestExamplesMatchDefaultPopulation(t *testing.T) {
	def := config.Defaults()
	forms := forms.NewForms(population.Generate(def.AgencySeed, def.SeedPeople))
	at := time.Date(2026, 11, 20, 10, 0, 0, 0, time.FixedZone("ICT", 7*3600))
	// The dev stack's demo clerk works at commune 00004 (Ba Đình, Hà Nội).
	const commune = "00004"
	bi, di := forms.IndexIn(commune)
	require.Equal(t, commune, forms.Birth(bi, at, "").GetCommuneCode())
	require.Equal(t, commune, forms.Death(di, at, "", true).GetForm().GetCommuneCode())
	for name, msg := range map[string]proto.Message{
		"birth.json": forms.Birth(bi, at, "example-birth-1"),
		"death.json": forms.Death(di, at, "example-death-1", true),
	} {
		t.Run(name, func(t *testing.T) {
			want, err := protojson.MarshalOptions{Multiline: true, Indent: "  "}.Marshal(msg)
			require.NoError(t, err)
			path := filepath.Join("..", "examples", name)
			if *update {
				require.NoError(t, os.WriteFile(path, append(want, '\n'), 0o644))
			}
			got, err := os.ReadFile(path)
			require.NoError(t, err)
			// Compare as messages: protojson output is deliberately unstable in spacing.
			back := proto.Clone(msg)
			proto.Reset(back)
			require.NoError(t, protojson.Unmarshal(got, back))
			require.True(t, proto.Equal(msg, back), "examples/%s is stale: go test ./forms -run Examples -update", name)
		})
	}
}
