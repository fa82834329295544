package api

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/lienthong/lienthong/payloadcodec"
)

const (
	uiOrigin    = "https://temporal-ui.example.gov.vn"
	devUIOrigin = "http://127.0.0.1:8233"
)

func TestCodecEndpoint(t *testing.T) {
	t.Parallel()
	codec, err := payloadcodec.New(bytes.Repeat([]byte{7}, 32))
	require.NoError(t, err)
	e := newEnv(t, temporalClient(t), func(o *Options) {
		o.Codec = &CodecOptions{Codec: codec, Namespace: testNamespace, Origins: []string{uiOrigin}}
	})
	plain, err := converter.GetDefaultDataConverter().ToPayload(map[string]string{"name": "Nguyễn Văn An"})
	require.NoError(t, err)
	sealed, err := codec.Encode([]*commonpb.Payload{plain})
	require.NoError(t, err)
	body, err := protojson.Marshal(&commonpb.Payloads{Payloads: sealed})
	require.NoError(t, err)

	post := func(t *testing.T, path, origin, bearer string) *http.Response {
		t.Helper()
		req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, e.base+path, bytes.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Namespace", testNamespace)
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		t.Cleanup(func() { _ = resp.Body.Close() })
		return resp
	}
	decodes := func(t *testing.T) int {
		t.Helper()
		rows, err := e.store.AuditOf(context.Background(), "")
		require.NoError(t, err)
		n := 0
		for _, r := range rows {
			if r.Action == "decode payloads" {
				n++
			}
		}
		return n
	}

	t.Run("an admin gets plaintext, and the decode is audited", func(t *testing.T) {
		before := decodes(t)
		resp := post(t, "/codec/decode", uiOrigin, token(t, admin))
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.Equal(t, uiOrigin, resp.Header.Get("Access-Control-Allow-Origin"))
		var got commonpb.Payloads
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		require.NoError(t, protojson.Unmarshal(b, &got))
		require.Len(t, got.GetPayloads(), 1)
		var v map[string]string
		require.NoError(t, converter.GetDefaultDataConverter().FromPayload(got.GetPayloads()[0], &v))
		require.Equal(t, "Nguyễn Văn An", v["name"])
		require.Equal(t, before+1, decodes(t))

		rows, err := e.store.AuditOf(context.Background(), "")
		require.NoError(t, err)
		last := rows[len(rows)-1]
		require.Equal(t, "admin:admin-1", last.Actor)
		require.Contains(t, last.Purpose, "1 payloads")
	})

	t.Run("a supervisor may decode too", func(t *testing.T) {
		require.Equal(t, http.StatusOK, post(t, "/codec/decode", "", token(t, supNational)).StatusCode)
	})

	t.Run("no token is 401, a clerk is 403, and neither is audited", func(t *testing.T) {
		before := decodes(t)
		require.Equal(t, http.StatusUnauthorized, post(t, "/codec/decode", "", "").StatusCode)
		require.Equal(t, http.StatusUnauthorized, post(t, "/codec/decode", "", "not-a-token").StatusCode)
		require.Equal(t, http.StatusForbidden, post(t, "/codec/decode", "", token(t, clerkA)).StatusCode)
		require.Equal(t, before, decodes(t))
	})

	t.Run("a wrong origin gets no CORS grant", func(t *testing.T) {
		resp := post(t, "/codec/decode", "https://evil.example", token(t, admin))
		require.Equal(t, http.StatusForbidden, resp.StatusCode)
		require.Empty(t, resp.Header.Get("Access-Control-Allow-Origin"))

		pre, err := http.NewRequestWithContext(context.Background(), http.MethodOptions, e.base+"/codec/decode", nil)
		require.NoError(t, err)
		pre.Header.Set("Origin", "https://evil.example")
		pre.Header.Set("Access-Control-Request-Method", "POST")
		resp, err = http.DefaultClient.Do(pre)
		require.NoError(t, err)
		_ = resp.Body.Close()
		require.Empty(t, resp.Header.Get("Access-Control-Allow-Origin"))
	})

	t.Run("the UI's preflight is granted", func(t *testing.T) {
		pre, err := http.NewRequestWithContext(context.Background(), http.MethodOptions, e.base+"/codec/decode", nil)
		require.NoError(t, err)
		pre.Header.Set("Origin", uiOrigin)
		pre.Header.Set("Access-Control-Request-Method", "POST")
		pre.Header.Set("Access-Control-Request-Headers", "authorization,content-type,x-namespace")
		resp, err := http.DefaultClient.Do(pre)
		require.NoError(t, err)
		_ = resp.Body.Close()
		require.Equal(t, http.StatusNoContent, resp.StatusCode)
		require.Equal(t, uiOrigin, resp.Header.Get("Access-Control-Allow-Origin"))
		require.Contains(t, resp.Header.Get("Access-Control-Allow-Headers"), "X-Namespace")
	})

	t.Run("without a dev UI origin, the UI's origin alone is no credential", func(t *testing.T) {
		require.Equal(t, http.StatusUnauthorized, post(t, "/codec/decode", uiOrigin, "").StatusCode)
	})

	t.Run("the console's session cookie works from an allowed origin only", func(t *testing.T) {
		withCookie := func(origin, tok string) int {
			req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, e.base+"/codec/decode", bytes.NewReader(body))
			require.NoError(t, err)
			req.Header.Set("Content-Type", "application/json")
			if origin != "" {
				req.Header.Set("Origin", origin)
			}
			req.AddCookie(&http.Cookie{Name: SessionCookie, Value: tok})
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			_ = resp.Body.Close()
			return resp.StatusCode
		}
		before := decodes(t)
		require.Equal(t, http.StatusOK, withCookie(uiOrigin, e.cookieFor(t, token(t, supNational))))
		require.Equal(t, before+1, decodes(t))
		require.Equal(t, http.StatusUnauthorized, withCookie("", e.cookieFor(t, token(t, supNational))), "no origin: not a browser on the UI")
		require.Equal(t, http.StatusForbidden, withCookie("https://evil.example", e.cookieFor(t, token(t, supNational))))
		require.Equal(t, http.StatusForbidden, withCookie(uiOrigin, e.cookieFor(t, token(t, clerkA))), "a clerk's session reads no payloads")
		require.Equal(t, http.StatusUnauthorized, withCookie(uiOrigin, "forged"))
	})

	t.Run("another namespace is refused", func(t *testing.T) {
		req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, e.base+"/codec/decode", bytes.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("X-Namespace", "someone-else")
		req.Header.Set("Authorization", "Bearer "+token(t, admin))
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		_ = resp.Body.Close()
		require.Equal(t, http.StatusNotFound, resp.StatusCode)
	})

	t.Run("encode seals with the codec's key", func(t *testing.T) {
		plainBody, err := protojson.Marshal(&commonpb.Payloads{Payloads: []*commonpb.Payload{plain}})
		require.NoError(t, err)
		req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, e.base+"/codec/encode", bytes.NewReader(plainBody))
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+token(t, admin))
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer func() { _ = resp.Body.Close() }()
		require.Equal(t, http.StatusOK, resp.StatusCode)
		var got commonpb.Payloads
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		require.NoError(t, protojson.Unmarshal(b, &got))
		require.Equal(t, payloadcodec.Encoding, string(got.GetPayloads()[0].GetMetadata()["encoding"]))
	})
}

