package agency_test

import (
	"crypto/sha256"
	"encoding/hex"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"

	"github.com/lienthong/lienthong/agency"
	agencyv1 "github.com/lienthong/lienthong/proto/lienthong/agency/v1"
)

func TestPortal(t *testing.T) {
	t.Parallel()
	a := start(t, agency.Options{Name: "portal"})
	sum := sha256.Sum256([]byte("+84912345678"))
	phoneHash := hex.EncodeToString(sum[:])
	publish := func(t *testing.T, version int64, status string) *agencyv1.PublishStatusResponse {
		t.Helper()
		resp, err := a.portal.PublishStatus(a.ctx(t), &agencyv1.PublishStatusRequest{
			Status: &agencyv1.PortalStatus{
				DossierCode: "00004-250701-0042", Version: version, Group: "birth", Status: status,
				Steps: []*agencyv1.PortalStep{{Step: "birth_registration", Agency: "justice", Status: status}},
			},
			PhoneHash: phoneHash,
		})
		require.NoError(t, err)
		return resp
	}

	t.Run("keeps the newest version", func(t *testing.T) {
		require.True(t, publish(t, 2, "IN_PROGRESS").GetApplied())
		late := publish(t, 1, "RECEIVED")
		require.False(t, late.GetApplied())
		require.EqualValues(t, 2, late.GetStoredVersion())
		again := publish(t, 2, "IN_PROGRESS")
		require.False(t, again.GetApplied())
		newer := publish(t, 3, "COMPLETED")
		require.True(t, newer.GetApplied())
		require.EqualValues(t, 3, newer.GetStoredVersion())
	})

	t.Run("answers the citizen by code and phone", func(t *testing.T) {
		for _, phone := range []string{"0912345678", "+84912345678", "84 912 345 678", "(+84) 912.345.678", "0912-345-678"} {
			resp, err := a.portal.LookupStatus(a.ctx(t), &agencyv1.LookupStatusRequest{DossierCode: "00004-250701-0042", Phone: phone})
			require.NoError(t, err, phone)
			require.EqualValues(t, 3, resp.GetStatus().GetVersion())
			require.Equal(t, "COMPLETED", resp.GetStatus().GetStatus())
		}
	})

	t.Run("a wrong phone looks like an unknown code", func(t *testing.T) {
		_, wrongPhone := a.portal.LookupStatus(a.ctx(t), &agencyv1.LookupStatusRequest{DossierCode: "00004-250701-0042", Phone: "0912345679"})
		requireCode(t, codes.NotFound, wrongPhone)
		_, unknown := a.portal.LookupStatus(a.ctx(t), &agencyv1.LookupStatusRequest{DossierCode: "00004-250701-9999", Phone: "0912345678"})
		requireCode(t, codes.NotFound, unknown)
		require.Equal(t, unknown.Error(), wrongPhone.Error())
	})

	t.Run("refuses malformed input", func(t *testing.T) {
		_, err := a.portal.LookupStatus(a.ctx(t), &agencyv1.LookupStatusRequest{DossierCode: "00004-250701-0042", Phone: "call me"})
		requireCode(t, codes.InvalidArgument, err)
		_, err = a.portal.PublishStatus(a.ctx(t), &agencyv1.PublishStatusRequest{
			Status: &agencyv1.PortalStatus{DossierCode: "x", Version: 1}, PhoneHash: "+84912345678",
		})
		requireCode(t, codes.InvalidArgument, err)
	})
}
