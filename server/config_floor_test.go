package server_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vitalgraph/vitalgraph/server"
)

func TestObservationDateFloorSetting(t *testing.T) {
	t.Parallel()
	c, err := server.LoadConfig(env(nil))
	require.NoError(t, err)
	require.Equal(t, time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), c.Guardrails.ObservationFloor)
	c, err = server.LoadConfig(env(map[string]string{"OBSERVATION_DATE_FLOOR": "2010-05-01"}))
	require.NoError(t, err)
	require.Equal(t, time.Date(2010, 5, 1, 0, 0, 0, 0, time.UTC), c.Guardrails.ObservationFloor)
	for _, bad := range []string{"yesterday", "1969-12-31", "2010-13-01"} {
		_, err = server.LoadConfig(env(map[string]string{"OBSERVATION_DATE_FLOOR": bad}))
		require.ErrorContains(t, err, "OBSERVATION_DATE_FLOOR", bad)
	}
}
