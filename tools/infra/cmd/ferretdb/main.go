// Command ferretdb runs FerretDB v1 through its embeddable package.
//
// The upstream cmd/ferretdb binary refuses to start unless it is built by FerretDB's own task
// runner (it panics on a missing build/version/version.txt, which `go build` from the module
// proxy never has). The embeddable package is the same server without that check, with
// telemetry disabled.
package main

import (
	"context"
	"flag"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listen := flag.String("listen-addr", envOr("FERRETDB_LISTEN_ADDR", "127.0.0.1:27017"), "TCP address to listen on")
	handler := flag.String("handler", envOr("FERRETDB_HANDLER", "sqlite"), "backend handler: sqlite or postgresql")
	sqliteURL := flag.String("sqlite-url", envOr("FERRETDB_SQLITE_URL", "file:data/"), "SQLite directory URI")
	postgresURL := flag.String("postgresql-url", envOr("FERRETDB_POSTGRESQL_URL", ""), "PostgreSQL URL")
	flag.Parse()

	logger := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))

	f, err := ferretdb.New(&ferretdb.Config{
		Listener:      ferretdb.ListenerConfig{TCP: *listen},
		Logger:        logger,
		Handler:       *handler,
		SQLiteURL:     *sqliteURL,
		PostgreSQLURL: *postgresURL,
	})
	if err != nil {
		logger.Error("ferretdb: start failed", "error", err)
		os.Exit(1)
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	logger.Warn("ferretdb: listening", "addr", *listen, "handler", *handler)
	if err := f.Run(ctx); err != nil {
		logger.Error("ferretdb: stopped", "error", err)
		os.Exit(1)
	}
}

func envOr(name, fallback string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return fallback
}
