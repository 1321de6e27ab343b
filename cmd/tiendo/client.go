package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"tiendo"
	"tiendo/server"
)

// adminClient talks to the running server's admin API.
type adminClient struct {
	server string
	token  string
	http   *http.Client
}

// warnOut is where the admin commands warn; tests read it.
var warnOut io.Writer = os.Stderr

// clientFlags adds --server, --data and --admin-token to fs.
func clientFlags(fs *flag.FlagSet) func() (*adminClient, error) {
	srv := fs.String("server", "http://127.0.0.1:8080", "URL of the running tiendo server")
	data := fs.String("data", "", "data directory of the server (to read DIR/admin.token)")
	tok := fs.String("admin-token", os.Getenv("TIENDO_ADMIN_TOKEN"), "admin token (instead of --data; prefer TIENDO_ADMIN_TOKEN: argv is visible to every user of the host)")
	return func() (*adminClient, error) {
		fs.Visit(func(f *flag.Flag) {
			if f.Name == "admin-token" {
				// argv is in ps, /proc/PID/cmdline and the shell's history.
				fmt.Fprintln(warnOut, "tiendo: warning: --admin-token puts the admin token in the process list and shell history; "+
					"use --data DIR (reads DIR/admin.token) or the environment variable TIENDO_ADMIN_TOKEN")
			}
		})
		t := *tok
		if t == "" && *data != "" {
			b, err := os.ReadFile(filepath.Join(*data, server.AdminTokenFile))
			if err != nil {
				return nil, fmt.Errorf("read admin token: %w (is the server started with --data %s?)", err, *data)
			}
			t = strings.TrimSpace(string(b))
		}
		if t == "" {
			return nil, usageError{"give --data DIR or --admin-token T"}
		}
		return &adminClient{server: strings.TrimSuffix(*srv, "/"), token: t, http: &http.Client{Timeout: 60 * time.Second}}, nil
	}
}

// do sends a request and decodes a JSON answer into out (when non-nil). A
// non-2xx answer becomes an error carrying the server's message and items.
func (c *adminClient) do(ctx context.Context, method, path, contentType string, body []byte, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, c.server+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w (is tiendo serve running?)", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		var e struct {
			Error string `json:"error"`
			Items []struct {
				Index  int    `json:"index"`
				Field  string `json:"field"`
				Reason string `json:"reason"`
			} `json:"items"`
		}
		_ = json.Unmarshal(data, &e)
		msg := fmt.Sprintf("server answered %s: %s", resp.Status, e.Error)
		for _, it := range e.Items {
			msg += fmt.Sprintf("\n  row %d, %s: %s", it.Index+1, it.Field, it.Reason)
		}
		return fmt.Errorf("%s", msg)
	}
	if out == nil {
		return nil
	}
	if w, ok := out.(io.Writer); ok {
		_, err = w.Write(data)
		return err
	}
	return json.Unmarshal(data, out)
}

func runTokenIssue(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("token issue", flag.ContinueOnError)
	station := fs.String("station", "", "station id: a token that posts that station's events")
	role := fs.String("role", "", "role: "+tiendo.JoinRoles(tiendo.Roles(), ", "))
	subject := fs.String("subject", "", "unit id (role officer: a province, district or commune), district id (role district) or station id (role chief)")
	client := clientFlags(fs)
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	if (*station == "") == (*role == "") {
		return usageError{"give exactly one of --station ID or --role ROLE"}
	}
	c, err := client()
	if err != nil {
		return err
	}
	body, _ := json.Marshal(map[string]string{"station": *station, "role": *role, "subject": *subject})
	var out struct {
		Token   string      `json:"token"`
		ID      string      `json:"id"`
		Role    tiendo.Role `json:"role"`
		Subject string      `json:"subject"`
	}
	if err := c.do(ctx, http.MethodPost, "/api/v1/admin/tokens", "application/json", body, &out); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "# token %s, role %s %s (shown once; revoke with: tiendo token revoke --id %s)\n", out.ID, out.Role, out.Subject, out.ID)
	if out.Role == tiendo.RoleScreen {
		if link, expires, err := c.screenLink(ctx, out.ID); err == nil {
			fmt.Fprintf(stdout, "# one-time link for the command-room browser (open it before %s and press its button): %s\n", expires.Local().Format("15:04"), link)
		}
	}
	fmt.Fprintln(stdout, out.Token)
	return nil
}

