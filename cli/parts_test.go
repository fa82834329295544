package cli

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestPartsRefusePlaintext: outside dev no part starts without
// certificates unless plaintext is asked for by name.
func TestPartsRefusePlaintext(t *testing.T) {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	key := base64.StdEncoding.EncodeToString(b)
	args := []string{"--database-url", "postgres://nobody@127.0.0.1:1/none", "--codec-key", key, "--token-key", key,
		"--data-dir", t.TempDir()}
	for _, sub := range []string{"api", "worker", "agency", "temporal"} {
		t.Run(sub, func(t *testing.T) {
			err := Main(context.Background(), append([]string{sub}, args...), "")
			require.ErrorContains(t, err, "--tls-cert-file, --tls-key-file and --tls-ca-file")
			require.ErrorContains(t, err, "--insecure-plaintext")
		})
	}
}
