package temporalserver

import "errors"

var errNotYet = errors.New("postgres persistence is not wired yet")