func runTokenRevoke(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("token revoke", flag.ContinueOnError)
	id := fs.String("id", "", "public token id (from token issue or token list)")
	secret := fs.String("token", "", "the token itself")
	client := clientFlags(fs)
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	if (*id == "") == (*secret == "") {
		return usageError{"give exactly one of --id ID or --token SECRET"}
	}
	c, err := client()
	if err != nil {
		return err
	}
	body, _ := json.Marshal(map[string]string{"id": *id, "token": *secret})
	var out struct {
		ID string `json:"id"`
	}
	if err := c.do(ctx, http.MethodPost, "/api/v1/admin/tokens/revoke", "application/json", body, &out); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "revoked token %s\n", out.ID)
	return nil
}

func runTokenList(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("token list", flag.ContinueOnError)
	client := clientFlags(fs)
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	c, err := client()
	if err != nil {
		return err
	}
	var toks []struct {
		ID      string    `json:"id"`
		Role    string    `json:"role"`
		Subject string    `json:"subject"`
		Created time.Time `json:"created"`
		Revoked bool      `json:"revoked"`
	}
	if err := c.do(ctx, http.MethodGet, "/api/v1/admin/tokens", "", nil, &toks); err != nil {
		return err
	}
	for _, t := range toks {
		state := "live"
		if t.Revoked {
			state = "revoked"
		}
		fmt.Fprintf(stdout, "%s\t%s\t%s\t%s\t%s\n", t.ID, t.Role, t.Subject, t.Created.Format(time.RFC3339), state)
	}
	return nil
}

func runStationsImport(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("stations import", flag.ContinueOnError)
	client := clientFlags(fs)
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	if fs.NArg() != 1 {
		return usageError{"stations import needs one FILE (CSV: id,name,district,commune,kind,lanes,lat,lon,quota,synthetic)"}
	}
	data, err := os.ReadFile(fs.Arg(0))
	if err != nil {
		return err
	}
	c, err := client()
	if err != nil {
		return err
	}
	var out struct {
		Imported int `json:"imported"`
	}
	if err := c.do(ctx, http.MethodPost, "/api/v1/admin/stations", "text/csv", data, &out); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "imported %d stations\n", out.Imported)
	return nil
}

func runStationsExport(ctx context.Context, args []string, stdout io.Writer) error {
	return runAdminExport(ctx, "stations export", "/api/v1/admin/stations", args, stdout)
}

// runAdminExport is an export command: the admin API's CSV at path, as it
// comes, to stdout.
func runAdminExport(ctx context.Context, name, path string, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	client := clientFlags(fs)
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	c, err := client()
	if err != nil {
		return err
	}
	return c.do(ctx, http.MethodGet, path, "", nil, stdout)
}

// parseInterleaved parses fs's flags wherever they stand in args and
// returns the other arguments: the README writes `tiendo quotas import
// FILE --data DIR`, while flag.Parse stops at FILE. After "--" every
// argument is positional.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			return append(positional, rest...), nil
		}
		if len(rest) == 0 {
			return positional, nil
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}

func runQuotasImport(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("quotas import", flag.ContinueOnError)
	dryRun := fs.Bool("dry-run", false, "check the file and print what it would change, changing nothing")
	client := clientFlags(fs)
	files, err := parseInterleaved(fs, args)
	if err != nil {
		return usageError{err.Error()}
	}
	if len(files) != 1 {
		return usageError{"quotas import needs one FILE (CSV: level,id,quota with level district or station)"}
	}
	data, err := os.ReadFile(files[0])
	if err != nil {
		return err
	}
	c, err := client()
	if err != nil {
		return err
	}
	path := "/api/v1/admin/quotas"
	if *dryRun {
		path += "?dry_run=1"
	}
	var out struct {
		DryRun bool `json:"dry_run"`
		tiendo.QuotaReport
	}
	if err := c.do(ctx, http.MethodPost, path, "text/csv", data, &out); err != nil {
		return err
	}
	printQuotaReport(stdout, out.DryRun, out.QuotaReport)
	return nil
}

