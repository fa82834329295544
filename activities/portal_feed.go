package activities

import (
	"cmp"
	"context"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/lienthong/lienthong/dossier"
	agencyv1 "github.com/lienthong/lienthong/proto/lienthong/agency/v1"
	"github.com/lienthong/lienthong/store"
)

// PortalFeed publishes each dossier's newest status from the read model to
// the portal. The portal shows only a dossier's newest version, so the feed
// sends the read model's current state, never a backlog of versions: after
// an outage a dossier costs one call, however many versions it went
// through. It runs in every worker, outside Temporal, so the portal never
// waits for workflow tasks behind new agency work; a dossier is leased to
// one feed at a time, so its versions reach the portal in order, and a feed
// that dies mid-call leaves a version the portal takes again, idempotently.
type PortalFeed struct {
	Store   *store.Store
	Portal  agencyv1.PortalServiceClient
	Metrics *Metrics
	Logger  *slog.Logger

	// Batch is how many dossiers one claim takes and publishes at once (32).
	Batch int
	// Poll is how long an idle feed waits when no news wakes it (1 s).
	Poll time.Duration
	// Lease is how long a claimed dossier is the feed's (15 s): longer than
	// a call, so two feeds never publish one dossier at once, and short, as
	// it is how long a dossier of a worker that died waits for another.
	Lease time.Duration
	// CallTimeout bounds one call to the portal (10 s).
	CallTimeout time.Duration
	// MinBackoff and MaxBackoff bound the wait before a dossier is tried
	// again after a failure, doubling with each (1 s and 1 min).
	MinBackoff, MaxBackoff time.Duration
}

// Run publishes until ctx is done. It wakes on the read model's news and
// looks every Poll in case news was missed.
func (f *PortalFeed) Run(ctx context.Context) error {
	log := f.logger()
	var news *store.PortalNews
	defer func() {
		if news != nil {
			news.Close()
		}
	}()
	for ctx.Err() == nil {
		n, err := f.PublishOnce(ctx)
		if err != nil && ctx.Err() == nil {
			log.Warn("publishing to the portal", "error", err)
		}
		if n > 0 && err == nil {
			continue
		}
		if news == nil {
			if news, err = f.Store.ListenPortalNews(ctx); err != nil {
				news = nil
				log.Warn("listening for portal news; polling instead", "error", err)
			}
		}
		if news == nil {
			select {
			case <-ctx.Done():
			case <-time.After(cmp.Or(f.Poll, time.Second)):
			}
			continue
		}
		if err := news.Wait(ctx, cmp.Or(f.Poll, time.Second)); err != nil && ctx.Err() == nil {
			news.Close()
			news = nil
		}
	}
	return nil
}

// PublishOnce claims the dossiers that are due and publishes them, and says
// how many it claimed.
func (f *PortalFeed) PublishOnce(ctx context.Context) (int, error) {
	due, err := f.Store.ClaimPortalFeed(ctx, cmp.Or(f.Batch, 32), cmp.Or(f.Lease, 15*time.Second))
	if err != nil {
		return 0, err
	}
	var wg sync.WaitGroup
	for _, d := range due {
		wg.Go(func() { f.publish(ctx, d) })
	}
	wg.Wait()
	return len(due), nil
}

func (f *PortalFeed) publish(ctx context.Context, d store.PortalDue) {
	err := f.send(ctx, d.Code)
	if ctx.Err() != nil {
		return // the lease passes, and another feed publishes it
	}
	if err != nil {
		f.logger().Warn("publishing to the portal; will retry", "dossier_id", d.Code, "attempt", d.Attempts+1, "error", err)
		if ferr := f.Store.PortalFailed(ctx, d.Code, err, time.Now().Add(f.backoff(d.Attempts))); ferr != nil {
			f.logger().Warn("recording a portal failure", "dossier_id", d.Code, "error", ferr)
		}
	}
}

func (f *PortalFeed) send(ctx context.Context, code string) error {
	snap, err := f.Store.Dossier(ctx, code)
	if err != nil {
		return err
	}
	phoneHash, err := f.Store.PhoneHash(ctx, code)
	if err != nil {
		return err
	}
	cctx, cancel := callContext(ctx, cmp.Or(f.CallTimeout, 10*time.Second))
	start := time.Now()
	_, err = f.Portal.PublishStatus(cctx, &agencyv1.PublishStatusRequest{Status: PortalStatus(snap), PhoneHash: phoneHash})
	cancel()
	f.Metrics.observeCall(dossier.AgencyPortal, portalStep, time.Since(start), err)
	if err != nil {
		return classify(err)
	}
	now := time.Now()
	decided, err := f.Store.PortalPublished(ctx, code, snap.Version, now)
	for _, at := range decided {
		f.Metrics.observeSyncLag("portal", now.Sub(at))
	}
	return err
}

// backoff doubles from MinBackoff with each failed attempt, up to
// MaxBackoff, with a tenth of jitter so a recovering portal is not hit by
// every dossier at once.
func (f *PortalFeed) backoff(attempts int) time.Duration {
	d := cmp.Or(f.MinBackoff, time.Second)
	limit := cmp.Or(f.MaxBackoff, time.Minute)
	for range attempts {
		if d >= limit {
			break
		}
		d *= 2
	}
	d = min(d, limit)
	return d + time.Duration(rand.Int64N(int64(d)/10+1))
}

func (f *PortalFeed) logger() *slog.Logger {
	if f.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return f.Logger
}
