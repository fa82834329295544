package temporalserver

import (
	"errors"
	"fmt"
	"maps"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"go.temporal.io/server/common/config"
	// The pgx-based plugin registers itself as postgres12_pgx.
	"go.temporal.io/server/common/persistence/sql/sqlplugin/postgresql"
)

// PostgresOptions point the server at PostgreSQL, the production persistence.
// Temporal keeps its data in two databases of its own, apart from lienthong's.
type PostgresOptions struct {
	Host, User, Password string
	Port                 int
	Database             string // default "temporal"
	VisibilityDatabase   string // default "temporal_visibility"
	// AdminDatabase is an existing database to connect to while creating the
	// two above; default "postgres". It is not touched when both exist.
	AdminDatabase string
	// ConnectAttributes are extra connection parameters such as sslmode.
	// Without sslmode the connection is unencrypted, as with the server's own plugin.
	ConnectAttributes map[string]string
	// MaxConns caps each pool the server opens on the main database; every
	// embedded service (frontend, history, matching, worker) opens its own,
	// and the visibility pools get half as many. Default 10.
	MaxConns int
}

const (
	defaultTemporalDB   = "temporal"
	defaultVisibilityDB = "temporal_visibility"
	defaultAdminDB      = "postgres"
	defaultMaxConns     = 10
)

// PostgresOptionsFromURL takes the server, credentials and connection
// parameters from a postgres:// URL. The URL's database name is ignored: the
// databases are always Database and VisibilityDatabase.
func PostgresOptionsFromURL(rawURL string) (PostgresOptions, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return PostgresOptions{}, errors.New("expected a postgres:// URL")
	}
	if u.Host == "" {
		return PostgresOptions{}, errors.New("the postgres:// URL has no host")
	}
	p := PostgresOptions{Host: u.Hostname(), Port: 5432}
	if port := u.Port(); port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 {
			return PostgresOptions{}, fmt.Errorf("bad port %q in the postgres:// URL", port)
		}
		p.Port = n
	}
	if u.User != nil {
		p.User = u.User.Username()
		p.Password, _ = u.User.Password()
	}
	if q := u.Query(); len(q) > 0 {
		p.ConnectAttributes = map[string]string{}
		for k, v := range q {
			// pool_* settings are pgxpool's, for lienthong's own pool; the
			// server would send them to PostgreSQL as unknown parameters.
			if strings.HasPrefix(k, "pool_") {
				continue
			}
			if len(v) > 0 {
				p.ConnectAttributes[k] = v[len(v)-1]
			}
		}
	}
	return p, nil
}

func (p PostgresOptions) withDefaults() PostgresOptions {
	if p.Port == 0 {
		p.Port = 5432
	}
	if p.Database == "" {
		p.Database = defaultTemporalDB
	}
	if p.VisibilityDatabase == "" {
		p.VisibilityDatabase = defaultVisibilityDB
	}
	if p.AdminDatabase == "" {
		p.AdminDatabase = defaultAdminDB
	}
	if p.MaxConns <= 0 {
		p.MaxConns = defaultMaxConns
	}
	return p
}

func (p PostgresOptions) validate() error {
	if p.Host == "" {
		return errors.New("temporal postgres: host is required")
	}
	if p.Database == p.VisibilityDatabase {
		return fmt.Errorf("temporal postgres: the main and visibility databases must differ (both %q)", p.Database)
	}
	return nil
}

// url is the pgx connection string for one database. The attributes are the
// ones the server's plugin will use, so setup connects exactly as it does.
func (p PostgresOptions) url(database string) string {
	q := url.Values{}
	for k, v := range p.ConnectAttributes {
		q.Set(k, v)
	}
	if q.Get("sslmode") == "" {
		q.Set("sslmode", "disable")
	}
	u := url.URL{
		Scheme:   "postgres",
		Host:     net.JoinHostPort(p.Host, strconv.Itoa(p.Port)),
		Path:     "/" + database,
		RawQuery: q.Encode(),
	}
	switch {
	case p.Password != "":
		u.User = url.UserPassword(p.User, p.Password)
	case p.User != "":
		u.User = url.User(p.User)
	}
	return u.String()
}

// dataStores names the two stores buildConfig refers to: "default" and "visibility".
func (p *PostgresOptions) dataStores() (map[string]config.DataStore, error) {
	o := p.withDefaults()
	if err := o.validate(); err != nil {
		return nil, err
	}
	store := func(database string, maxConns int) config.DataStore {
		return config.DataStore{SQL: &config.SQL{
			PluginName:        postgresql.PluginNamePGX,
			DatabaseName:      database,
			ConnectAddr:       net.JoinHostPort(o.Host, strconv.Itoa(o.Port)),
			ConnectProtocol:   "tcp",
			User:              o.User,
			Password:          o.Password,
			ConnectAttributes: maps.Clone(o.ConnectAttributes),
			MaxConns:          maxConns,
			MaxIdleConns:      maxConns,
			// Recycling connections lets a PostgreSQL failover or a
			// pgbouncer restart heal without restarting the server.
			MaxConnLifetime: time.Hour,
		}}
	}
	return map[string]config.DataStore{
		"default":    store(o.Database, o.MaxConns),
		"visibility": store(o.VisibilityDatabase, max(2, o.MaxConns/2)),
	}, nil
}
