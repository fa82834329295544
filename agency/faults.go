package agency

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	agencyv1 "github.com/lienthong/lienthong/proto/lienthong/agency/v1"
)

// faults injects failures on purpose. Each business call draws the same
// number of values from a seeded PCG stream, in call order, so the same seed
// and the same calls give the same faults; pushes draw from a second stream
// so that they do not shift the calls' sequence.
type faults struct {
	defaultSeed int64

	mu     sync.Mutex
	cfg    *agencyv1.Faults
	calls  *rand.Rand
	pushes *rand.Rand
	n      int64
}

// fault is what the interceptor does to one call.
type fault struct {
	latency time.Duration
	code    codes.Code
	msg     string
	hang    bool
}

func newFaults(defaultSeed int64, cfg *agencyv1.Faults) (*faults, error) {
	f := &faults{defaultSeed: defaultSeed}
	if err := f.set(cfg); err != nil {
		return nil, err
	}
	return f, nil
}

// set replaces the faults and restarts their sequence from the seed (the
// agency's seed when cfg.seed is zero). A nil cfg clears every fault.
func (f *faults) set(cfg *agencyv1.Faults) error {
	if cfg == nil {
		cfg = &agencyv1.Faults{}
	}
	var v violations
	ratio(&v, "faults.unavailable_ratio", cfg.GetUnavailableRatio())
	ratio(&v, "faults.hang_ratio", cfg.GetHangRatio())
	ratio(&v, "faults.lost_callback_ratio", cfg.GetLostCallbackRatio())
	if cfg.GetAddedLatency().AsDuration() < 0 {
		v.add("faults.added_latency", "must not be negative")
	}
	if cfg.GetUnauthenticatedBurstEvery() < 0 {
		v.add("faults.unauthenticated_burst_every", "must not be negative")
	}
	if cfg.GetUnauthenticatedBurstLength() < 0 {
		v.add("faults.unauthenticated_burst_length", "must not be negative")
	}
	if cfg.OutageFrom != nil && cfg.OutageUntil != nil && !cfg.OutageUntil.AsTime().After(cfg.OutageFrom.AsTime()) {
		v.add("faults.outage_until", "must be after outage_from")
	}
	if err := v.err(); err != nil {
		return err
	}
	seed := cfg.GetSeed()
	if seed == 0 {
		seed = f.defaultSeed
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cfg = proto.CloneOf(cfg)
	f.calls = rand.New(rand.NewPCG(uint64(seed), 1))
	f.pushes = rand.New(rand.NewPCG(uint64(seed), 2))
	f.n = 0
	return nil
}

func (f *faults) current() *agencyv1.Faults {
	f.mu.Lock()
	defer f.mu.Unlock()
	return proto.CloneOf(f.cfg)
}

// next decides the fate of the next business call.
func (f *faults) next(now time.Time) fault {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n++
	unavailable, hang := f.calls.Float64(), f.calls.Float64()
	c := f.cfg
	out := fault{latency: c.GetAddedLatency().AsDuration()}
	switch {
	case inOutage(c, now):
		out.code, out.msg = codes.Unavailable, "agency outage (injected fault)"
		if c.OutageUntil != nil {
			out.msg = fmt.Sprintf("agency outage until %s (injected fault)", c.OutageUntil.AsTime().UTC().Format(time.RFC3339))
		}
	case inBurst(c, f.n):
		out.code, out.msg = codes.Unauthenticated, "national login unavailable (injected fault)"
	case unavailable < c.GetUnavailableRatio():
		out.code, out.msg = codes.Unavailable, "agency temporarily unavailable (injected fault)"
	case hang < c.GetHangRatio():
		out.hang = true
	}
	return out
}

// loseCallback says whether to drop the next push on the floor.
func (f *faults) loseCallback() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	r := f.cfg.GetLostCallbackRatio()
	return r > 0 && f.pushes.Float64() < r
}

func inOutage(c *agencyv1.Faults, now time.Time) bool {
	if c.OutageFrom == nil && c.OutageUntil == nil {
		return false
	}
	if c.OutageFrom != nil && now.Before(c.OutageFrom.AsTime()) {
		return false
	}
	return c.OutageUntil == nil || now.Before(c.OutageUntil.AsTime())
}

// inBurst: of every burst_every + burst_length calls, the last burst_length fail.
func inBurst(c *agencyv1.Faults, n int64) bool {
	every, length := int64(c.GetUnauthenticatedBurstEvery()), int64(c.GetUnauthenticatedBurstLength())
	if every <= 0 || length <= 0 {
		return false
	}
	return (n-1)%(every+length) >= every
}

// injectFaults applies the configured faults to business calls, before the
// handler runs, so a faulted call writes nothing. AdminService, health and
// reflection are never faulted: they are how an operator ends a fault.
func (s *Server) injectFaults(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	if !isBusinessMethod(info.FullMethod) {
		return handler(ctx, req)
	}
	f := s.faults.next(time.Now())
	if f.latency > 0 {
		t := time.NewTimer(f.latency)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, status.FromContextError(ctx.Err()).Err()
		case <-s.stopping:
			t.Stop()
			return nil, status.Error(codes.Unavailable, "agency shutting down")
		}
	}
	if f.hang {
		select {
		case <-ctx.Done():
			return nil, status.FromContextError(ctx.Err()).Err()
		case <-s.stopping:
			return nil, status.Error(codes.Unavailable, "agency shutting down")
		}
	}
	if f.code != codes.OK {
		s.log.Debug("injected fault", "method", info.FullMethod, "code", f.code.String())
		return nil, status.Error(f.code, f.msg)
	}
	return handler(ctx, req)
}
