package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/schoollife/ledger/projections"
)

// A deployment is the set of nodes that share one ledger: its read models
// hold their forwarder's lock and checkpoint, so it is named after their
// database unless --deployment names it. The bus derives its subjects,
// stream and tables from the name (adapters/bus), and the hubs take only
// its messages (adapters/live): deployments sharing a NATS server or a bus
// database never see each other's events. See docs/deployments.md.

// Names persisted in the read-model store: never rename one.
const (
	deploymentNamespace = "deployment@1"
	deploymentColl      = "deployment"
	deploymentKey       = "name"
)

// deploymentName returns cfg's deployment, or the name of the database of
// the read models:
//
//   - Postgres: "DATABASE-SYSTEMID", the database's name and the cluster's
//     system identifier (pg_control_system), which initdb draws at random:
//     two databases of one cluster differ by name, two clusters by
//     identifier. Every node reads the same without writing anything,
//     however many start at once.
//   - SQLite: a name drawn at random on the first start and kept in the
//     database. Not the file's path: each machine or container of a
//     demo has its ledger.db at the same path, and the path changes when
//     the file moves. (A copied file keeps the name: give the copy its own
//     --deployment.) SQLite serializes writers, so nodes sharing the file
//     agree on the first start too.
func (a *app) deploymentName(ctx context.Context, cfg *Config) (string, error) {
	if cfg.Bus.Deployment != "" {
		return cfg.Bus.Deployment, nil
	}
	if a.docsPool != nil {
		return postgresDeployment(ctx, a.docsPool)
	}
	return storedDeployment(ctx, a.docs)
}

// postgresDeployment names the deployment after the database of pool.
func postgresDeployment(ctx context.Context, pool *pgxpool.Pool) (string, error) {
	var db string
	var system int64
	err := pool.QueryRow(ctx, `SELECT current_database(), system_identifier FROM pg_control_system()`).Scan(&db, &system)
	if err != nil {
		return "", fmt.Errorf("name the deployment after its database (or give --deployment): %w", err)
	}
	return fmt.Sprintf("%s-%d", db, system), nil
}

// storedDeployment returns the name kept in docs, drawn on the first call.
func storedDeployment(ctx context.Context, docs projections.DocStore) (string, error) {
	var name string
	err := docs.Update(ctx, deploymentNamespace, func(tx projections.DocTx) error {
		ok, err := projections.GetJSON(ctx, tx, deploymentColl, deploymentKey, &name)
		if err != nil || ok {
			return err
		}
		name = "ledger-" + uuid.NewString()
		return tx.Put(ctx, []projections.Doc{{Coll: deploymentColl, Key: deploymentKey, Value: fmt.Appendf(nil, "%q", name)}})
	})
	if err == nil && name == "" {
		err = errors.New("empty name")
	}
	if err != nil {
		return "", fmt.Errorf("name the deployment: %w", err)
	}
	return name, nil
}
