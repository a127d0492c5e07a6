package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/vitalgraph/vitalgraph/app/anonymize"
	"github.com/vitalgraph/vitalgraph/app/backup"
	"github.com/vitalgraph/vitalgraph/app/datarights"
	"github.com/vitalgraph/vitalgraph/app/loop"
	"github.com/vitalgraph/vitalgraph/auditverify"
	"github.com/vitalgraph/vitalgraph/engine/viewer"
	"github.com/vitalgraph/vitalgraph/server"
)

// auditKeysPath is AUDIT_KEYS_FILE, else DATA_DIR/audit-keys.json.
func auditKeysPath(cfg server.Config) string {
	if cfg.AuditKeysFile != "" {
		return cfg.AuditKeysFile
	}
	return datarights.DefaultKeysPath(cfg.DataDir)
}

// auditCmd verifies audit trails and manages checkpoints:
//
//	audit verify [--user ID] [--checkpoint FILE]   recompute chains (every user, or one), optionally against a kept checkpoint
//	audit checkpoint --user ID                     print a signed checkpoint of the user's chain head (JSON)
//	audit keys                                     print the public keys that verify checkpoints (JSON)
//	audit rotate-key                               add a new signing key to the ring; old keys keep verifying
func auditCmd(ctx context.Context, cfg server.Config, args []string, stdout io.Writer) error {
	const use = "audit: verify [--user ID] [--checkpoint FILE] | checkpoint --user ID | keys | rotate-key"
	if len(args) == 0 {
		return errors.New(use)
	}
	cps := &datarights.Checkpointer{Path: auditKeysPath(cfg)}
	switch args[0] {
	case "rotate-key":
		kid, err := datarights.RotateKey(cps.Path, time.Now())
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "audit checkpoints are now signed by %s (%s); earlier keys still verify\n", kid, cps.Path)
		return nil
	case "keys":
		keys, err := cps.PublicKeys()
		if err != nil {
			return err
		}
		out := map[string]string{}
		for kid, pub := range keys {
			out[kid] = base64.StdEncoding.EncodeToString(pub)
		}
		return json.NewEncoder(stdout).Encode(out)
	case "checkpoint", "verify":
	default:
		return errors.New(use)
	}
	fs := flag.NewFlagSet("audit "+args[0], flag.ContinueOnError)
	one := fs.String("user", "", "user id")
	cpFile := fs.String("checkpoint", "", "a checkpoint kept earlier (JSON of `audit checkpoint` or Query.auditCheckpoint plus userId)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	st, err := server.OpenStore(ctx, cfg.DatabaseURL, cfg.DataDir)
	if err != nil {
		return err
	}
	defer st.Close()
	sctx := viewer.System(ctx)
	if args[0] == "checkpoint" {
		if *one == "" {
			return errors.New("audit checkpoint: --user ID is required")
		}
		cp, err := cps.Checkpoint(sctx, st.Client, *one)
		if err != nil {
			return err
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(cp)
	}
	var against *auditverify.Checkpoint
	if *cpFile != "" {
		b, err := os.ReadFile(*cpFile) //nolint:gosec // a file the operator names
		if err != nil {
			return err
		}
		var cp auditverify.Checkpoint
		if err := json.Unmarshal(b, &cp); err != nil {
			return fmt.Errorf("audit verify: %s is not a checkpoint: %w", *cpFile, err)
		}
		if *one == "" {
			*one = cp.UserID
		}
		if *one == "" || (cp.UserID != "" && cp.UserID != *one) {
			return errors.New("audit verify: the checkpoint names another user (or none): pass --user")
		}
		against = &cp
	}
	ids := []string{*one}
	if *one == "" {
		if ids, err = loop.UserIDs(ctx, st.Client); err != nil {
			return err
		}
		sort.Strings(ids)
	}
	bad := 0
	for _, id := range ids {
		v, err := cps.Verify(sctx, st.Client, id, against)
		if err != nil {
			return err
		}
		if v.OK() {
			extra := ""
			if v.CheckedAgainst {
				extra = fmt.Sprintf(", consistent with the checkpoint at seq %d", against.Seq)
			}
			fmt.Fprintf(stdout, "%s: ok, %d events, head seq %d%s\n", id, v.Events, v.HeadSeq, extra)
			continue
		}
		bad++
		fmt.Fprintf(stdout, "%s: FAILED, %d events, %d problem(s)\n", id, v.Events, len(v.Problems))
		for _, p := range v.Problems {
			fmt.Fprintf(stdout, "  seq %d %s [%s]: %s\n", p.Seq, p.EventID, p.Kind, p.Message)
		}
	}
	if bad > 0 {
		return fmt.Errorf("audit verify: %d of %d trail(s) failed", bad, len(ids))
	}
	return nil
}

// backupCmd writes a verified backup of the database into a new directory.
func backupCmd(ctx context.Context, cfg server.Config, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("backup", flag.ContinueOnError)
	out := fs.String("out", "", "directory to write (default backups/vitalgraph-<UTC time>)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" {
		*out = filepath.Join("backups", "vitalgraph-"+time.Now().UTC().Format("20060102T150405Z"))
	}
	st, err := server.OpenStore(ctx, cfg.DatabaseURL, cfg.DataDir)
	if err != nil {
		return err
	}
	defer st.Close()
	m, err := backup.Write(ctx, st.DB, st.Dialect, cfg.DatabaseURL, *out, cfg.Version)
	if err != nil {
		return err
	}
	var rows int64
	for _, n := range m.Rows {
		rows += n
	}
	fmt.Fprintf(stdout, "backup of %s written to %s: migration %s, %d rows in %d tables, %d audit chains, %s sha256 %s\n",
		m.Dialect, *out, m.Migration, rows, len(m.Rows), len(m.AuditHeads), m.File, m.FileSHA256)
	return nil
}

// restoreCmd restores a backup into the configured database (stop the
// server first) and, with --verify, checks it against the manifest.
func restoreCmd(ctx context.Context, cfg server.Config, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("restore", flag.ContinueOnError)
	from := fs.String("from", "", "backup directory (required)")
	verify := fs.Bool("verify", false, "after restoring, check row counts, checksums, migration level and every audit chain against the manifest")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *from == "" {
		return errors.New("restore: --from DIR is required")
	}
	st, err := server.OpenStore(ctx, cfg.DatabaseURL, cfg.DataDir)
	if err != nil {
		return err
	}
	defer st.Close()
	m, err := backup.Restore(ctx, st.DB, st.Dialect, cfg.DatabaseURL, *from)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "restored %s backup of %s (migration %s)\n", m.Dialect, m.CreatedAt.Format(time.RFC3339), m.Migration)
	if !*verify {
		return nil
	}
	diffs, err := backup.Verify(ctx, st.DB, st.Client, m)
	if err != nil {
		return err
	}
	for _, d := range diffs {
		fmt.Fprintln(stdout, "  MISMATCH:", d)
	}
	if len(diffs) > 0 {
		return fmt.Errorf("restore --verify: %d difference(s) from the backup's manifest", len(diffs))
	}
	fmt.Fprintf(stdout, "verified: %d tables with identical row counts and checksums, %d audit chains intact\n", len(m.Rows), len(m.AuditHeads))
	return nil
}

// anonymizeCmd writes an anonymized copy of the database as a backup
// directory of an SQLite dataset, which `vitalgraph restore --from DIR`
// loads into an embedded database (docs/runbooks.md, "Anonymized datasets").
func anonymizeCmd(ctx context.Context, cfg server.Config, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("anonymize", flag.ContinueOnError)
	out := fs.String("out", "", "directory to write (required; must not exist)")
	keyFile := fs.String("key-file", "", "HMAC key for the pseudonyms (same key → same pseudonyms across runs); default a random key")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" {
		return errors.New("anonymize: --out DIR is required")
	}
	if _, err := os.Stat(*out); err == nil {
		return fmt.Errorf("anonymize: %s exists", *out)
	}
	var key []byte
	if *keyFile != "" {
		b, err := os.ReadFile(*keyFile)
		if err != nil {
			return err
		}
		key = b
	}
	src, err := server.OpenStore(ctx, cfg.DatabaseURL, cfg.DataDir)
	if err != nil {
		return err
	}
	defer src.Close()
	work, err := os.MkdirTemp("", "vitalgraph-anonymize-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	dst, err := server.OpenSQLite(ctx, server.SQLiteDSN(work))
	if err != nil {
		return err
	}
	defer dst.Close()
	if _, err := dst.Migrate(ctx); err != nil {
		return err
	}
	rep, err := anonymize.Copy(ctx, src.DB, src.Dialect, dst.DB, dst.Dialect, anonymize.Options{Key: key})
	if err != nil {
		return err
	}
	m, err := backup.Write(ctx, dst.DB, dst.Dialect, "", *out, cfg.Version)
	if err != nil {
		return err
	}
	var rows int
	for _, n := range rep.Rows {
		rows += n
	}
	fmt.Fprintf(stdout, "anonymized %d users, %d rows into %s (sqlite dataset, sha256 %s); load it with: DATA_DIR=… vitalgraph restore --from %s --verify\n",
		rep.Users, rows, *out, m.FileSHA256, *out)
	return nil
}