// printQuotaReport says what a quota import changed, one quota a line,
// then the totals and the warnings.
func printQuotaReport(w io.Writer, dryRun bool, r tiendo.QuotaReport) {
	verb := "changed"
	if dryRun {
		verb = "would change (dry run, nothing saved)"
	}
	for _, ch := range r.Changed {
		fmt.Fprintf(w, "%s %s: %d -> %d (%+d)\n", ch.Level, ch.ID, ch.Old, ch.New, ch.New-ch.Old)
	}
	fmt.Fprintf(w, "%s %d quotas, %d unchanged; districts %d -> %d, stations %d -> %d; campaign target %d\n",
		verb, len(r.Changed), r.Unchanged, r.Districts.Old, r.Districts.New, r.Stations.Old, r.Stations.New, r.Target)
	for _, warning := range r.Warnings {
		fmt.Fprintln(w, "warning:", warning)
	}
}

func runQuotasExport(ctx context.Context, args []string, stdout io.Writer) error {
	return runAdminExport(ctx, "quotas export", "/api/v1/admin/quotas", args, stdout)
}

func runUserAdd(ctx context.Context, args []string, stdin io.Reader, stdout io.Writer) error {
	fs := flag.NewFlagSet("user add", flag.ContinueOnError)
	name := fs.String("name", "", "user name (letters, digits, '.', '_', '-')")
	role := fs.String("role", "", tiendo.JoinRoles(tiendo.PersonRoles(), " or "))
	subject := fs.String("subject", "", "unit id (role officer: a province, district or commune), district id (role district) or station id (role chief)")
	fromStdin := fs.Bool("password-stdin", false, "read the password from the first line of stdin instead of generating one")
	client := clientFlags(fs)
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	if *name == "" || *role == "" {
		return usageError{"user add needs --name and --role"}
	}
	password := ""
	if *fromStdin {
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && line == "" {
			return fmt.Errorf("read password from stdin: %w", err)
		}
		password = strings.TrimRight(line, "\r\n")
	}
	c, err := client()
	if err != nil {
		return err
	}
	body, _ := json.Marshal(map[string]string{"name": *name, "role": *role, "subject": *subject, "password": password})
	var out struct {
		Name     string `json:"name"`
		Role     string `json:"role"`
		Subject  string `json:"subject"`
		Password string `json:"password"`
	}
	if err := c.do(ctx, http.MethodPost, "/api/v1/admin/users", "application/json", body, &out); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "# user %s, role %s %s: sign in at %s/login\n", out.Name, out.Role, out.Subject, c.server)
	if out.Password != "" {
		fmt.Fprintln(stdout, "# generated password (shown once):")
		fmt.Fprintln(stdout, out.Password)
	}
	return nil
}

func runUserRemove(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("user remove", flag.ContinueOnError)
	name := fs.String("name", "", "user name to remove (their sessions and open pages end at once)")
	client := clientFlags(fs)
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	if *name == "" {
		return usageError{"user remove needs --name"}
	}
	c, err := client()
	if err != nil {
		return err
	}
	body, _ := json.Marshal(map[string]string{"name": *name})
	if err := c.do(ctx, http.MethodPost, "/api/v1/admin/users/remove", "application/json", body, nil); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "removed user %s; their sessions have ended\n", *name)
	return nil
}

// screenLink asks for a one-time link that signs a command-room browser in
// as screen token id, and returns its full URL.
func (c *adminClient) screenLink(ctx context.Context, id string) (string, time.Time, error) {
	body, _ := json.Marshal(map[string]string{"id": id})
	var out struct {
		Path    string    `json:"path"`
		Expires time.Time `json:"expires"`
	}
	if err := c.do(ctx, http.MethodPost, "/api/v1/admin/screen-links", "application/json", body, &out); err != nil {
		return "", time.Time{}, err
	}
	return c.server + out.Path, out.Expires, nil
}

func runScreenLink(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("screen link", flag.ContinueOnError)
	id := fs.String("id", "", "id of a screen token (from token issue --role screen, or token list)")
	client := clientFlags(fs)
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	if *id == "" {
		return usageError{"screen link needs --id TOKEN_ID"}
	}
	c, err := client()
	if err != nil {
		return err
	}
	link, expires, err := c.screenLink(ctx, *id)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "# open once on the command-room PC before %s and press its button; revoke with: tiendo token revoke --id %s\n",
		expires.Local().Format("15:04"), *id)
	fmt.Fprintln(stdout, link)
	return nil
}
