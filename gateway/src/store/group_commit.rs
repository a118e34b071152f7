//! Group commit: on SQLite, every message append (and every visit ticket's use, one per chat
//! session opened) goes through one writer thread, which runs the writes waiting at that
//! moment in one transaction, on a connection of its own (statements run on that thread: see
//! [`super::tx`]), and commits them together. Each caller hears its outcome only after that
//! commit: an ack still means durable.
//!
//! A batch is first run optimistically, every write straight in the transaction. If one fails,
//! the transaction is rolled back and the batch run again with each write in a savepoint of its
//! own, so the one that failed takes nothing of the others with it. Writes almost never fail,
//! and a savepoint and its release would be two statements of an append's four.
//!
//! Why: SQLite has one writer at a time. With each append in its own transaction, concurrent
//! appends queued on SQLite's lock, whose busy handler sleeps (up to 100 ms a try) rather than
//! wait in line, so 20 visitors' first messages at once made one wait 1.26 s; and every append
//! paid a commit (an fsync) of its own. In one transaction the whole batch pays one.
//!
//! On PostgreSQL, which runs concurrent transactions and groups their commits itself, each
//! append runs the same way as a batch of one, in its caller's task.

use futures_util::future::BoxFuture;
use sqlx::AnyPool;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot, Notify};

use super::tx::Tx;
use crate::error::{Error, Result};
use crate::telemetry;

/// Appends waiting beyond this many make their callers wait to enqueue (backpressure).
const QUEUE: usize = 4096;
/// At most this many appends share one transaction, so no commit holds the lock for long.
const MAX_BATCH: usize = 256;
/// As long as sqlx's SQLite connections wait for the lock another connection holds.
const BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// What a write did: its result, and whether it put deliveries in the outbox.
pub(super) struct Written<T> {
    pub value: T,
    pub enqueued: bool,
}

/// One write that can share a transaction with others: everything it reads and writes goes
/// through `tx`.
pub(super) trait Write: Send + Sync + 'static {
    type Output: Send + 'static;
    fn apply<'t, 'c: 't>(
        &'t self,
        tx: &'t mut Tx<'c>,
    ) -> BoxFuture<'t, Result<Written<Self::Output>>>;
}

/// The writer's handle on a queued write, whatever its output type.
trait Job: Send {
    /// Runs the write in `tx` (`alone`: in a savepoint of its own); true if it put deliveries
    /// in the outbox.
    fn run<'t, 'c: 't>(&'t mut self, tx: &'t mut Tx<'c>, alone: bool) -> BoxFuture<'t, bool>;
    /// Whether its last run failed.
    fn failed(&self) -> bool;
    /// Tells the caller how it went, once the batch's commit did or did not happen.
    fn finish(self: Box<Self>, commit: std::result::Result<(), &str>);
}

struct Pending<W: Write> {
    write: W,
    outcome: Option<Result<W::Output>>,
    reply: oneshot::Sender<Result<W::Output>>,
}

impl<W: Write> Job for Pending<W> {
    fn run<'t, 'c: 't>(&'t mut self, tx: &'t mut Tx<'c>, alone: bool) -> BoxFuture<'t, bool> {
        Box::pin(async move {
            let written = if alone {
                in_savepoint(tx, &self.write).await
            } else {
                self.write.apply(tx).await
            };
            let enqueued = matches!(written, Ok(Written { enqueued: true, .. }));
            self.outcome = Some(written.map(|w| w.value));
            enqueued
        })
    }

    fn failed(&self) -> bool {
        matches!(self.outcome, Some(Err(_)))
    }

    fn finish(self: Box<Self>, commit: std::result::Result<(), &str>) {
        let outcome = match (self.outcome, commit) {
            (Some(Ok(value)), Ok(())) => Ok(value),
            (Some(Ok(_)), Err(why)) => Err(Error::Internal(format!("commit failed: {why}"))),
            (Some(Err(e)), _) => Err(e),
            (None, _) => Err(Error::Internal("the write did not run".into())),
        };
        // The caller may have gone (its socket closed): what is committed stays committed,
        // and a resend finds it by its client_id.
        let _ = self.reply.send(outcome);
    }
}

/// Runs `write` in a savepoint: undone alone if it fails.
async fn in_savepoint<W: Write>(tx: &mut Tx<'_>, write: &W) -> Result<Written<W::Output>> {
    tx.execute("SAVEPOINT write", &[]).await?;
    match write.apply(tx).await {
        Ok(written) => {
            tx.execute("RELEASE SAVEPOINT write", &[]).await?;
            Ok(written)
        }
        Err(e) => {
            tx.execute("ROLLBACK TO SAVEPOINT write", &[]).await?;
            tx.execute("RELEASE SAVEPOINT write", &[]).await?;
            Err(e)
        }
    }
}

