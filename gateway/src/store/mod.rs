//! All SQL lives under this module. One `Store` over sqlx's `Any` driver: SQLite by default (a
//! file, WAL mode, no server), PostgreSQL when `database_url` says `postgres://`. The SQL is kept
//! portable (`$n` placeholders, BIGINT millisecond times, TEXT ids) so both run the same queries.

mod agents;
mod attachments;
mod audit;
mod canned;
mod channels;
mod cobrowse;
mod contacts;
mod conversations;
mod emails;
mod erasure;
mod group_commit;
mod history;
mod identities;
mod join_links;
mod lifecycle;
mod live_visitors;
mod messages;
mod outbox;
mod queues;
mod ratings;
mod reports;
mod search_index;
mod sessions;
mod settings;
mod statistics;
mod tx;
mod webhooks;

pub use agents::{AgentCounts, AgentRecord};
pub use attachments::{NewUpload, StoredFile};
pub use audit::AuditFilter;
pub use channels::{CaptchaSettings, ChannelRecord, ChannelRef};
pub use contacts::{ContactRecord, PrechatContact};
pub use conversations::ConversationFilter;
pub use emails::{DueEmail, EmailOutcome};
pub use history::{HistoryFilter, RatingFilter};
pub use identities::{
    Identified, MAX_ATTRIBUTES, MAX_ATTRIBUTE_KEY_CHARS, MAX_ATTRIBUTE_VALUE_CHARS,
};
pub use join_links::JoinRefusal;
pub use lifecycle::{Transfer, TransferTo};
pub use live_visitors::{LiveFilter, LivePageView};
pub use messages::{
    uploader_of_agent, uploader_of_visitor, Appended, NewMessage, OwnedAuthor, ReplyAuthor,
    StartWith, VisitContext, API_UPLOADER,
};
pub use outbox::{DueDelivery, Outcome};
pub use queues::{Candidate, QueueRecord, DEFAULT_QUEUE};
pub use reports::{LocalClock, ReportFilter, ReportGroups, RowSums, Timed};
pub use webhooks::WebhookEndpoint;

use futures_util::future::BoxFuture;
use sqlx::any::AnyPoolOptions;
use sqlx::error::BoxDynError;
use sqlx::migrate::{Migration, MigrationSource, MigrationType, Migrator};
use sqlx::AnyPool;
use std::borrow::Cow;
use std::sync::Arc;
use tokio::sync::Notify;

use crate::error::Result;
use tx::Columns;

#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    /// Notified after a commit that put deliveries in the outbox, so the worker sends them at
    /// once instead of at its next poll.
    outbox_ready: Arc<Notify>,
    /// Where message appends go (see [`group_commit`]).
    writer: group_commit::Writer,
    /// Page views waiting to be written together (see [`live_visitors`]).
    page_views: Arc<live_visitors::PendingViews>,
    /// SQLite rather than PostgreSQL: where the two differ (full-text search).
    is_sqlite: bool,
}

/// Migrations compiled into the binary, so a gateway needs no files beside it. Never edit an
/// applied migration: add a new one.
const MIGRATIONS: &[(i64, &str, Sql)] = &[
    (
        1,
        "foundation",
        Sql::Both(include_str!("../../migrations/0001_foundation.sql")),
    ),
    (
        2,
        "channel gate",
        Sql::Both(include_str!("../../migrations/0002_channel_gate.sql")),
    ),
    (
        3,
        "visibility and presence",
        Sql::Both(include_str!(
            "../../migrations/0003_visibility_presence.sql"
        )),
    ),
    (
        4,
        "agents and queues",
        Sql::Both(include_str!("../../migrations/0004_agents_queues.sql")),
    ),
    (
        5,
        "webhooks",
        Sql::Both(include_str!("../../migrations/0005_webhooks.sql")),
    ),
    (
        6,
        "outbox and integrations",
        Sql::Both(include_str!(
            "../../migrations/0006_outbox_integrations.sql"
        )),
    ),
    (
        7,
        "hardening",
        Sql::Both(include_str!("../../migrations/0007_hardening.sql")),
    ),
    (
        8,
        "attachments",
        Sql::Both(include_str!("../../migrations/0008_attachments.sql")),
    ),
    (
        9,
        "nobody missed",
        Sql::Both(include_str!("../../migrations/0009_nobody_missed.sql")),
    ),
    (
        10,
        "host page",
        Sql::Both(include_str!("../../migrations/0010_host_page.sql")),
    ),
    (
        11,
        "widget texts",
        Sql::Both(include_str!("../../migrations/0011_texts.sql")),
    ),
    (
        12,
        "theme",
        Sql::Both(include_str!("../../migrations/0012_theme.sql")),
    ),
    (
        13,
        "look",
        Sql::Both(include_str!("../../migrations/0013_look.sql")),
    ),
    (
        14,
        "statistics",
        Sql::Both(include_str!("../../migrations/0014_statistics.sql")),
    ),
    (
        15,
        "ratings",
        Sql::Both(include_str!("../../migrations/0015_ratings.sql")),
    ),
    (
        16,
        "search",
        Sql::Each {
            sqlite: include_str!("../../migrations/0016_search.sqlite.sql"),
            postgres: include_str!("../../migrations/0016_search.postgres.sql"),
        },
    ),
    (
        17,
        "retention",
        Sql::Both(include_str!("../../migrations/0017_retention.sql")),
    ),
    (
        18,
        "audit",
        Sql::Both(include_str!("../../migrations/0018_audit.sql")),
    ),
    (
        19,
        "report index",
        Sql::Both(include_str!("../../migrations/0019_report_index.sql")),
    ),
    (
        20,
        "search behind the appends",
        Sql::Each {
            sqlite: include_str!("../../migrations/0020_search_behind.sqlite.sql"),
            postgres: include_str!("../../migrations/0020_search_behind.postgres.sql"),
        },
    ),
    (
        21,
        "co-browsing",
        Sql::Both(include_str!("../../migrations/0021_cobrowse.sql")),
    ),
];

