//! All SQL lives under this module. One `Store` over sqlx's `Any` driver: SQLite by default (a
//! file, WAL mode, no server), PostgreSQL when `database_url` says `postgres://`. The SQL is kept
//! portable (`$n` placeholders, BIGINT millisecond times, TEXT ids) so both run the same queries.

mod agents;
mod canned;
mod channels;
mod contacts;
mod conversations;
mod group_commit;
mod join_links;
mod lifecycle;
mod messages;
mod outbox;
mod queues;
mod sessions;
mod settings;
mod webhooks;

pub use agents::{AgentCounts, AgentRecord};
pub use channels::{CaptchaSettings, ChannelRecord, ChannelRef};
pub use contacts::ContactRecord;
pub use conversations::ConversationFilter;
pub use join_links::JoinRefusal;
pub use lifecycle::{Transfer, TransferTo};
pub use messages::{Appended, NewMessage, ReplyAuthor, VisitContext};
pub use outbox::{DueDelivery, Outcome};
pub use queues::{Candidate, QueueRecord, DEFAULT_QUEUE};
pub use webhooks::WebhookEndpoint;

use futures_util::future::BoxFuture;
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::error::BoxDynError;
use sqlx::migrate::{Migration, MigrationSource, MigrationType, Migrator};
use sqlx::AnyPool;
use std::borrow::Cow;
use std::sync::Arc;
use tokio::sync::Notify;

use crate::error::Result;

#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    /// Notified after a commit that put deliveries in the outbox, so the worker sends them at
    /// once instead of at its next poll.
    outbox_ready: Arc<Notify>,
    /// Where message appends go (see [`group_commit`]).
    writer: group_commit::Writer,
}

/// Migrations compiled into the binary, so a gateway needs no files beside it. Never edit an
/// applied migration: add a new one.
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "foundation",
        include_str!("../../migrations/0001_foundation.sql"),
    ),
    (
        2,
        "channel gate",
        include_str!("../../migrations/0002_channel_gate.sql"),
    ),
    (
        3,
        "visibility and presence",
        include_str!("../../migrations/0003_visibility_presence.sql"),
    ),
    (
        4,
        "agents and queues",
        include_str!("../../migrations/0004_agents_queues.sql"),
    ),
    (
        5,
        "webhooks",
        include_str!("../../migrations/0005_webhooks.sql"),
    ),
    (
        6,
        "outbox and integrations",
        include_str!("../../migrations/0006_outbox_integrations.sql"),
    ),
    (
        7,
        "hardening",
        include_str!("../../migrations/0007_hardening.sql"),
    ),
];

#[derive(Debug)]
struct EmbeddedMigrations;

impl MigrationSource<'static> for EmbeddedMigrations {
    fn resolve(self) -> BoxFuture<'static, Result<Vec<Migration>, BoxDynError>> {
        Box::pin(async {
            Ok(MIGRATIONS
                .iter()
                .map(|(version, description, sql)| {
                    Migration::new(
                        *version,
                        Cow::Borrowed(*description),
                        MigrationType::Simple,
                        Cow::Borrowed(*sql),
                        false,
                    )
                })
                .collect())
        })
    }
}

impl Store {
    /// Connects and brings the schema up to date.
    pub async fn connect(database_url: &str) -> Result<Self> {
        sqlx::any::install_default_drivers();
        let is_sqlite = database_url.starts_with("sqlite:");
        let pool = AnyPoolOptions::new()
            .max_connections(if is_sqlite { 8 } else { 16 })
            .connect(database_url)
            .await?;
        if is_sqlite {
            // WAL lets readers run beside the single writer; the setting persists in the file.
            sqlx::query("PRAGMA journal_mode = WAL")
                .execute(&pool)
                .await?;
        }
        Migrator::new(EmbeddedMigrations).await?.run(&pool).await?;
        let outbox_ready = Arc::new(Notify::new());
        Ok(Self {
            writer: group_commit::Writer::start(&pool, is_sqlite, outbox_ready.clone())?,
            pool,
            outbox_ready,
        })
    }

    /// Runs a write through the writer; its output once committed.
    async fn write<W: group_commit::Write>(&self, write: W) -> Result<W::Output> {
        group_commit::write(&self.writer, &self.pool, &self.outbox_ready, write).await
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// `$from, $from+1, …` for an `IN (…)` list of `n` values.
fn placeholders(from: usize, n: usize) -> String {
    (from..from + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Whether an error is a unique-constraint violation, on either backend.
fn is_unique_violation(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db) if db.is_unique_violation())
}

/// Reads a column the `Any` driver decodes as i64 on both backends.
fn col_i64(row: &AnyRow, name: &str) -> Result<i64> {
    use sqlx::Row;
    Ok(row.try_get::<i64, _>(name)?)
}

fn col_opt_i64(row: &AnyRow, name: &str) -> Result<Option<i64>> {
    use sqlx::Row;
    Ok(row.try_get::<Option<i64>, _>(name)?)
}

fn col_str(row: &AnyRow, name: &str) -> Result<String> {
    use sqlx::Row;
    Ok(row.try_get::<String, _>(name)?)
}

fn col_opt_str(row: &AnyRow, name: &str) -> Result<Option<String>> {
    use sqlx::Row;
    Ok(row.try_get::<Option<String>, _>(name)?)
}

/// Reads a column holding one of an enum's names; a name no variant has is a corrupt row,
/// refused loudly rather than read as some default.
fn col_name<T>(row: &AnyRow, name: &str) -> Result<T>
where
    T: std::str::FromStr<Err = protocol::names::UnknownName>,
{
    col_str(row, name)?
        .parse()
        .map_err(|e| crate::error::Error::Internal(format!("column {name}: {e}")))
}

fn col_opt_name<T>(row: &AnyRow, name: &str) -> Result<Option<T>>
where
    T: std::str::FromStr<Err = protocol::names::UnknownName>,
{
    col_opt_str(row, name)?
        .map(|value| value.parse())
        .transpose()
        .map_err(|e| crate::error::Error::Internal(format!("column {name}: {e}")))
}
