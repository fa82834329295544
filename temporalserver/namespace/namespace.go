// Package namespace registers lienthong's Temporal namespace and its custom
// search attributes, on any Temporal frontend: the embedded server's or a
// cluster's. It speaks to the frontend through the SDK only, so the worker
// and the API, which call it at start-up, link no Temporal server.
package namespace

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/durationpb"
)

// Retention is how long Temporal keeps a closed dossier's history:
// long enough to investigate a complaint about a finished procedure.
// lienthong's own database keeps the permanent record.
const Retention = 30 * 24 * time.Hour

// Ensure waits for the frontend at address, registers namespace if it is
// missing, and adds the custom search attributes it lacks. It returns
// once the attributes are visible to queries, so a caller may start workflows
// that set them straight away. Existing settings are left alone, so every
// process may call it at start-up; an attribute that exists with another
// type is an error, since Temporal cannot change it. A nil tlsConfig dials
// in plaintext.
func Ensure(ctx context.Context, address string, tlsConfig *tls.Config, namespace string, searchAttributes map[string]enums.IndexedValueType) error {
	c, err := dialFrontend(ctx, address, tlsConfig)
	if err != nil {
		return err
	}
	defer c.Close()

	err = retryTransient(ctx, func() error {
		_, err := c.WorkflowService().RegisterNamespace(ctx, &workflowservice.RegisterNamespaceRequest{
			Namespace:                        namespace,
			Description:                      "lienthong interagency procedures",
			WorkflowExecutionRetentionPeriod: durationpb.New(Retention),
		})
		var exists *serviceerror.NamespaceAlreadyExists
		if errors.As(err, &exists) {
			return nil
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("registering namespace %s: %w", namespace, err)
	}

	// A namespace registered a moment ago may not have reached every
	// service's cache yet; NotFound is retried until it has.
	added := false
	err = retryTransient(ctx, func() error {
		missing, err := missingSearchAttributes(ctx, c, namespace, searchAttributes)
		if err != nil || len(missing) == 0 {
			return err
		}
		if added {
			// Added, but not yet visible through the namespace cache.
			return serviceerror.NewUnavailable("search attributes not yet visible")
		}
		_, err = c.OperatorService().AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{
			Namespace:        namespace,
			SearchAttributes: missing,
		})
		if err != nil {
			return err
		}
		added = true
		return serviceerror.NewUnavailable("search attributes added, waiting until visible")
	})
	if err != nil {
		return fmt.Errorf("adding search attributes to namespace %s: %w", namespace, err)
	}
	// The operator API answers from persistence; starting a workflow checks
	// the frontend's namespace cache, which refreshes later. A visibility
	// query naming every attribute goes through that same cache.
	err = retryTransient(ctx, func() error {
		for name, typ := range searchAttributes {
			value := "'probe'"
			switch typ {
			case enums.INDEXED_VALUE_TYPE_BOOL:
				value = "true"
			case enums.INDEXED_VALUE_TYPE_INT, enums.INDEXED_VALUE_TYPE_DOUBLE:
				value = "0"
			}
			_, err := c.WorkflowService().ListWorkflowExecutions(ctx, &workflowservice.ListWorkflowExecutionsRequest{
				Namespace: namespace, PageSize: 1, Query: fmt.Sprintf("%s = %s", name, value),
			})
			var invalid *serviceerror.InvalidArgument
			if errors.As(err, &invalid) {
				return serviceerror.NewUnavailable("search attribute " + name + " not yet usable: " + err.Error())
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("waiting for search attributes of namespace %s: %w", namespace, err)
	}
	return nil
}

func dialFrontend(ctx context.Context, address string, tlsConfig *tls.Config) (client.Client, error) {
	var c client.Client
	err := retryTransient(ctx, func() error {
		var err error
		c, err = client.DialContext(ctx, client.Options{
			HostPort:          address,
			Logger:            sdklog.NewStructuredLogger(slog.New(slog.DiscardHandler)),
			ConnectionOptions: client.ConnectionOptions{TLS: tlsConfig},
		})
		if err != nil {
			// Until the frontend listens, every dial fails; keep waiting.
			return serviceerror.NewUnavailable(err.Error())
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("waiting for the temporal frontend at %s: %w", address, err)
	}
	return c, nil
}

// missingSearchAttributes returns the wanted attributes the namespace lacks,
// or an error naming any that exist with a different type.
func missingSearchAttributes(ctx context.Context, c client.Client, namespace string, want map[string]enums.IndexedValueType) (map[string]enums.IndexedValueType, error) {
	resp, err := c.OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: namespace})
	if err != nil {
		return nil, err
	}
	missing := map[string]enums.IndexedValueType{}
	var conflicts []error
	for _, name := range slices.Sorted(maps.Keys(want)) {
		have, ok := resp.GetCustomAttributes()[name]
		if !ok {
			have, ok = resp.GetSystemAttributes()[name]
		}
		switch {
		case !ok:
			missing[name] = want[name]
		case have != want[name]:
			conflicts = append(conflicts, fmt.Errorf("search attribute %s exists as %s, expected %s", name, have, want[name]))
		}
	}
	if err := errors.Join(conflicts...); err != nil {
		return nil, err
	}
	return missing, nil
}

// retryTransient calls fn until it succeeds, fails for good, or ctx ends.
func retryTransient(ctx context.Context, fn func() error) error {
	delay := 100 * time.Millisecond
	for {
		err := fn()
		if err == nil || !transient(err) {
			return err
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%w (last error: %w)", ctx.Err(), err)
		case <-t.C:
		}
		delay = min(2*delay, 2*time.Second)
	}
}

func transient(err error) bool {
	switch serviceerror.ToStatus(err).Code() {
	case codes.Unavailable, codes.NotFound, codes.DeadlineExceeded, codes.ResourceExhausted, codes.Aborted:
		return true
	}
	return false
}
