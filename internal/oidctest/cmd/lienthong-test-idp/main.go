// Command lienthong-test-idp runs the test OpenID Connect provider on its
// own, for the console's browser tests: a clerk of Ba Đình, a clerk whose
// account lacks the commune, and a Police officer sign in to the console
// registered at --console. It is a test program, never deployed.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/lienthong/lienthong/internal/oidctest"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:18797", "where to listen; the issuer is http://<addr>")
	console := flag.String("console", "http://127.0.0.1:18780", "the console's public URL (its callback and logout return are registered)")
	clientID := flag.String("client-id", "lienthong-console", "the console's client id")
	secret := flag.String("client-secret", "test-console-secret", "the console's client secret")
	alg := flag.String("alg", "RS256", "RS256 or ES256")
	accessTTL := flag.Duration("access-ttl", 5*time.Minute, "lifetime of ID and access tokens")
	flag.Parse()

	p, err := oidctest.Start(*addr, oidctest.Options{
		Alg: *alg, AccessTTL: *accessTTL,
		Clients: []oidctest.Client{{ID: *clientID, Secret: *secret,
			RedirectURIs: []string{*console + "/v1/session/oidc/callback"}, PostLogoutURIs: []string{*console + "/"}}},
		Users: []oidctest.User{
			{ID: "lan.nguyen", Label: "Nguyễn Thị Lan — một cửa Phường Ba Đình", Claims: map[string]any{
				"roles": []any{"offline_access", "clerk"}, "commune": "00004", "province": "001", "name": "Nguyễn Thị Lan"}},
			{ID: "tam.le", Label: "Lê Văn Tám — một cửa (thiếu mã xã)", Claims: map[string]any{"roles": []any{"clerk"}, "name": "Lê Văn Tám"}},
			{ID: "binh.tran", Label: "Trần Văn Bình — Công an", Claims: map[string]any{"roles": []any{"officer"}, "agency": "police", "name": "Trần Văn Bình"}},
		},
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "lienthong-test-idp:", err)
		os.Exit(1)
	}
	fmt.Println("lienthong-test-idp: issuer", p.Issuer())
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	_ = p.Close()
}
