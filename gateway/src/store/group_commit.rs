//! Group commit: on SQLite, every message append goes through one writer task, which runs the
//! appends waiting at that moment in one transaction and commits them together. Each caller
//! hears its outcome only after that commit: an ack still means durable.
//!
//! A batch is first run optimistically, every write straight in the transaction. If one fails,
//! the transaction is rolled back and the batch run again with each write in a savepoint of its
//! own, so the one that failed takes nothing of the others with it. Writes almost never fail,
//! and a savepoint and its release are two statements of an append's five.
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
    /// Runs the write in `tx` (`alone`: in a savepoint of its own); true if it put deliveries
    /// in the outbox.
    fn run<'t>(
        &'t mut self,
        tx: &'t mut Transaction<'static, Any>,
        alone: bool,
    ) -> BoxFuture<'t, bool>;
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
    fn run<'t>(
        &'t mut self,
        tx: &'t mut Transaction<'static, Any>,
        alone: bool,
    ) -> BoxFuture<'t, bool> {
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
    pub(super) fn start(
        pool: &AnyPool,
        is_sqlite: bool,
        outbox_ready: Arc<Notify>,
    ) -> Result<Self> {
        if !is_sqlite {
            return Ok(Self(None));
        }
        let (jobs, queue) = mpsc::channel(QUEUE);
        let pool = pool.clone();
        // A thread and runtime of its own: each statement is a round trip to SQLite's worker
        // thread, and on the shared runtime every return waited behind the sockets' tasks
        // ready at that moment, which made a batch's statements take ten times their work.
        std::thread::Builder::new()
            .name("store-writer".into())
            .spawn(move || {
                match tokio::runtime::Builder::new_current_thread()
                    .enable_time()
                    .build()
                {
                    Ok(runtime) => runtime.block_on(run(pool, queue, outbox_ready)),
                    Err(e) => tracing::error!(error = %e, "the store's writer could not start"),
                }
            })
            .map_err(|e| Error::Internal(format!("the store's writer could not start: {e}")))?;
        Ok(Self(Some(jobs)))
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
    let mut outcome = run_batch(pool, &mut batch, begin, false).await;
    // A batch of one has nothing to keep apart: its failure is its outcome.
    if batch.len() > 1 && matches!(outcome, Ok(Ran::Failed)) {
        outcome = run_batch(pool, &mut batch, begin, true).await;
    }
    let committed = match outcome {
        Ok(Ran::Committed { enqueued }) => {
            if enqueued {
                outbox_ready.notify_one();
            }
            Ok(())
        }
        Ok(Ran::Failed) => Ok(()),
        Err(why) => Err(why),
    };
    for job in batch {
        job.finish(committed.as_ref().map(|_| ()).map_err(String::as_str));
    }
}

/// How a run of a batch ended, when the database did not fail it.
enum Ran {
    Committed {
        enqueued: bool,
    },
    /// A write failed in an optimistic run: nothing was committed.
    Failed,
}

/// Runs every write of the batch in one transaction and commits it, unless (run without
/// savepoints) one of them failed.
async fn run_batch(
    pool: &AnyPool,
    batch: &mut [Box<dyn Job>],
    begin: &'static str,
    alone: bool,
) -> std::result::Result<Ran, String> {
    let mut tx = pool.begin_with(begin).await.map_err(|e| e.to_string())?;
    let mut enqueued = false;
    let running = std::time::Instant::now();
    for job in batch.iter_mut() {
        enqueued |= job.run(&mut tx, alone).await;
        if !alone && job.failed() {
            tx.rollback().await.map_err(|e| e.to_string())?;
            return Ok(Ran::Failed);
        }
    }
    telemetry::batch_statements(running.elapsed());
    let committing = std::time::Instant::now();
    tx.commit().await.map_err(|e| e.to_string())?;
    telemetry::store_commit(committing.elapsed());
    Ok(Ran::Committed { enqueued })
}
