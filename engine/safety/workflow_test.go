package safety

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vitalgraph/vitalgraph/engine"
)

func TestCheckStep(t *testing.T) {
	t.Parallel()
	all := []Status{StatusPendingReview, StatusActive, StatusCompleted, StatusSuppressed, StatusInvalidated, StatusCancelled}
	// The allowed transitions, written out by hand: every other pair is a conflict.
	allowed := map[Step]map[Status]bool{
		StepApprove:  {StatusPendingReview: true},
		StepReject:   {StatusPendingReview: true},
		StepCancel:   {StatusPendingReview: true, StatusActive: true},
		StepComplete: {StatusActive: true},
	}
	for step, ok := range allowed {
		for _, from := range all {
			t.Run(string(step)+"/"+string(from), func(t *testing.T) {
				t.Parallel()
				err := CheckStep(step, from)
				if ok[from] {
					require.NoError(t, err)
					return
				}
				require.Equal(t, engine.ECONFLICT, engine.ErrorCode(err))
				require.Contains(t, engine.ErrorMessage(err), string(from))
			})
		}
	}
	t.Run("unknown step", func(t *testing.T) {
		t.Parallel()
		require.Equal(t, engine.EINVALID, engine.ErrorCode(CheckStep("resurrect", StatusCancelled)))
	})
}

func TestCheckReason(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		reason   string
		required bool
		want     string
		code     string
	}{
		{"trimmed", "  looks safe  ", true, "looks safe", ""},
		{"empty when required", "", true, "", engine.EINVALID},
		{"spaces when required", " \t\n", true, "", engine.EINVALID},
		{"empty when optional", "", false, "", ""},
		{"at the limit", strings.Repeat("é", MaxReasonLen), true, strings.Repeat("é", MaxReasonLen), ""},
		{"over the limit", strings.Repeat("a", MaxReasonLen+1), false, "", engine.EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := CheckReason(tt.reason, tt.required)
			require.Equal(t, tt.code, engine.ErrorCode(err))
			require.Equal(t, tt.want, got)
		})
	}
}
