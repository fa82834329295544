package chaos

import (
	mrand "math/rand/v2"
	"net"
	"strconv"
	"time"

	"github.com/lienthong/lienthong/dossier"
	"github.com/lienthong/lienthong/measure/loadgen"
)

// plan is when each fault happens, as offsets from the first submission.
type plan struct {
	Window   time.Duration // expected submission time
	OutageAt time.Duration
	Outage   time.Duration
	Kills    []time.Duration
	Downtime []time.Duration
	DropAt   time.Duration
	ClearAt  time.Duration
}

// planChaos draws the schedule from the seed. Kills fall one in each equal
// slice of the chaos window, so they are random but never bunched; faults
// are cleared once the last kill, the outage and the submission are over.
func planChaos(seed int64, dossiers int, rate float64, kills int, outage time.Duration) plan {
	rng := mrand.New(mrand.NewPCG(uint64(seed), 0x6b696c6c))
	window := 60 * time.Second
	if rate > 0 {
		window = time.Duration(float64(dossiers) / rate * float64(time.Second))
	}
	window = max(window, 20*time.Second)
	p := plan{Window: window, Outage: outage}
	between := func(lo, hi time.Duration) time.Duration {
		if hi <= lo {
			return lo
		}
		return lo + time.Duration(rng.Int64N(int64(hi-lo)))
	}
	p.OutageAt = between(window/10, window/2)
	span := max(window, p.OutageAt+outage)
	for i := range kills {
		lo := max(span*time.Duration(i)/time.Duration(kills), 5*time.Second)
		hi := span * time.Duration(i+1) / time.Duration(kills)
		p.Kills = append(p.Kills, between(lo, hi))
		p.Downtime = append(p.Downtime, between(time.Second, 8*time.Second))
	}
	p.DropAt = between(span/5, span*4/5)
	p.ClearAt = span + 5*time.Second
	if n := len(p.Kills); n > 0 {
		p.ClearAt = max(p.ClearAt, p.Kills[n-1]+p.Downtime[n-1]+10*time.Second)
	}
	return p
}

// addrs are the free loopback ports the parts listen on.
type addrs struct {
	temporalPort                                 int
	apiGRPC, apiHTTP, workerHTTP, agencyHTTP     string
	justice, police, insurance, portal, temporal string
	sms, smtp                                    string
}

func pickAddrs() (addrs, error) {
	var a addrs
	var err error
	next := func() string {
		if err != nil {
			return ""
		}
		var p int
		p, err = loadgen.FreeLoopbackPort()
		return net.JoinHostPort("127.0.0.1", strconv.Itoa(p))
	}
	a.apiGRPC, a.apiHTTP, a.workerHTTP, a.agencyHTTP = next(), next(), next(), next()
	a.justice, a.police, a.insurance, a.portal = next(), next(), next(), next()
	a.temporal = next()
	a.sms, a.smtp = next(), next()
	if err != nil {
		return a, err
	}
	_, port, _ := net.SplitHostPort(a.temporal)
	a.temporalPort, _ = strconv.Atoi(port)
	return a, nil
}

func (a addrs) agencies() map[string]string {
	return map[string]string{dossier.AgencyJustice: a.justice, dossier.AgencyPolice: a.police,
		dossier.AgencyInsurance: a.insurance, dossier.AgencyPortal: a.portal}
}
