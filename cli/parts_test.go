package cli

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"io"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestPartsRefusePlaintext: outside dev no part starts without
// certificates unless plaintext is asked for by name.
func TestPartsRefusePlaintext(t *testing.T) {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	key := base64.StdEncoding.EncodeToString(b)
	// In the environment, since each part reads only the settings it needs.
	env := map[string]string{"LIENTHONG_DATABASE_URL": "postgres://nobody@127.0.0.1:1/none", "LIENTHONG_CODEC_KEY": key,
		"LIENTHONG_TOKEN_KEY": key, "LIENTHONG_DATA_DIR": t.TempDir()}
	for _, sub := range []string{"api", "worker", "agency", "temporal"} {
		t.Run(sub, func(t *testing.T) {
			err := Run(context.Background(), []string{sub}, Env{Getenv: func(k string) string { return env[k] }, Stdout: io.Discard})
			require.ErrorContains(t, err, "--tls-cert-file, --tls-key-file and --tls-ca-file")
			require.ErrorContains(t, err, "--insecure-plaintext")
		})
	}
}
