package temporalserver

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestUIConfigNamesTheCodecEndpoint(t *testing.T) {
	t.Parallel()
	c := uiConfig(Options{IP: "127.0.0.1", UIPort: 8233, UICodecEndpoint: "http://127.0.0.1:7480/codec"}, "127.0.0.1:7233")
	require.Equal(t, "http://127.0.0.1:7480/codec", c.Codec.Endpoint)
	require.False(t, c.Codec.PassAccessToken, "the embedded UI has no sign-in, so no token to pass")
	require.Equal(t, "127.0.0.1:7233", c.TemporalGRPCAddress)
	require.Empty(t, uiConfig(Options{UIPort: 8233}, "x").Codec.Endpoint, "no endpoint, no codec")
}
