// Package stack owns how lienthong's parts are put together: the Temporal
// client, the workers and their activities, the agency clients, the API
// server, the mock agencies, transport security and health endpoints, and the
// whole dev stack in one process (RunDev). The binary's subcommands call it,
// and so do the end-to-end tests and the measuring tools, so each of them
// starts the same system.
//
// It may import every lienthong package that makes the system but the
// Temporal server: a dev stack is handed its embedded server
// (DevOptions.Temporal) by package stack/embedded, so what only dials a
// cluster links the SDK alone. It must not import the command line (cli)
// or the measuring tools (measure/...).
package stack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/lienthong/lienthong/config"
)

// Running is a dev stack started in the background by Start.
type Running struct {
	// Addrs are where it answers, and the configuration as it resolved it.
	Addrs Addrs
	stop  context.CancelFunc
	done  chan error
}

// Start runs the dev stack (RunDev) in the background and returns once
// everything answers, or fails when it stops first or is not ready within
// the given time. Stop it with Stop.
func Start(ctx context.Context, cfg config.Config, out io.Writer, opts DevOptions, within time.Duration) (*Running, error) {
	ctx, cancel := context.WithCancel(ctx)
	r := &Running{stop: cancel, done: make(chan error, 1)}
	ready := make(chan Addrs, 1)
	opts.Ready = func(a Addrs) { ready <- a }
	go func() { r.done <- RunDev(ctx, cfg, out, opts) }()
	select {
	case r.Addrs = <-ready:
		return r, nil
	case err := <-r.done:
		cancel()
		if err == nil {
			err = errors.New("it stopped before it was ready")
		}
		return nil, fmt.Errorf("starting the stack: %w", err)
	case <-time.After(within):
		cancel()
		err := <-r.done
		return nil, errors.Join(fmt.Errorf("the stack was not ready within %s", within), err)
	}
}

// Stop stops the stack and waits for it, at most within, and returns what
// it returned.
func (r *Running) Stop(within time.Duration) error {
	r.stop()
	select {
	case err := <-r.done:
		return err
	case <-time.After(within):
		return fmt.Errorf("the stack did not stop within %s", within)
	}
}

// OnLoopback points every listener of cfg at a free loopback port, the
// Temporal frontend's at temporalPort, turns the Temporal Web UI off and
// keeps nothing after the stack stops: the configuration of a stack that a
// test or a measuring tool starts beside anything else on the machine.
func OnLoopback(cfg *config.Config, temporalPort int) {
	cfg.Ephemeral = true
	cfg.TemporalPort, cfg.TemporalUIPort = temporalPort, 0
	anyPort := "127.0.0.1:0"
	cfg.APIGRPCAddr, cfg.APIHTTPAddr = anyPort, anyPort
	cfg.JusticeAddr, cfg.PoliceAddr, cfg.InsuranceAddr, cfg.PortalAddr = anyPort, anyPort, anyPort, anyPort
	cfg.SMSAddr, cfg.SMTPAddr = anyPort, anyPort
}
