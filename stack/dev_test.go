package stack

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/lienthong/lienthong/api"
	"github.com/lienthong/lienthong/config"
	enginev1 "github.com/lienthong/lienthong/proto/lienthong/engine/v1"
)

// The console's samples must pass the API's validation and belong to the
// demo clerk's commune, or a first-time user's first click fails.
func TestDevSamplesAreValid(t *testing.T) {
	t.Parallel()
	samples, err := devSamples(config.Defaults())
	require.NoError(t, err)

	var birth enginev1.SubmitBirthRequest
	require.NoError(t, protojson.Unmarshal(samples["birth"], &birth))
	birth.RequestId = "r1"
	require.Empty(t, api.ValidateBirth(&birth, time.Now()))
	require.Equal(t, demoCommune, birth.GetCommuneCode())

	var death enginev1.SubmitDeathRequest
	require.NoError(t, protojson.Unmarshal(samples["death"], &death))
	death.RequestId = "r2"
	require.Empty(t, api.ValidateDeath(&death, time.Now()))
	require.Equal(t, demoCommune, death.GetForm().GetCommuneCode())
	require.Equal(t, enginev1.DeathBundle_DEATH_BUNDLE_FOUR, death.GetForm().GetBundle(), "the sample shows all four procedures")
	require.NotEmpty(t, death.GetForm().GetSurvivorBenefit().GetSurvivors())
}

func TestRedactURL(t *testing.T) {
	t.Parallel()
	require.Equal(t, "postgres://u:***@h:5432/db", RedactURL("postgres://u:secret@h:5432/db"))
	require.Equal(t, "postgres://u@h/db", RedactURL("postgres://u@h/db"))
}

func TestDevCodec(t *testing.T) {
	t.Parallel()
	cfg := config.Defaults()
	cfg.CodecKey = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
	t.Run("the embedded UI is pointed at the API's codec endpoint", func(t *testing.T) {
		t.Parallel()
		require.Equal(t, "http://127.0.0.1:7480/codec", devCodecEndpoint(cfg))
		c := cfg
		c.APIHTTPAddr = "127.0.0.1:0"
		require.Empty(t, devCodecEndpoint(c), "a random port is not known before the API listens")
		c = cfg
		c.CodecEndpoint = false
		require.Empty(t, devCodecEndpoint(c))
	})
	t.Run("the UI's origin is trusted only on loopback", func(t *testing.T) {
		t.Parallel()
		opts, err := devCodec(cfg, "http://127.0.0.1:8233")
		require.NoError(t, err)
		require.Equal(t, "http://127.0.0.1:8233", opts.DevUIOrigin)
		wide := cfg
		wide.ListenIP = "0.0.0.0"
		opts, err = devCodec(wide, "http://0.0.0.0:8233")
		require.NoError(t, err)
		require.Empty(t, opts.DevUIOrigin, "a stack others can reach needs tokens")
		wideAPI := cfg
		wideAPI.APIHTTPAddr = "0.0.0.0:7480"
		opts, err = devCodec(wideAPI, "http://127.0.0.1:8233")
		require.NoError(t, err)
		require.Empty(t, opts.DevUIOrigin, "an API others can reach needs tokens")
		off := cfg
		off.CodecEndpoint = false
		opts, err = devCodec(off, "http://127.0.0.1:8233")
		require.NoError(t, err)
		require.Nil(t, opts)
	})
}
