//! Group commit: on SQLite, every message append goes through one writer task, which runs the
//! appends waiting at that moment in one transaction (each in a savepoint of its own, so one
//! that fails takes nothing of the others with it) and commits them together. Each caller hears
//! its outcome only after that commit: an ack still means durable.
//!
//! Why: SQLite has one writer at a time. With each append in its own transaction, concurrent
//! appends queued on SQLite's lock, whose busy handler sleeps (up to 100 ms a try) rather than
//! wait in line, so 20 visitors' first messages at once made one wait 1.26 s; and every append
//! paid a commit (an fsync) of its own. In one transaction the whole batch pays one.
//!
//! On PostgreSQL, which runs concurrent transactions and groups their commits itself, each
//! append runs the same way as a batch of one, in its caller's task.

use futures_util::future::BoxFuture;
use sqlx::{Acquire, Any, AnyPool, Transaction};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot, Notify};

use crate::error::{Error, Result};
use crate::telemetry;

/// Appends waiting beyond this many make their callers wait to enqueue (backpressure).
const QUEUE: usize = 4096;
/// At most this many appends share one transaction, so no commit holds the lock for long.
const MAX_BATCH: usize = 256;

/// What a write did: its result, and whether it put deliveries in the outbox.
pub(super) struct Written<T> {
    pub value: T,
    pub enqueued: bool,
}

/// One write that can share a transaction with others: everything it reads and writes goes
/// through `tx`.
pub(super) trait Write: Send + Sync + 'static {
    type Output: Send + 'static;
    fn apply<'t>(
        &'t self,
        tx: &'t mut Transaction<'_, Any>,
    ) -> BoxFuture<'t, Result<Written<Self::Output>>>;
}

/// The writer's handle on a queued write, whatever its output type.
trait Job: Send {
    /// Runs the write in a savepoint of `tx`; true if it put deliveries in the outbox.
    fn run<'t>(&'t mut self, tx: &'t mut Transaction<'static, Any>) -> BoxFuture<'t, bool>;
    /// Tells the caller how it went, once the batch's commit did or did not happen.
    fn finish(self: Box<Self>, commit: std::result::Result<(), &str>);
}

struct Pending<W: Write> {
    write: W,
    outcome: Option<Result<W::Output>>,
    reply: oneshot::Sender<Result<W::Output>>,
}

impl<W: Write> Job for Pending<W> {
    fn run<'t>(&'t mut self, tx: &'t mut Transaction<'static, Any>) -> BoxFuture<'t, bool> {
        Box::pin(async move {
            let written = in_savepoint(tx, &self.write).await;
            let enqueued = matches!(written, Ok(Written { enqueued: true, .. }));
            self.outcome = Some(written.map(|w| w.value));
            enqueued
        })
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
async fn in_savepoint<W: Write>(
    tx: &mut Transaction<'static, Any>,
    write: &W,
) -> Result<Written<W::Output>> {
    let mut savepoint = tx.begin().await?;
    let written = write.apply(&mut savepoint).await?;
    savepoint.commit().await?;
    Ok(written)
}

/// Where writes go: to SQLite's writer task, or (None) straight to PostgreSQL.
#[derive(Clone)]
pub(super) struct Writer(Option<mpsc::Sender<Box<dyn Job>>>);

impl Writer {
    /// The writer for this pool: with SQLite, the batching task starts here.
    pub(super) fn start(pool: &AnyPool, is_sqlite: bool, outbox_ready: Arc<Notify>) -> Self {
        if !is_sqlite {
            return Self(None);
        }
        let (jobs, queue) = mpsc::channel(QUEUE);
        tokio::spawn(run(pool.clone(), queue, outbox_ready));
        Self(Some(jobs))
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
    let job = Box::new(Pending {
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
        None => commit_batch(pool, vec![job], outbox_ready, "BEGIN").await,
    }
    outcome
        .await
        .unwrap_or_else(|_| Err(Error::Internal("the store's writer failed".into())))
}

/// The writer task: takes what is waiting, up to [`MAX_BATCH`], and commits it as one.
async fn run(pool: AnyPool, mut queue: mpsc::Receiver<Box<dyn Job>>, outbox_ready: Arc<Notify>) {
    while let Some(first) = queue.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        telemetry::commit_batch(batch.len());
        // In a task of its own, so a write that panics fails its batch (every caller in it
        // hears so) and not every write after it.
        let pool = pool.clone();
        let outbox_ready = outbox_ready.clone();
        let batch = tokio::spawn(async move {
            // IMMEDIATE: the write lock is taken at the start, so the transaction never has to
            // upgrade a read to a write, which fails outright if another connection committed
            // in between.
            commit_batch(&pool, batch, &outbox_ready, "BEGIN IMMEDIATE").await;
        });
        if let Err(e) = batch.await {
            tracing::error!(error = %e, "a batch of writes failed");
        }
    }
}

/// One transaction for the whole batch; every caller is answered after its commit.
async fn commit_batch(
    pool: &AnyPool,
    mut batch: Vec<Box<dyn Job>>,
    outbox_ready: &Notify,
    begin: &'static str,
) {
    let mut tx = match pool.begin_with(begin).await {
        Ok(tx) => tx,
        Err(e) => {
            let why = e.to_string();
            for job in batch {
                job.finish(Err(&why));
            }
            return;
        }
    };
    let mut enqueued = false;
    let running = std::time::Instant::now();
    for job in &mut batch {
        enqueued |= job.run(&mut tx).await;
    }
    telemetry::batch_statements(running.elapsed());
    let committing = std::time::Instant::now();
    let committed = tx.commit().await.map_err(|e| e.to_string());
    telemetry::store_commit(committing.elapsed());
    if enqueued && committed.is_ok() {
        outbox_ready.notify_one();
    }
    for job in batch {
        job.finish(committed.as_ref().map(|_| ()).map_err(String::as_str));
    }
}