func TestCodecEndpointUnderDev(t *testing.T) {
	t.Parallel()
	codec, err := payloadcodec.New(bytes.Repeat([]byte{8}, 32))
	require.NoError(t, err)
	e := newEnv(t, temporalClient(t), func(o *Options) {
		o.Codec = &CodecOptions{Codec: codec, Namespace: testNamespace, DevUIOrigin: devUIOrigin}
	})
	sealed, err := codec.Encode([]*commonpb.Payload{{Metadata: map[string][]byte{"encoding": []byte("json/plain")}, Data: []byte(`"x"`)}})
	require.NoError(t, err)
	body, err := json.Marshal(map[string]any{"payloads": []map[string]any{{"metadata": sealed[0].GetMetadata(), "data": sealed[0].GetData()}}})
	require.NoError(t, err)
	do := func(origin string) int {
		req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, e.base+"/codec/decode", bytes.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Origin", origin)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		_ = resp.Body.Close()
		return resp.StatusCode
	}
	t.Run("the embedded UI decodes without a token", func(t *testing.T) {
		require.Equal(t, http.StatusOK, do(devUIOrigin))
		rows, err := e.store.AuditOf(context.Background(), "")
		require.NoError(t, err)
		require.Equal(t, "admin:dev-temporal-web-ui", rows[len(rows)-1].Actor)
	})
	t.Run("any other origin is refused", func(t *testing.T) {
		require.Equal(t, http.StatusForbidden, do("http://127.0.0.1:9999"))
	})
}
