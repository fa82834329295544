// Package console serves the engine's small web console for clerks and
// supervisors: plain HTML, JavaScript and CSS embedded in the binary, with no
// build step and nothing fetched from elsewhere. The page talks only to the
// REST gateway with the token the user pastes. In dev it may offer demo
// tokens. It must not import any other lienthong package.
package console

import (
	"embed"
	"encoding/json"
	"io/fs"
	"net/http"
	"sort"
)

//go:embed static
var static embed.FS

// Options configure the console.
type Options struct {
	// DevTokens (role label -> token) are offered at /console/dev-tokens;
	// nil outside dev, where that path answers 404.
	DevTokens map[string]string
	// DevSamples (group -> submit request as JSON) prefill the console's
	// sample dossiers with people the dev agencies know; nil outside dev.
	DevSamples map[string]json.RawMessage
}

// DevTokensPath is where the page asks for demo tokens.
const DevTokensPath = "/console/dev-tokens" //nolint:gosec // a URL path, not a credential

// DevSamplesPath is where the page asks for sample dossiers.
const DevSamplesPath = "/console/dev-samples"

// Handler serves the console at / and, in dev, the demo tokens.
func Handler(opts Options) http.Handler {
	sub, err := fs.Sub(static, "static")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	files := http.FileServerFS(sub)
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+DevTokensPath, func(w http.ResponseWriter, r *http.Request) {
		if opts.DevTokens == nil {
			http.NotFound(w, r)
			return
		}
		type tok struct {
			Label string `json:"label"`
			Token string `json:"token"`
		}
		out := make([]tok, 0, len(opts.DevTokens))
		for l, t := range opts.DevTokens {
			out = append(out, tok{l, t})
		}
		sort.Slice(out, func(i, j int) bool { return out[i].Label < out[j].Label })
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_ = json.NewEncoder(w).Encode(out)
	})
	mux.HandleFunc("GET "+DevSamplesPath, func(w http.ResponseWriter, r *http.Request) {
		if opts.DevSamples == nil {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_ = json.NewEncoder(w).Encode(opts.DevSamples)
	})
	mux.Handle("GET /", securityHeaders(files))
	return mux
}

// securityHeaders keeps the page to its own origin: no inline or remote
// scripts, no framing.
func securityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Referrer-Policy", "no-referrer")
		h.ServeHTTP(w, r)
	})
}