/// How the writes of a batch ran.
enum Ran {
    Written {
        enqueued: bool,
    },
    /// A write failed in an optimistic run: the transaction must not commit.
    Failed,
}

/// Runs every write of the batch in `tx`; an optimistic run (not `alone`) stops at the first
/// that fails.
async fn run_jobs(tx: &mut Tx<'_>, batch: &mut [Box<dyn Job>], alone: bool) -> Ran {
    let running = std::time::Instant::now();
    let mut enqueued = false;
    for job in batch.iter_mut() {
        enqueued |= job.run(tx, alone).await;
        if !alone && job.failed() {
            return Ran::Failed;
        }
    }
    telemetry::batch_statements(running.elapsed());
    Ran::Written { enqueued }
}

/// Where writes go: to SQLite's writer thread, or (None) straight to PostgreSQL.
#[derive(Clone)]
pub(super) struct Writer(Option<mpsc::Sender<Box<dyn Job>>>);

impl Writer {
    /// The writer for this store: with SQLite, the writer thread starts here, on a connection
    /// of its own to `sqlite_file`.
    pub(super) fn start(
        sqlite_file: Option<&std::path::Path>,
        outbox_ready: Arc<Notify>,
    ) -> Result<Self> {
        let Some(file) = sqlite_file else {
            return Ok(Self(None));
        };
        let conn = open(file)?;
        // The writer never checkpoints: SQLite's automatic checkpoint runs in the commit that
        // crosses its threshold, and copying the log into the database (and syncing it) held
        // that batch, and every append queued behind it, for milliseconds.
        conn.pragma_update(None, "wal_autocheckpoint", 0)?;
        let checkpoints = open(file)?;
        let (nudge, nudged) = std::sync::mpsc::sync_channel(1);
        spawn("store-checkpoint", move || {
            checkpoint(&checkpoints, &nudged)
        })?;
        let (jobs, queue) = mpsc::channel(QUEUE);
        spawn("store-writer", move || {
            run(conn, queue, &nudge, &outbox_ready)
        })?;
        Ok(Self(Some(jobs)))
    }
}

/// A connection to the store's file, set as sqlx sets its own.
fn open(file: &std::path::Path) -> Result<rusqlite::Connection> {
    let conn = rusqlite::Connection::open(file)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    // SQLite's default, said out loud: a commit syncs the log, so an ack means durable.
    conn.pragma_update(None, "synchronous", "FULL")?;
    // Every statement the writes use stays prepared (rusqlite keeps 16 by default; they are
    // about twenty-five).
    conn.set_prepared_statement_cache_capacity(64);
    Ok(conn)
}

fn spawn(name: &str, body: impl FnOnce() + Send + 'static) -> Result<()> {
    std::thread::Builder::new()
        .name(name.into())
        .spawn(body)
        .map(drop)
        .map_err(|e| Error::Internal(format!("{name} could not start: {e}")))
}

/// The writer nudges the checkpointer after this many commits (SQLite's own default is every
/// 1,000 pages of log; a batch writes a few).
const COMMITS_PER_CHECKPOINT: u32 = 64;

/// The checkpointer thread: copies the log into the database on its own connection, beside the
/// writer (a passive checkpoint takes no lock a writer needs), until the writer stops.
fn checkpoint(conn: &rusqlite::Connection, nudged: &std::sync::mpsc::Receiver<()>) {
    while nudged.recv().is_ok() {
        let done = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
        if let Err(e) = done {
            tracing::warn!(error = %e, "a checkpoint of the store's log failed");
        }
    }
}

/// Runs `write` (on SQLite, with whatever else is waiting) and returns its output once
/// committed.
pub(super) async fn write<W: Write>(
    writer: &Writer,
    pool: &AnyPool,
    outbox_ready: &Notify,
    write: W,
) -> Result<W::Output> {
    let (reply, outcome) = oneshot::channel();
    let mut job: Box<dyn Job> = Box::new(Pending {
        write,
        outcome: None,
        reply,
    });
    match &writer.0 {
        Some(jobs) => {
            if jobs.send(job).await.is_err() {
                return Err(Error::Internal("the store's writer stopped".into()));
            }
        }
        None => {
            let committed = commit_pooled(pool, &mut job).await;
            answer([job], &committed, outbox_ready);
        }
    }
    outcome
        .await
        .unwrap_or_else(|_| Err(Error::Internal("the store's writer failed".into())))
}

