// Package console serves the engine's web console for commune clerks,
// agency officers, supervisors and citizens. The application's source is in
// console/web (TypeScript, built by Vite with `make console`); its built
// assets in console/static are committed and embedded here, so running
// lienthong needs no Node. The page talks only to the engine's public REST
// API. In dev it may also offer sample forms. It must not import any other
// lienthong package.
package console

import (
	"embed"
	"encoding/json"
	"io/fs"
	"net/http"
	"strings"
)

//go:embed static
var static embed.FS

// Options configure the console.
type Options struct {
	// DevSamples (group -> submit request as JSON) prefill the console's
	// intake forms with people the dev agencies know; nil outside dev.
	DevSamples map[string]json.RawMessage
}

// DevSamplesPath is where the page asks for sample dossiers.
const DevSamplesPath = "/console/dev-samples"

// Handler serves the console at / and, in dev, the sample forms.
func Handler(opts Options) http.Handler {
	sub, err := fs.Sub(static, "static")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	files := http.FileServerFS(sub)
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+DevSamplesPath, func(w http.ResponseWriter, r *http.Request) {
		if opts.DevSamples == nil {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_ = json.NewEncoder(w).Encode(opts.DevSamples)
	})
	mux.Handle("GET /", securityHeaders(cacheHeaders(files)))
	return mux
}

// cacheHeaders lets browsers keep the hashed assets for good, and makes
// them ask again for the page that names them, so a new build is picked up
// at the next load.
func cacheHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/assets/") {
			w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			w.Header().Set("Cache-Control", "no-cache")
		}
		h.ServeHTTP(w, r)
	})
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
