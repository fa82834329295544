package agency

import (
	"context"
	"crypto/subtle"
	"errors"
	"log/slog"
	"regexp"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"google.golang.org/protobuf/proto"

	"github.com/lienthong/lienthong/agency/internal/agencydb"
	"github.com/lienthong/lienthong/civil"
	agencyv1 "github.com/lienthong/lienthong/proto/lienthong/agency/v1"
)

// portal is the national public-service portal's status feed. It keeps each
// dossier's newest status and answers citizens who know the dossier code and
// the applicant's phone; it keeps no cases.
type portal struct {
	agencyv1.UnimplementedPortalServiceServer
	pool *pgxpool.Pool
	log  *slog.Logger
}

var phoneHashPattern = regexp.MustCompile(`^[0-9a-f]{64}$`)

// PublishStatus stores a dossier's status unless a newer version is stored.
func (p *portal) PublishStatus(ctx context.Context, req *agencyv1.PublishStatusRequest) (*agencyv1.PublishStatusResponse, error) {
	var v violations
	st := req.GetStatus()
	if st == nil {
		v.add("status", "is required")
	} else {
		v.require("status.dossier_code", st.GetDossierCode())
		if st.GetVersion() <= 0 {
			v.add("status.version", "must be positive")
		}
	}
	if !phoneHashPattern.MatchString(req.GetPhoneHash()) {
		v.add("phone_hash", "must be the lowercase hex SHA-256 of the phone number in E.164 form")
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	body, err := proto.Marshal(st)
	if err != nil {
		return nil, err
	}
	out := &agencyv1.PublishStatusResponse{}
	q := agencydb.New(p.pool)
	out.StoredVersion, err = q.PublishStatus(ctx, agencydb.PublishStatusParams{
		DossierCode: st.GetDossierCode(), Version: st.GetVersion(), PhoneHash: req.GetPhoneHash(), Status: body,
		PublishedAt: time.Now(),
	})
	switch {
	case err == nil:
		out.Applied = true
	case errors.Is(err, pgx.ErrNoRows):
		// A newer version is stored; the late one is dropped, and that is fine.
		if out.StoredVersion, err = q.StoredStatusVersion(ctx, st.GetDossierCode()); err != nil {
			return nil, dbError(err, "publishing status")
		}
	default:
		return nil, dbError(err, "publishing status")
	}
	p.log.Debug("status published", "dossier_code", st.GetDossierCode(), "version", st.GetVersion(), "applied", out.Applied)
	return out, nil
}

// LookupStatus answers a citizen. A wrong phone gets the same NotFound as an
// unknown code, so the portal does not reveal which dossiers exist.
func (p *portal) LookupStatus(ctx context.Context, req *agencyv1.LookupStatusRequest) (*agencyv1.LookupStatusResponse, error) {
	var v violations
	v.require("dossier_code", req.GetDossierCode())
	phone, perr := civil.NormalizePhone(req.GetPhone())
	ok := perr == nil
	if !ok {
		v.add("phone", "must be a Vietnamese phone number, e.g. 0912345678 or +84912345678")
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	stored, err := agencydb.New(p.pool).StoredStatus(ctx, req.GetDossierCode())
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return nil, dbError(err, "looking up status")
	}
	given := civil.PhoneHash(phone)
	if err != nil || subtle.ConstantTimeCompare([]byte(given), []byte(stored.PhoneHash)) != 1 {
		return nil, notFound("no dossier matches this code and phone number")
	}
	st := &agencyv1.PortalStatus{}
	if err := proto.Unmarshal(stored.Status, st); err != nil {
		return nil, err
	}
	return &agencyv1.LookupStatusResponse{Status: st}, nil
}