/// A migration's SQL: portable, or one per backend where they differ (full-text search).
enum Sql {
    Both(&'static str),
    Each {
        sqlite: &'static str,
        postgres: &'static str,
    },
}

/// The migrations for one backend.
#[derive(Debug)]
struct EmbeddedMigrations {
    sqlite: bool,
}

impl MigrationSource<'static> for EmbeddedMigrations {
    fn resolve(self) -> BoxFuture<'static, Result<Vec<Migration>, BoxDynError>> {
        Box::pin(async move {
            Ok(MIGRATIONS
                .iter()
                .map(|(version, description, sql)| {
                    let sql = match sql {
                        Sql::Both(sql) => sql,
                        Sql::Each { sqlite, .. } if self.sqlite => sqlite,
                        Sql::Each { postgres, .. } => postgres,
                    };
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
        Migrator::new(EmbeddedMigrations { sqlite: is_sqlite })
            .await?
            .run(&pool)
            .await?;
        let outbox_ready = Arc::new(Notify::new());
        let sqlite_file = is_sqlite.then(|| sqlite_file(database_url)).transpose()?;
        Ok(Self {
            writer: group_commit::Writer::start(sqlite_file.as_deref(), outbox_ready.clone())?,
            pool,
            outbox_ready,
            page_views: Arc::default(),
            is_sqlite,
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

/// The file a `sqlite:` URL names: the writer opens its own connection to it, so it cannot be
/// an in-memory database (each connection would have its own).
pub(crate) fn sqlite_file(database_url: &str) -> Result<std::path::PathBuf> {
    use std::str::FromStr;
    let options = sqlx::sqlite::SqliteConnectOptions::from_str(database_url)?;
    let file = options.get_filename();
    let name = file.to_string_lossy();
    // sqlx names an in-memory database `file:sqlx-in-memory-…`.
    if name.is_empty() || name.contains(":memory:") || name.starts_with("file:sqlx-in-memory") {
        return Err(crate::error::Error::Config(
            "database_url: SQLite must be a file, not an in-memory database".into(),
        ));
    }
    Ok(file.to_path_buf())
}

/// `text` inside a LIKE pattern (written with `ESCAPE '\'`): its own `%`, `_` and `\` match
/// themselves.
fn like_literal(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
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
fn col_i64(row: &impl Columns, name: &str) -> Result<i64> {
    row.opt_i64(name)?.ok_or_else(|| null_column(name))
}

fn col_opt_i64(row: &impl Columns, name: &str) -> Result<Option<i64>> {
    row.opt_i64(name)
}

fn col_str(row: &impl Columns, name: &str) -> Result<String> {
    row.opt_str(name)?.ok_or_else(|| null_column(name))
}

fn col_opt_str(row: &impl Columns, name: &str) -> Result<Option<String>> {
    row.opt_str(name)
}

fn null_column(name: &str) -> crate::error::Error {
    crate::error::Error::Internal(format!("column {name} is null"))
}

/// Reads a column holding one of an enum's names; a name no variant has is a corrupt row,
/// refused loudly rather than read as some default.
fn col_name<T>(row: &impl Columns, name: &str) -> Result<T>
where
    T: std::str::FromStr<Err = protocol::names::UnknownName>,
{
    col_str(row, name)?
        .parse()
        .map_err(|e| crate::error::Error::Internal(format!("column {name}: {e}")))
}

fn col_opt_name<T>(row: &impl Columns, name: &str) -> Result<Option<T>>
where
    T: std::str::FromStr<Err = protocol::names::UnknownName>,
{
    col_opt_str(row, name)?
        .map(|value| value.parse())
        .transpose()
        .map_err(|e| crate::error::Error::Internal(format!("column {name}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::sqlite_file;

    #[test]
    fn the_writer_needs_a_sqlite_file_not_memory() {
        assert_eq!(
            sqlite_file("sqlite://data/livechat.db?mode=rwc").unwrap(),
            std::path::Path::new("data/livechat.db")
        );
        for memory in ["sqlite::memory:", "sqlite://:memory:"] {
            assert!(
                matches!(sqlite_file(memory), Err(crate::error::Error::Config(_))),
                "{memory}"
            );
        }
    }
}