/// Once the commit did (`Ok`: whether it put deliveries in the outbox) or did not happen:
/// wakes the delivery worker if there is something to send, and tells each caller.
fn answer(
    jobs: impl IntoIterator<Item = Box<dyn Job>>,
    committed: &std::result::Result<bool, String>,
    outbox_ready: &Notify,
) {
    if matches!(committed, Ok(true)) {
        outbox_ready.notify_one();
    }
    for job in jobs {
        job.finish(committed.as_ref().map(|_| ()).map_err(String::as_str));
    }
}

/// One write in a transaction of its own on a pooled connection (PostgreSQL); true if it
/// committed deliveries to the outbox.
async fn commit_pooled(
    pool: &AnyPool,
    job: &mut Box<dyn Job>,
) -> std::result::Result<bool, String> {
    let mut tx = pool.begin().await.map_err(|e| e.to_string())?;
    match run_jobs(&mut Tx::Sqlx(&mut tx), std::slice::from_mut(job), false).await {
        Ran::Written { enqueued } => {
            let committing = std::time::Instant::now();
            tx.commit().await.map_err(|e| e.to_string())?;
            telemetry::store_commit(committing.elapsed());
            Ok(enqueued)
        }
        // Its failure is its outcome; dropping the transaction rolls it back.
        Ran::Failed => Ok(false),
    }
}

/// The writer thread: takes what is waiting, up to [`MAX_BATCH`], and commits it as one.
fn run(
    mut conn: rusqlite::Connection,
    mut queue: mpsc::Receiver<Box<dyn Job>>,
    checkpoint: &std::sync::mpsc::SyncSender<()>,
    outbox_ready: &Notify,
) {
    let mut commits = 0u32;
    while let Some(first) = queue.blocking_recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        telemetry::commit_batch(batch.len());
        // A write that panics fails its batch (every caller in it hears so, their replies
        // dropped) and not every write after it.
        let committed =
            std::panic::catch_unwind(AssertUnwindSafe(|| commit_local(&mut conn, &mut batch)));
        let committed = match committed {
            Ok(committed) => committed,
            Err(_) => {
                tracing::error!("a batch of writes panicked");
                if !conn.is_autocommit() {
                    let _ = conn.execute_batch("ROLLBACK");
                }
                continue;
            }
        };
        answer(batch, &committed, outbox_ready);
        commits += 1;
        if commits == COMMITS_PER_CHECKPOINT {
            commits = 0;
            // Full: a checkpoint is running or asked for already.
            let _ = checkpoint.try_send(());
        }
    }
}

/// The batch in one transaction of the writer's connection, optimistically first; true if it
/// committed deliveries to the outbox.
fn commit_local(
    conn: &mut rusqlite::Connection,
    batch: &mut [Box<dyn Job>],
) -> std::result::Result<bool, String> {
    let mut ran = run_local(conn, batch, false);
    // A batch of one has nothing to keep apart: its failure is its outcome.
    if batch.len() > 1 && matches!(ran, Ok(Ran::Failed)) {
        ran = run_local(conn, batch, true);
    }
    match ran {
        Ok(Ran::Written { enqueued }) => {
            let committing = std::time::Instant::now();
            let committed = conn.execute_batch("COMMIT").map_err(|e| e.to_string());
            telemetry::store_commit(committing.elapsed());
            if committed.is_err() && !conn.is_autocommit() {
                let _ = conn.execute_batch("ROLLBACK");
            }
            committed.map(|()| enqueued)
        }
        Ok(Ran::Failed) => Ok(false),
        Err(why) => Err(why),
    }
}

/// Begins the transaction (IMMEDIATE: the write lock is taken at the start, so it never has to
/// upgrade a read to a write, which fails outright if another connection committed in between)
/// and runs the batch in it; rolled back unless every write ran.
fn run_local(
    conn: &mut rusqlite::Connection,
    batch: &mut [Box<dyn Job>],
    alone: bool,
) -> std::result::Result<Ran, String> {
    conn.execute_batch("BEGIN IMMEDIATE")
        .map_err(|e| e.to_string())?;
    // Every statement runs on this thread, so each future is ready when first polled.
    let ran = futures_util::FutureExt::now_or_never(run_jobs(&mut Tx::Local(conn), batch, alone))
        .ok_or_else(|| "a write waited on the writer's own thread".to_owned());
    if !matches!(ran, Ok(Ran::Written { .. })) {
        conn.execute_batch("ROLLBACK").map_err(|e| e.to_string())?;
    }
    ran
}
