package freeport_test

import (
	"net"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lienthong/lienthong/internal/freeport"
)

func TestPort(t *testing.T) {
	t.Parallel()

	t.Run("a port can be listened on", func(t *testing.T) {
		t.Parallel()
		l, err := net.Listen("tcp", freeport.Addr(t))
		require.NoError(t, err)
		require.NoError(t, l.Close())
	})

	t.Run("no port is handed out twice", func(t *testing.T) {
		t.Parallel()
		seen := map[int]bool{}
		for range 200 {
			p := freeport.Port(t)
			require.False(t, seen[p], "port %d handed out twice", p)
			seen[p] = true
		}
	})

	t.Run("an address that cannot be listened on is an error", func(t *testing.T) {
		t.Parallel()
		_, err := freeport.On("192.0.2.1") // TEST-NET-1: never this machine's
		require.ErrorContains(t, err, "finding a free port on 192.0.2.1")
	})

	t.Run("Addr names the loopback address", func(t *testing.T) {
		t.Parallel()
		host, port, err := net.SplitHostPort(freeport.Addr(t))
		require.NoError(t, err)
		require.Equal(t, "127.0.0.1", host)
		_, err = strconv.Atoi(port)
		require.NoError(t, err)
	})
}
