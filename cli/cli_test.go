package cli

import (
	"flag"
	"testing"

	"github.com/stretchr/testify/require"

	enginev1 "github.com/lienthong/lienthong/proto/lienthong/engine/v1"
)

func TestParseSubmission(t *testing.T) {
	t.Parallel()
	t.Run("group hint", func(t *testing.T) {
		m, err := parseSubmission([]byte(`{"group": "death", "requestId": "r-1", "form": {"communeCode": "00004"}}`))
		require.NoError(t, err)
		req, ok := m.(*enginev1.SubmitDeathRequest)
		require.True(t, ok)
		require.Equal(t, "r-1", req.GetRequestId())
		require.Equal(t, "00004", req.GetForm().GetCommuneCode())
	})
	t.Run("form tells a birth", func(t *testing.T) {
		m, err := parseSubmission([]byte(`{"commune_code": "00004", "form": {"child": {"full_name": "An"}}}`))
		require.NoError(t, err)
		req, ok := m.(*enginev1.SubmitBirthRequest)
		require.True(t, ok)
		require.Equal(t, "An", req.GetForm().GetChild().GetFullName())
		require.Regexp(t, `^file-[0-9a-f]{32}$`, req.GetRequestId(), "a missing id comes from the file")
		again, err := parseSubmission([]byte(`{"commune_code": "00004", "form": {"child": {"full_name": "An"}}}`))
		require.NoError(t, err)
		require.Equal(t, req.GetRequestId(), again.(*enginev1.SubmitBirthRequest).GetRequestId())
	})
	t.Run("form tells a death", func(t *testing.T) {
		m, err := parseSubmission([]byte(`{"form": {"deceased": {"fullName": "Lê"}}}`))
		require.NoError(t, err)
		_, ok := m.(*enginev1.SubmitDeathRequest)
		require.True(t, ok)
	})
	for name, in := range map[string]string{
		"not JSON":      `nope`,
		"no hint":       `{"form": {}}`,
		"unknown field": `{"group": "birth", "surprise": 1}`,
		"bad group":     `{"group": 3}`,
	} {
		t.Run(name, func(t *testing.T) {
			_, err := parseSubmission([]byte(in))
			require.Error(t, err)
		})
	}
}

func TestParseCLIAcceptsFlagsAfterArguments(t *testing.T) {
	t.Setenv("LIENTHONG_API_GRPC_ADDR", "127.0.0.1:9999")
	var f apiFlags
	var purpose string
	cfg, rest, err := parseCLI("dossier show", []string{"00004-260303-0001", "--json", "--purpose", "kiểm tra"}, "usage", func(fs *flag.FlagSet) {
		f.bind(fs)
		fs.StringVar(&purpose, "purpose", "", "")
	})
	require.NoError(t, err)
	require.Equal(t, []string{"00004-260303-0001"}, rest)
	require.True(t, f.asJSON)
	require.Equal(t, "kiểm tra", purpose)
	require.Equal(t, "127.0.0.1:9999", cfg.APIGRPCAddr, "the environment still fills the config")

	cfg, _, err = parseCLI("stuck", []string{"--api-grpc-addr", "127.0.0.1:7400"}, "usage", f.bind)
	require.NoError(t, err)
	require.Equal(t, "127.0.0.1:7400", cfg.APIGRPCAddr, "a flag beats the environment")
}
