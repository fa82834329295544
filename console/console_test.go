package console

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func get(t *testing.T, h http.Handler, path string) (*httptest.ResponseRecorder, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequestWithContext(context.Background(), http.MethodGet, path, nil))
	b, err := io.ReadAll(rec.Body)
	require.NoError(t, err)
	return rec, string(b)
}

// assets lists the scripts and stylesheets the page names.
func assets(t *testing.T, page string) []string {
	t.Helper()
	var out []string
	for _, m := range regexp.MustCompile(`(?:src|href)="\./(assets/[^"]+)"`).FindAllStringSubmatch(page, -1) {
		out = append(out, "/"+m[1])
	}
	require.NotEmpty(t, out, "the page names its built assets")
	return out
}

func TestConsoleServesThePageAndItsAssets(t *testing.T) {
	t.Parallel()
	h := Handler(Options{})
	resp, body := get(t, h, "/")
	require.Equal(t, http.StatusOK, resp.Code)
	require.Contains(t, body, `<meta charset="utf-8"`)
	require.Contains(t, body, "Liên thông")
	require.Contains(t, resp.Header().Get("Content-Security-Policy"), "default-src 'self'")
	require.Equal(t, "no-cache", resp.Header().Get("Cache-Control"), "a new build is picked up at the next load")
	var sawScript bool
	for _, f := range assets(t, body) {
		resp, content := get(t, h, f)
		require.Equal(t, http.StatusOK, resp.Code, f)
		require.Contains(t, resp.Header().Get("Cache-Control"), "immutable", f)
		if strings.HasSuffix(f, ".js") {
			sawScript = true
			require.Contains(t, resp.Header().Get("Content-Type"), "javascript", f)
			require.Contains(t, content, "/v1/session", "the application talks to the session API")
		}
	}
	require.True(t, sawScript)
}

func TestConsoleUsesNoInlineScriptOrRemoteAsset(t *testing.T) {
	t.Parallel()
	_, page := get(t, Handler(Options{}), "/")
	require.NotRegexp(t, `<script(\s[^>]*)?>[^<]`, page, "no inline script")
	require.NotContains(t, page, "http://")
	require.NotContains(t, page, "https://")
}

func TestDevSamples(t *testing.T) {
	t.Parallel()
	t.Run("served in dev", func(t *testing.T) {
		t.Parallel()
		h := Handler(Options{DevSamples: map[string]json.RawMessage{"birth": json.RawMessage(`{"communeCode":"00004"}`)}})
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, DevSamplesPath, nil))
		require.Equal(t, http.StatusOK, rec.Code)
		require.JSONEq(t, `{"birth":{"communeCode":"00004"}}`, rec.Body.String())
	})
	t.Run("absent elsewhere", func(t *testing.T) {
		t.Parallel()
		rec := httptest.NewRecorder()
		Handler(Options{}).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, DevSamplesPath, nil))
		require.Equal(t, http.StatusNotFound, rec.Code)
	})
}
