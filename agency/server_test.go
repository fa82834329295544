package agency_test

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"

	"github.com/lienthong/lienthong/agency"
	"github.com/lienthong/lienthong/internal/pgtest"
)

func TestServer(t *testing.T) {
	t.Parallel()

	t.Run("reflection lists each agency's services", func(t *testing.T) {
		t.Parallel()
		pool := pgtest.New(t)
		for _, tc := range []struct {
			name string
			want []string
		}{
			{"justice", []string{"lienthong.agency.v1.AdminService", "lienthong.agency.v1.CaseService", "lienthong.agency.v1.JusticeService", "grpc.health.v1.Health"}},
			{"police", []string{"lienthong.agency.v1.CaseService", "lienthong.agency.v1.PoliceService"}},
			{"insurance", []string{"lienthong.agency.v1.CaseService", "lienthong.agency.v1.InsuranceService"}},
			{"portal", []string{"lienthong.agency.v1.AdminService", "lienthong.agency.v1.PortalService"}},
		} {
			a := start(t, agency.Options{Name: tc.name, Pool: pool})
			stream, err := reflectionpb.NewServerReflectionClient(a.conn).ServerReflectionInfo(t.Context())
			require.NoError(t, err)
			require.NoError(t, stream.Send(&reflectionpb.ServerReflectionRequest{MessageRequest: &reflectionpb.ServerReflectionRequest_ListServices{}}))
			resp, err := stream.Recv()
			require.NoError(t, err)
			var names []string
			for _, s := range resp.GetListServicesResponse().GetService() {
				names = append(names, s.GetName())
			}
			for _, w := range tc.want {
				require.Contains(t, names, w, tc.name)
			}
			if tc.name == "portal" {
				require.False(t, slices.Contains(names, "lienthong.agency.v1.CaseService"), "the portal keeps no cases")
			}
		}
	})

	t.Run("options are checked", func(t *testing.T) {
		t.Parallel()
		_, err := agency.Start(t.Context(), agency.Options{Name: "tax", ListenAddr: "127.0.0.1:0"})
		require.ErrorContains(t, err, "not one of")
		require.ErrorContains(t, err, "API key")
		require.Equal(t, []string{"justice", "police", "insurance", "portal"}, agency.Names())
	})

	t.Run("stop is idempotent", func(t *testing.T) {
		t.Parallel()
		a := start(t, agency.Options{Name: "portal"})
		a.srv.Stop()
		a.srv.Stop()
	})
}
