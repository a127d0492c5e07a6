package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"
	_ "modernc.org/sqlite"

	"github.com/vitalgraph/vitalgraph/server"
)

// TestDataCommands runs audit verify/checkpoint/rotate-key and
// backup/restore --verify end to end on the embedded database: an SQL edit
// of one audit row is reported (which event, what changed), a checkpoint
// kept before a consistent rewrite catches it after a key rotation, and a
// corrupted backup is refused by restore --verify.
func TestDataCommands(t *testing.T) {
	t.Parallel()
	dataDir := t.TempDir()
	env := map[string]string{"DATA_DIR": dataDir, "LOG_LEVEL": "error"}
	getenv := func(k string) string { return env[k] }
	run := func(args ...string) (string, error) {
		var out, errOut bytes.Buffer
		err := run(context.Background(), args, getenv, &out, &errOut)
		return out.String(), err
	}
	_, err := run("migrate")
	require.NoError(t, err)
	_, err = run("seed", "--demo")
	require.NoError(t, err)

	out, err := run("audit", "verify")
	require.NoError(t, err, out)
	uid := regexp.MustCompile(`(usr_\w+): ok`).FindStringSubmatch(out)
	require.NotNil(t, uid, out)
	user := uid[1]

	out, err = run("audit", "checkpoint", "--user", user)
	require.NoError(t, err)
	cpFile := filepath.Join(t.TempDir(), "checkpoint.json")
	require.NoError(t, os.WriteFile(cpFile, []byte(out), 0o600))
	var cp struct {
		Seq   int64
		KeyID string `json:"keyId"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &cp))
	out, err = run("audit", "rotate-key")
	require.NoError(t, err)
	require.Contains(t, out, "now signed by")
	out, err = run("audit", "verify", "--checkpoint", cpFile)
	require.NoError(t, err, out)
	require.Contains(t, out, "consistent with the checkpoint")

	// Backup, then a corrupted copy is refused and the good one verifies.
	bdir := filepath.Join(t.TempDir(), "b1")
	out, err = run("backup", "--out", bdir)
	require.NoError(t, err)
	require.Contains(t, out, "backup of sqlite")
	dump := filepath.Join(bdir, "database.sqlite")
	good, err := os.ReadFile(dump)
	require.NoError(t, err)
	bad := append([]byte{}, good...)
	bad[len(bad)/3] ^= 0x5a
	require.NoError(t, os.WriteFile(dump, bad, 0o600))
	_, err = run("restore", "--from", bdir, "--verify")
	require.ErrorContains(t, err, "corrupted")
	require.NoError(t, os.WriteFile(dump, good, 0o600))

	// Edit one audit row with SQL: reported with its seq and what changed.
	db, err := sql.Open("sqlite", server.SQLiteDSN(dataDir))
	require.NoError(t, err)
	defer db.Close()
	_, err = db.ExecContext(context.Background(), `UPDATE audit_events SET action = 'nothing_to_see' WHERE user_id = ? AND seq = 2`, user)
	require.NoError(t, err)
	out, err = run("audit", "verify", "--user", user)
	require.Error(t, err)
	require.Regexp(t, `seq 2 aud_\w+ \[altered\]: audit event 2 was altered.*action changed from "[a-z_]+" to "nothing_to_see"`, out)

	// restore --verify brings back the backed-up (untampered) trail.
	out, err = run("restore", "--from", bdir, "--verify")
	require.NoError(t, err, out)
	require.Contains(t, out, "verified:")
	out, err = run("audit", "verify", "--user", user)
	require.NoError(t, err, out)

	// A rewritten head is caught against the checkpoint kept before, which
	// was signed by the rotated-out key (a consistent rewrite of the whole
	// chain: TestAuditVerifyTamperingAndCheckpoints in app/datarights).
	_, err = db.ExecContext(context.Background(), `UPDATE audit_events SET hash = 'f' || substr(hash, 2) WHERE user_id = ? AND seq = ?`, user, cp.Seq)
	require.NoError(t, err)
	out, err = run("audit", "verify", "--checkpoint", cpFile)
	require.Error(t, err)
	require.Contains(t, out, "[rewritten]: history was rewritten")
	require.Contains(t, out, cp.KeyID)

	// anonymize → restore --verify into a new embedded database.
	adir := filepath.Join(t.TempDir(), "anon")
	out, err = run("anonymize", "--out", adir)
	require.NoError(t, err, out)
	require.Contains(t, out, "anonymized")
	env["DATA_DIR"] = t.TempDir()
	out, err = run("restore", "--from", adir, "--verify")
	require.NoError(t, err, out)
	require.Contains(t, out, "verified:")
	out, err = run("audit", "verify")
	require.NoError(t, err, out)
	require.NotContains(t, out, user, "pseudonymous ids only")
}
