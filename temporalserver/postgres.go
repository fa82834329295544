package temporalserver

import "go.temporal.io/server/common/config"

// PostgresOptions point the server at PostgreSQL, the production persistence.
type PostgresOptions struct {
	Host, User, Password string
	Port                 int
	Database             string // default "temporal"
	VisibilityDatabase   string // default "temporal_visibility"
}

func (p *PostgresOptions) dataStores() (map[string]config.DataStore, error) {
	return nil, errNotYet
}
