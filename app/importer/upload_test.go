package importer_test

import (
	"bytes"
	"context"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vitalgraph/vitalgraph/app/importer"
	"github.com/vitalgraph/vitalgraph/app/importer/applegen"
	"github.com/vitalgraph/vitalgraph/app/record"
	"github.com/vitalgraph/vitalgraph/engine/viewer"
	"github.com/vitalgraph/vitalgraph/ent"
	"github.com/vitalgraph/vitalgraph/ent/feedevent"
	"github.com/vitalgraph/vitalgraph/ent/healthimport"
)

// crashingFeed writes feed events and "crashes" the job (cancels its
// context) once the storing phase reports two chunks done.
type crashingFeed struct {
	*record.Recorder
	crash func()
}

func (c crashingFeed) Feed(ctx context.Context, tx *ent.Tx, userID string, kind feedevent.Kind, entityID string, payload map[string]any) (*ent.FeedEvent, error) {
	if c.crash != nil && payload["phase"] == "storing" && payload["chunksDone"] == 2 {
		c.crash()
	}
	return c.Recorder.Feed(ctx, tx, userID, kind, entityID, payload)
}

// TestUploadedImportResumesAfterACrash: an upload's job dies after two
// stored chunks; the import stays RUNNING; the job's next run replays the
// stored chunks and stores the rest — every daily sample once — and
// completes the import.
func TestUploadedImportResumesAfterACrash(t *testing.T) {
	t.Parallel()
	st, svc, uid := setup(t, 4)
	svc.Uploads = importer.Uploads{Dir: t.TempDir(), MaxBytes: 16 << 20, ProgressInterval: time.Nanosecond}
	var buf bytes.Buffer
	gen, err := applegen.Write(&buf, applegen.Options{Seed: 3, Start: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), Bytes: 4 << 20})
	require.NoError(t, err)

	ctx := viewer.System(context.Background())
	tx, err := st.Client.Tx(ctx)
	require.NoError(t, err)
	imp, err := svc.Accept(ctx, tx, uid, importer.Upload{File: bytes.NewReader(buf.Bytes()), Name: "export.xml", Size: int64(buf.Len())}, healthimport.FormatAPPLE_HEALTH, nil)
	require.NoError(t, err)
	require.NoError(t, tx.Commit())
	require.Equal(t, healthimport.StatusQUEUED, imp.Status)

	jobCtx, crash := context.WithCancel(context.Background())
	svc.Recorder = crashingFeed{Recorder: record.New(nil), crash: crash}
	require.Error(t, svc.Run(jobCtx, imp.ID), "the crash stops the job, which is retried")
	mid, err := st.Client.HealthImport.Get(ctx, imp.ID)
	require.NoError(t, err)
	require.Equal(t, healthimport.StatusRUNNING, mid.Status)
	require.Equal(t, 2*4, count(t, st, uid), "two whole chunks were stored")
	_, err = os.Stat(imp.SpoolPath)
	require.NoError(t, err, "the spool file is kept for the retry")

	svc.Recorder = crashingFeed{Recorder: record.New(nil)}
	require.NoError(t, svc.Run(context.Background(), imp.ID))
	done, err := st.Client.HealthImport.Get(ctx, imp.ID)
	require.NoError(t, err)
	require.Equal(t, healthimport.StatusCOMPLETED, done.Status)
	require.Equal(t, 3*gen.Days, done.Samples)
	require.Equal(t, done.Samples-8, done.Stored)
	require.Equal(t, 8, done.AlreadyStored, "the chunks of the first run replay")
	require.Equal(t, done.Samples, count(t, st, uid), "each daily sample once")
	_, err = os.Stat(imp.SpoolPath)
	require.True(t, os.IsNotExist(err), "the spool file is removed")

	// A finished import is left alone.
	require.NoError(t, svc.Run(context.Background(), imp.ID))
	require.Equal(t, done.Samples, count(t, st, uid))
	n, err := st.Client.FeedEvent.Query().Where(feedevent.UserID(uid), feedevent.KindEQ(feedevent.KindIMPORT_COMPLETED)).Count(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, n)
}
