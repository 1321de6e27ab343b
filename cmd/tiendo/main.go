// Command tiendo is the one binary of Tiến Độ: the server (serve) and the
// operator's commands, which are clients of the running server's admin API
// because the embedded engine's files belong to the one serving process.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	_ "time/tzdata" // the campaign's zone must load on hosts without zoneinfo files
)

const usage = `tiendo — live dashboard of an enrolment campaign

Usage:
  tiendo serve --data DIR [--clickhouse tcp://HOST:9000/DB] [--addr :8080] [--clock wall|replay] [--log nats://H1:P1,H2:P2,...]
  tiendo migrate --clickhouse tcp://R1:9000[,R2:9000,...]/DB
  tiendo admin init --log nats://H1:P1,H2:P2,...   (an admin token for every node of a cluster)
  tiendo log-server --data DIR [--addr 127.0.0.1:4222] [--cluster HOST:PORT --routes nats://HOST:PORT,...]
  tiendo token issue (--station ID | --role ROLE [--subject ID]) [client flags]
  tiendo token revoke (--id ID | --token SECRET) [client flags]
  tiendo token list [client flags]
  tiendo user add --name NAME --role ROLE [--subject ID] [--password-stdin] [client flags]
  tiendo user remove --name NAME [client flags]
  tiendo screen link --id SCREEN_TOKEN_ID [client flags]
  tiendo stations import FILE [client flags]
  tiendo stations export [client flags]
  tiendo quotas import FILE [--dry-run] [client flags]   (CSV: level,id,quota; level district or station)
  tiendo quotas export [client flags]
  tiendo simulate --server URL (--data DIR | --admin-token T) [--from 2021-03-10] [--to 2021-07-01] [--speed N|max] [--live] [--seed N]

Client flags:
  --server URL        the running server (default http://127.0.0.1:8080)
  --data DIR          read the admin token from DIR/admin.token
  --admin-token T     or give it directly (warns: argv is public; prefer TIENDO_ADMIN_TOKEN=T)
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		var ue usageError
		if errors.As(err, &ue) {
			fmt.Fprintln(os.Stderr, "tiendo:", err)
			fmt.Fprint(os.Stderr, usage)
			os.Exit(2)
		}
		fmt.Fprintln(os.Stderr, "tiendo:", err)
		os.Exit(1)
	}
}

type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usageError{"no command"}
	}
	cmd, rest := args[0], args[1:]
	sub := ""
	if len(rest) > 0 {
		sub = rest[0]
	}
	switch {
	case cmd == "serve":
		return runServe(ctx, rest, stderr)
	case cmd == "log-server":
		return runLogServer(ctx, rest, stdout, stderr)
	case cmd == "migrate":
		return runMigrate(ctx, rest, stdout, stderr)
	case cmd == "admin" && sub == "init":
		return runAdminInit(ctx, rest[1:], stdout, stderr)
	case cmd == "token" && sub == "issue":
		return runTokenIssue(ctx, rest[1:], stdout)
	case cmd == "token" && sub == "revoke":
		return runTokenRevoke(ctx, rest[1:], stdout)
	case cmd == "token" && sub == "list":
		return runTokenList(ctx, rest[1:], stdout)
	case cmd == "user" && sub == "add":
		return runUserAdd(ctx, rest[1:], os.Stdin, stdout)
	case cmd == "user" && sub == "remove":
		return runUserRemove(ctx, rest[1:], stdout)
	case cmd == "screen" && sub == "link":
		return runScreenLink(ctx, rest[1:], stdout)
	case cmd == "stations" && sub == "import":
		return runStationsImport(ctx, rest[1:], stdout)
	case cmd == "stations" && sub == "export":
		return runStationsExport(ctx, rest[1:], stdout)
	case cmd == "quotas" && sub == "import":
		return runQuotasImport(ctx, rest[1:], stdout)
	case cmd == "quotas" && sub == "export":
		return runQuotasExport(ctx, rest[1:], stdout)
	case cmd == "simulate":
		return runSimulate(ctx, rest, stdout, stderr)
	case cmd == "help" || cmd == "-h" || cmd == "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	return usageError{fmt.Sprintf("unknown command %q", args)}
}
