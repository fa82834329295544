// Package monitoring owns the operators' Grafana dashboard and Prometheus
// alert rules (dashboard.json, alerts.yaml) and reads them back with the
// Prometheus rule parser and a typed dashboard, so tests can check that every
// query parses and names a metric lienthong exports. Only tests import it:
// the binary never links the Prometheus parser. It must not import other
// lienthong packages.
package monitoring

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"
)

//go:embed alerts.yaml
var alertsYAML []byte

//go:embed dashboard.json
var dashboardJSON []byte

// Dashboard is the part of Grafana's dashboard model lienthong's file uses.
// Decoding refuses any other field, so the file stays within what is typed.
type Dashboard struct {
	UID           string   `json:"uid"`
	Title         string   `json:"title"`
	Description   string   `json:"description"`
	Tags          []string `json:"tags"`
	Timezone      string   `json:"timezone"`
	SchemaVersion int      `json:"schemaVersion"`
	Version       int      `json:"version"`
	Editable      bool     `json:"editable"`
	Refresh       string   `json:"refresh"`
	Time          struct {
		From string `json:"from"`
		To   string `json:"to"`
	} `json:"time"`
	Templating struct {
		List []Variable `json:"list"`
	} `json:"templating"`
	Panels []Panel `json:"panels"`
}

// Variable is a dashboard variable, e.g. the Prometheus data source.
type Variable struct {
	Name  string `json:"name"`
	Label string `json:"label"`
	Type  string `json:"type"`
	Query string `json:"query"`
}

// Panel is one graph or stat.
type Panel struct {
	ID          int        `json:"id"`
	Type        string     `json:"type"`
	Title       string     `json:"title"`
	Description string     `json:"description"`
	Datasource  Datasource `json:"datasource"`
	GridPos     struct {
		H int `json:"h"`
		W int `json:"w"`
		X int `json:"x"`
		Y int `json:"y"`
	} `json:"gridPos"`
	FieldConfig struct {
		Defaults struct {
			Unit string `json:"unit"`
		} `json:"defaults"`
	} `json:"fieldConfig"`
	Targets []Target `json:"targets"`
}

// Target is one PromQL query of a panel.
type Target struct {
	RefID        string     `json:"refId"`
	Expr         string     `json:"expr"`
	LegendFormat string     `json:"legendFormat"`
	Datasource   Datasource `json:"datasource"`
}

// Datasource names the data source a panel or query reads.
type Datasource struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

// LoadDashboard decodes dashboard.json.
func LoadDashboard() (Dashboard, error) {
	var d Dashboard
	dec := json.NewDecoder(bytes.NewReader(dashboardJSON))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		return d, fmt.Errorf("dashboard.json: %w", err)
	}
	return d, nil
}

// LoadAlerts parses alerts.yaml with Prometheus's own rule parser, which also
// parses every expression and template.
func LoadAlerts() (*rulefmt.RuleGroups, error) {
	groups, errs := rulefmt.Parse(alertsYAML)
	if len(errs) > 0 {
		return nil, fmt.Errorf("alerts.yaml: %w", errors.Join(errs...))
	}
	return groups, nil
}

// Query is one PromQL expression and where it is used.
type Query struct {
	Where string
	Expr  string
}

// Queries lists every expression of the alerts and the dashboard.
func Queries() ([]Query, error) {
	var out []Query
	groups, err := LoadAlerts()
	if err != nil {
		return nil, err
	}
	for _, g := range groups.Groups {
		for _, r := range g.Rules {
			out = append(out, Query{Where: "alert " + r.Alert.Value + r.Record.Value, Expr: r.Expr.Value})
		}
	}
	d, err := LoadDashboard()
	if err != nil {
		return nil, err
	}
	for _, p := range d.Panels {
		for _, t := range p.Targets {
			out = append(out, Query{Where: fmt.Sprintf("panel %q query %s", p.Title, t.RefID), Expr: t.Expr})
		}
	}
	return out, nil
}

// MetricNames parses every query and returns the metric names they select,
// sorted, with a histogram's _bucket, _sum and _count suffix removed: the
// name of the family a /metrics scrape shows.
func MetricNames() ([]string, error) {
	qs, err := Queries()
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var errs []error
	for _, q := range qs {
		expr, err := parser.ParseExpr(q.Expr)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", q.Where, err))
			continue
		}
		parser.Inspect(expr, func(n parser.Node, _ []parser.Node) error {
			if vs, ok := n.(*parser.VectorSelector); ok {
				seen[Family(vs.Name)] = true
			}
			return nil
		})
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	out := make([]string, 0, len(seen))
	for n := range seen {
		out = append(out, n)
	}
	sort.Strings(out)
	return out, nil
}

// Family is the metric family a series name belongs to.
func Family(series string) string {
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		if base, ok := strings.CutSuffix(series, suffix); ok {
			return base
		}
	}
	return series
}
