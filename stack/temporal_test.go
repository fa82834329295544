package stack

import "github.com/lienthong/lienthong/temporalserver"

// testTemporal is embedded.Temporal for stack's own tests, which cannot
// import package embedded: it imports stack.
func testTemporal(o EmbeddedOptions) (TemporalServer, error) {
	srv, err := temporalserver.Start(temporalserver.Options{
		IP: o.IP, Port: o.Port, UIPort: o.UIPort, SQLiteFile: o.SQLiteFile,
		Logger: o.Logger, UICodecEndpoint: o.UICodecEndpoint,
	})
	if err != nil {
		return nil, err
	}
	return srv, nil
}
