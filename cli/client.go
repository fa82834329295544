package cli

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/lienthong/lienthong/auth"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/lienthong/lienthong/civil"
	"github.com/lienthong/lienthong/config"
	"github.com/lienthong/lienthong/stack"
)

// The operator commands talk gRPC to the engine API (--api-grpc-addr) with a
// bearer token from --token or LIENTHONG_TOKEN. They print readable tables,
// or protojson with --json for scripts.

// apiClient is what every API command shares: where the API is, how its
// certificate is trusted, and the token.
type apiClient struct {
	config.Data
	config.APIGRPC
	config.TLS
	Token  string `name:"token" env:"LIENTHONG_TOKEN" secret:"" help:"API bearer token; lienthong token issues one"`
	AsJSON bool   `name:"json" help:"print the response as JSON"`
}

func dialAPI(c apiClient) (*grpc.ClientConn, error) {
	cfg := config.From(c)
	tok := c.Token
	if tok == "" {
		return nil, errors.New("--token (or LIENTHONG_TOKEN): required; issue one with `lienthong token --role ...`")
	}
	creds, err := stack.APICredentials(cfg)
	if err != nil {
		return nil, err
	}
	conn, err := grpc.NewClient(cfg.APIGRPCAddr, grpc.WithTransportCredentials(creds),
		grpc.WithPerRPCCredentials(auth.Bearer(tok)))
	if err != nil {
		return nil, fmt.Errorf("--api-grpc-addr: %w", err)
	}
	return conn, nil
}

// callError makes a gRPC failure readable, with one line per bad field.
func callError(doing string, err error) error {
	st, ok := status.FromError(err)
	if !ok {
		return fmt.Errorf("%s: %w", doing, err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s: %s", doing, st.Code(), st.Message())
	for _, d := range st.Details() {
		if br, ok := d.(*errdetails.BadRequest); ok {
			for _, fv := range br.GetFieldViolations() {
				fmt.Fprintf(&b, "\n  %s: %s", fv.GetField(), fv.GetDescription())
			}
		}
	}
	return errors.New(b.String())
}

func printJSON(w io.Writer, m proto.Message) error {
	b, err := protojson.MarshalOptions{Multiline: true, Indent: "  "}.Marshal(m)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(w, string(b))
	return err
}

func when(ts *timestamppb.Timestamp) string {
	if ts == nil {
		return "-"
	}
	return ts.AsTime().In(civil.Zone).Format("2006-01-02 15:04")
}

func enumName(s fmt.Stringer, prefix string) string {
	return strings.ToLower(strings.TrimPrefix(s.String(), prefix))
}
