package cli

import (
	"bytes"
	"context"
	"io"
	"strings"
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

// noEnv is an empty environment.
func noEnv(string) string { return "" }

func TestCLIAcceptsFlagsAfterArguments(t *testing.T) {
	t.Parallel()
	env := map[string]string{"LIENTHONG_API_GRPC_ADDR": "127.0.0.1:9999"}
	getenv := func(k string) string { return env[k] }
	kctx, err := parse(context.Background(), []string{"dossier", "show", "00004-260303-0001", "--json", "--purpose", "kiểm tra"},
		Env{Getenv: getenv, Stdout: io.Discard})
	require.NoError(t, err)
	show := kctx.Selected().Target.Addr().Interface().(*dossierShowCmd)
	require.Equal(t, "00004-260303-0001", show.Code)
	require.True(t, show.AsJSON)
	require.Equal(t, "kiểm tra", show.Purpose)
	require.Equal(t, "127.0.0.1:9999", show.APIGRPCAddr, "the environment still fills the config")

	kctx, err = parse(context.Background(), []string{"stuck", "--api-grpc-addr", "127.0.0.1:7400"}, Env{Getenv: getenv, Stdout: io.Discard})
	require.NoError(t, err)
	require.Equal(t, "127.0.0.1:7400", kctx.Selected().Target.Addr().Interface().(*stuckCmd).APIGRPCAddr, "a flag beats the environment")
}

func TestTokenHelpListsOnlyTokenSettings(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	require.NoError(t, Run(context.Background(), []string{"token", "-h"}, Env{Getenv: noEnv, Stdout: &out}))
	help := strings.Join(strings.Fields(out.String()), " ")
	for _, want := range []string{"--role", "--ttl=DURATION", "(default: 24h)", "--token-key", "LIENTHONG_TOKEN_KEY_FILE", "--data-dir=DIR", "default: .lienthong", "--oidc-client-id"} {
		require.Contains(t, help, want)
	}
	for _, not := range []string{"--seed-people", "--database-url", "--temporal-shards", "--log-level", "--api-grpc-addr"} {
		require.NotContains(t, help, not)
	}
}

func TestCLIIgnoresOtherCommandsSettings(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	env := map[string]string{"LIENTHONG_SEED_PEOPLE": "many", "LIENTHONG_TOKEN_KEY": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="}
	getenv := func(k string) string { return env[k] }
	require.NoError(t, Run(context.Background(), []string{"token", "--role", "admin"}, Env{Getenv: getenv, Stdout: &out}))
	require.NotEmpty(t, strings.TrimSpace(out.String()), "a token is printed")

	err := Run(context.Background(), []string{"agency"}, Env{Getenv: getenv, Stdout: &out})
	require.ErrorContains(t, err, `--seed-people: LIENTHONG_SEED_PEOPLE: got "many", expected a whole number`)
}

func TestCommandsAreTheTable(t *testing.T) {
	t.Parallel()
	var names []string
	for _, c := range Commands() {
		names = append(names, c.Name)
		require.NotEmpty(t, c.Summary, c.Name)
	}
	require.Equal(t, []string{"dev", "temporal", "api", "worker", "agency", "migrate", "audit", "token", "dossier", "stuck", "trace", "loadgen", "bench", "chaos", "version"}, names)
}
