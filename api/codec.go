package api

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/lienthong/lienthong/auth"
)

// CodecPath is where the codec endpoint is served: POST CodecPath+"/decode"
// and CodecPath+"/encode", Temporal's remote codec protocol.
const CodecPath = "/codec"

// CodecOptions turn on the codec endpoint, through which the Temporal Web UI
// shows histories decrypted to the people allowed to read them.
type CodecOptions struct {
	// Codec is the payload codec the workers use.
	Codec converter.PayloadCodec
	// Namespace is the only namespace decoded; a request naming another in
	// X-Namespace is refused, since its payloads are not ours.
	Namespace string
	// Origins are the Web UI origins a browser may call from (CORS).
	Origins []string
	// DevUIOrigin, set only by dev, lets a browser on that one origin decode
	// without a token: the embedded Web UI has no sign-in to take one from.
	DevUIOrigin string
}

// codecRoles may read decoded payloads: they are personal data.
var codecRoles = []auth.Role{auth.RoleAdmin, auth.RoleSupervisor}

// maxCodecBody bounds one request: a page of a history's payloads.
const maxCodecBody = 4 << 20

// codecHandler wraps the SDK's codec handler with CORS for the allowed
// origins, a bearer token of an admin or supervisor, and an audit row for
// every decode.
func (s *Server) codecHandler(opts CodecOptions) http.Handler {
	inner := converter.NewPayloadCodecHTTPHandler(opts.Codec)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		if origin != "" {
			if !slices.Contains(opts.Origins, origin) && origin != opts.DevUIOrigin {
				// No grant: a page on another origin must not read personal data.
				http.Error(w, "origin not allowed", http.StatusForbidden)
				return
			}
			h := w.Header()
			h.Set("Access-Control-Allow-Origin", origin)
			h.Set("Access-Control-Allow-Credentials", "true")
			h.Set("Access-Control-Allow-Methods", "POST, OPTIONS")
			h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, X-Namespace")
			h.Add("Vary", "Origin")
		}
		if r.Method == http.MethodOptions {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		if r.Method != http.MethodPost {
			http.Error(w, "use POST", http.StatusMethodNotAllowed)
			return
		}
		if ns := r.Header.Get("X-Namespace"); ns != "" && ns != opts.Namespace {
			http.Error(w, fmt.Sprintf("namespace %q is not served here", ns), http.StatusNotFound)
			return
		}
		c, status, msg := s.codecCaller(r, opts)
		if status != 0 {
			http.Error(w, msg, status)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxCodecBody))
		if err != nil {
			http.Error(w, "reading the request: "+err.Error(), http.StatusBadRequest)
			return
		}
		if strings.HasSuffix(r.URL.Path, "/decode") {
			var ps commonpb.Payloads
			if err := protojson.Unmarshal(body, &ps); err != nil {
				http.Error(w, "expected a JSON Payloads message: "+err.Error(), http.StatusBadRequest)
				return
			}
			// The audit row is written before any plaintext leaves, so a
			// failed write fails the request.
			ctx := auth.NewContext(r.Context(), c)
			purpose := fmt.Sprintf("Temporal codec, namespace %s, %d payloads", opts.Namespace, len(ps.GetPayloads()))
			if err := s.audit(ctx, "decode payloads", "", purpose); err != nil {
				s.log.Error("codec: writing the audit row", "error", err)
				http.Error(w, "the decode could not be audited", http.StatusInternalServerError)
				return
			}
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		inner.ServeHTTP(w, r)
	})
}

// codecCaller authenticates a codec request: a valid admin or supervisor
// token, or no token from the dev UI's own origin. A browser on an allowed
// origin may instead send the console's session cookie (the Web UI's
// "include credentials"): a supervisor signed in to the console then reads
// histories in the UI. The origin check above stands in for a CSRF token,
// which the UI cannot send. A non-zero status refuses it.
func (s *Server) codecCaller(r *http.Request, opts CodecOptions) (auth.Claims, int, string) {
	scheme, tok, _ := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " ")
	tok = strings.TrimSpace(tok)
	if !strings.EqualFold(scheme, "bearer") || tok == "" {
		origin := r.Header.Get("Origin")
		if opts.DevUIOrigin != "" && origin == opts.DevUIOrigin {
			return auth.Claims{Subject: "dev-temporal-web-ui", Role: auth.RoleAdmin}, 0, ""
		}
		bs, ok := s.browserSessionOf(r)
		if !ok || !slices.Contains(opts.Origins, origin) {
			return auth.Claims{}, http.StatusUnauthorized, "a bearer token is required: send `Authorization: Bearer <token>` of an admin or supervisor, or sign in to the console as one and call from an allowed Web UI origin"
		}
		tok = bs.Token
	}
	c, err := s.tokens.Verify(r.Context(), tok)
	if err != nil {
		return auth.Claims{}, http.StatusUnauthorized, "the token is not valid: " + err.Error()
	}
	if !slices.Contains(codecRoles, c.Role) {
		return auth.Claims{}, http.StatusForbidden, fmt.Sprintf("role %s may not decode payloads: they hold personal data", c.Role)
	}
	return c, 0, ""
}
