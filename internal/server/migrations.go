package server

import (
	"log/slog"

	"github.com/bascule/bascule/internal/api"
	"github.com/bascule/bascule/internal/config"
	"github.com/bascule/bascule/internal/deploy"
	"github.com/bascule/bascule/internal/migrate"
	migpostgres "github.com/bascule/bascule/internal/migrate/postgres"
	migsqlite "github.com/bascule/bascule/internal/migrate/sqlite"
)

var (
	_ deploy.Migrations = (*migrate.Migrator)(nil)
	_ api.Migrations    = (*migrate.Migrator)(nil)
)

// newMigrator builds the migrations of the app's database (database: and
// migrate: in bascule.yaml), nil when the app has no database. commands
// runs the users' migration commands; nil runs them here.
func newMigrator(cfg config.Config, commands migrate.CommandRunner, log *slog.Logger) *migrate.Migrator {
	var d migrate.Dialect
	switch cfg.Database.Driver {
	case config.DriverPostgres:
		d = migpostgres.Dialect{}
	case config.DriverSQLite:
		d = migsqlite.Dialect{}
	default:
		return nil
	}
	return migrate.New(migrate.Options{Dialect: d, URL: cfg.Database.URL, ShadowURL: cfg.Migrate.ShadowURL,
		LockTimeout: cfg.Migrate.LockTimeout, StatementTimeout: cfg.Migrate.StatementTimeout, ExpandCommand: cfg.Migrate.ExpandCommand,
		ContractCommand: cfg.Migrate.ContractCommand, CompatCommand: cfg.Migrate.CompatCommand, CompatTimeout: cfg.Migrate.CompatTimeout,
		Commands: commands, Logger: log.With("component", "migrate")})
}

// deployMigrations and apiMigrations hand m to the pipeline and the API
// as a nil interface when there is no database: a nil *Migrator in an
// interface would not compare equal to nil.
func deployMigrations(m *migrate.Migrator) deploy.Migrations {
	if m == nil {
		return nil
	}
	return m
}

func apiMigrations(m *migrate.Migrator) api.Migrations {
	if m == nil {
		return nil
	}
	return m
}
