package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/vitalgraph/vitalgraph/app/auth"
)

// Operations commands for images and deployments. Both run before the
// configuration is loaded: a probe or a key generator must not need (or be
// refused for) the server's secrets.

// healthcheckCmd probes the local server (distroless images have no curl):
// exit 0 when GET URL answers 200 within the timeout. The default URL is
// /readyz on the port of ADDR.
func healthcheckCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	flags := flag.NewFlagSet("healthcheck", flag.ContinueOnError)
	flags.SetOutput(stderr)
	url := flags.String("url", defaultHealthURL(getenv("ADDR")), "URL to probe (default: /readyz on the port of ADDR)")
	timeout := flags.Duration("timeout", 3*time.Second, "give up after this long")
	if err := flags.Parse(args); err != nil {
		return err
	}
	if flags.NArg() > 0 {
		return fmt.Errorf("healthcheck: unexpected argument %q", flags.Arg(0))
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, *url, nil)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: %s answered %s", *url, resp.Status)
	}
	fmt.Fprintf(stdout, "ok %s\n", *url)
	return nil
}

// defaultHealthURL is http://127.0.0.1:PORT/readyz for the listen address
// addr (":8080", "0.0.0.0:9000", "[::]:8080").
func defaultHealthURL(addr string) string {
	port := "8080"
	if _, p, err := net.SplitHostPort(strings.TrimSpace(addr)); err == nil && p != "" {
		port = p
	}
	return "http://" + net.JoinHostPort("127.0.0.1", port) + "/readyz"
}

// keysCmd manages JWT key ring files (the JWT_KEYS_FILE format of
// app/auth/keys.go).
func keysCmd(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "generate" {
		return errors.New("keys: generate [--out FILE] [--kid ID] [--if-missing | --rotate]")
	}
	flags := flag.NewFlagSet("keys generate", flag.ContinueOnError)
	flags.SetOutput(stderr)
	out := flags.String("out", "-", "file to write (- = stdout); written with mode 0600")
	kid := flags.String("kid", "", "key id (default: UTC date and time plus random suffix)")
	ifMissing := flags.Bool("if-missing", false, "do nothing when --out already holds a valid key ring (first-start init)")
	rotate := flags.Bool("rotate", false, "keep the keys of --out for verification and sign with a new key")
	if err := flags.Parse(args[1:]); err != nil {
		return err
	}
	if flags.NArg() > 0 {
		return fmt.Errorf("keys generate: unexpected argument %q", flags.Arg(0))
	}
	if *ifMissing && *rotate {
		return errors.New("keys generate: --if-missing and --rotate exclude each other")
	}
	if (*ifMissing || *rotate) && *out == "-" {
		return errors.New("keys generate: --if-missing and --rotate need --out FILE")
	}
	var existing []byte
	if *out != "-" {
		b, err := os.ReadFile(*out)
		switch {
		case err == nil:
			if _, perr := auth.ParseKeyRing(b); perr != nil {
				return fmt.Errorf("keys generate: %s exists but is not a valid key ring (left untouched): %w", *out, perr)
			}
			if *ifMissing {
				fmt.Fprintf(stderr, "keys generate: %s already holds a key ring; unchanged\n", *out)
				return nil
			}
			if !*rotate {
				return fmt.Errorf("keys generate: %s exists: pass --rotate to add a signing key, or --if-missing", *out)
			}
			existing = b
		case errors.Is(err, fs.ErrNotExist):
			if *rotate {
				return fmt.Errorf("keys generate --rotate: %s does not exist", *out)
			}
		default:
			return fmt.Errorf("keys generate: %w", err)
		}
	}
	data, newKID, err := newKeyRingFile(existing, *kid, time.Now())
	if err != nil {
		return fmt.Errorf("keys generate: %w", err)
	}
	if *out == "-" {
		_, err := stdout.Write(data)
		return err
	}
	if err := writeFileAtomic(*out, data, 0o600); err != nil {
		return fmt.Errorf("keys generate: %w", err)
	}
	fmt.Fprintf(stderr, "keys generate: wrote %s (signing key %q)\n", *out, newKID)
	return nil
}

// keyRingFile is the JSON written by keys generate; field names follow the
// keyFile format that auth.ParseKeyRing reads.
type keyRingFile struct {
	SigningKey string            `json:"signingKey"`
	Keys       []json.RawMessage `json:"keys"`
}

// newKeyRingFile returns a key ring whose signing key is a new Ed25519 key;
// the keys of existing (a valid ring, or nil) are kept for verification.
// The result is checked with auth.ParseKeyRing before it is returned.
func newKeyRingFile(existing []byte, kid string, now time.Time) ([]byte, string, error) {
	var f keyRingFile
	if existing != nil {
		if err := json.Unmarshal(existing, &f); err != nil {
			return nil, "", err
		}
	}
	if kid == "" {
		suffix := make([]byte, 3)
		if _, err := rand.Read(suffix); err != nil {
			return nil, "", err
		}
		kid = now.UTC().Format("2006-01-02T150405Z") + "-" + hex.EncodeToString(suffix)
	}
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, "", err
	}
	key, err := json.Marshal(map[string]string{
		"kid": kid, "alg": "EdDSA", "privateKey": base64.StdEncoding.EncodeToString(priv.Seed()),
	})
	if err != nil {
		return nil, "", err
	}
	f.SigningKey = kid
	f.Keys = append([]json.RawMessage{key}, f.Keys...)
	data, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return nil, "", err
	}
	data = append(data, '\n')
	ring, err := auth.ParseKeyRing(data)
	if err != nil {
		return nil, "", err
	}
	if got, _, ok := ring.Signer(); !ok || got != kid {
		return nil, "", errors.New("generated key ring has no signing key")
	}
	return data, kid, nil
}

// writeFileAtomic writes data to a temporary file beside path and renames
// it into place, so a reader never sees half a key ring.
func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer func() { _ = os.Remove(tmp.Name()) }() // already gone after the rename
	if err := tmp.Chmod(perm); err != nil {
		_ = tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		_ = tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		_ = tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
