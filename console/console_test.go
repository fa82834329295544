package console

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
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

func TestConsoleServesThePage(t *testing.T) {
	t.Parallel()
	h := Handler(Options{})
	resp, body := get(t, h, "/")
	require.Equal(t, http.StatusOK, resp.Code)
	require.Contains(t, body, `<meta charset="utf-8">`)
	require.Contains(t, body, "Liên thông")
	require.Contains(t, resp.Header().Get("Content-Security-Policy"), "default-src 'self'")
	for _, f := range []string{"/app.js", "/style.css"} {
		resp, _ := get(t, h, f)
		require.Equal(t, http.StatusOK, resp.Code, f)
	}
	resp, _ = get(t, h, DevTokensPath)
	require.Equal(t, http.StatusNotFound, resp.Code, "no demo tokens outside dev")
}

func TestConsoleOffersDevTokens(t *testing.T) {
	t.Parallel()
	h := Handler(Options{DevTokens: map[string]string{"supervisor": "tok-s", "clerk (00004)": "tok-c"}})
	resp, body := get(t, h, DevTokensPath)
	require.Equal(t, http.StatusOK, resp.Code)
	require.Equal(t, "no-store", resp.Header().Get("Cache-Control"))
	var got []struct{ Label, Token string }
	require.NoError(t, json.NewDecoder(strings.NewReader(body)).Decode(&got))
	require.Len(t, got, 2)
	require.Equal(t, "clerk (00004)", got[0].Label)
	require.Equal(t, "tok-c", got[0].Token)
}

func TestConsoleUsesNoInlineScriptOrRemoteAsset(t *testing.T) {
	t.Parallel()
	_, page := get(t, Handler(Options{}), "/")
	require.NotContains(t, page, "<script>")
	require.NotContains(t, page, "http://")
	require.NotContains(t, page, "https://")
	_, js := get(t, Handler(Options{}), "/app.js")
	require.NotContains(t, js, "innerHTML")
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
