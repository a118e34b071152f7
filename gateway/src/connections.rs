//! The sockets open on this gateway: at most `max_sockets` at once ([`Sockets::admit`] refuses
//! more with a 503 before the upgrade), all told to go, with WebSocket close code 1001 "going
//! away", when the gateway stops ([`Sockets::close_all`]) so widgets and consoles reconnect
//! to another gateway at once; and the agents among them, a count per agent that a socket's
//! guard holds, which the presence heartbeat reads to vouch for them in the store.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};

use crate::error::{Error, Result};
use crate::telemetry::SocketKind;

/// The cap on this gateway's sockets, the signal that closes them, and how many are open.
pub struct Sockets {
    slots: Arc<Semaphore>,
    capacity: u32,
    closing: watch::Sender<bool>,
    open: Arc<OpenSockets>,
}

/// Sockets open, by kind.
#[derive(Default)]
struct OpenSockets {
    visitor: AtomicUsize,
    agent: AtomicUsize,
}

impl OpenSockets {
    fn of(&self, kind: SocketKind) -> &AtomicUsize {
        match kind {
            SocketKind::Visitor => &self.visitor,
            SocketKind::Agent => &self.agent,
        }
    }
}

/// One socket's place under the cap, given back when the socket ends.
pub struct Admission {
    _slot: OwnedSemaphorePermit,
    closing: watch::Receiver<bool>,
    kind: SocketKind,
    open: Arc<OpenSockets>,
}

impl Drop for Admission {
    fn drop(&mut self) {
        self.open.of(self.kind).fetch_sub(1, Ordering::Relaxed);
    }
}

impl Sockets {
    pub fn new(max: usize) -> Self {
        let capacity = u32::try_from(max.min(Semaphore::MAX_PERMITS)).unwrap_or(u32::MAX);
        Self {
            slots: Arc::new(Semaphore::new(capacity as usize)),
            capacity,
            closing: watch::Sender::new(false),
            open: Arc::default(),
        }
    }

    /// Sockets of `kind` open now.
    pub fn open(&self, kind: SocketKind) -> usize {
        self.open.of(kind).load(Ordering::Relaxed)
    }

    /// A place for one more socket, or `over_capacity` (503, `Retry-After`) when all are taken
    /// or the gateway is stopping.
    pub fn admit(&self, kind: SocketKind) -> Result<Admission> {
        if *self.closing.borrow() {
            return Err(Error::OverCapacity);
        }
        let slot = self
            .slots
            .clone()
            .try_acquire_owned()
            .map_err(|_| Error::OverCapacity)?;
        self.open.of(kind).fetch_add(1, Ordering::Relaxed);
        Ok(Admission {
            _slot: slot,
            closing: self.closing.subscribe(),
            kind,
            open: self.open.clone(),
        })
    }

    /// Tells every socket to close (and refuses new ones).
    pub fn close_all(&self) {
        self.closing.send_replace(true);
    }

    /// Resolves when every socket has ended: each gives its place back as its task ends, so
    /// all places free means none is left mid-handshake (or mid-start, before it saw the
    /// signal) when the process exits or the store closes.
    pub async fn drained(&self) {
        // Only an error if the semaphore were closed, which nothing does.
        let _ = self.slots.acquire_many(self.capacity).await;
    }
}

impl Admission {
    /// Resolves when the gateway is stopping.
    pub async fn closing(&mut self) {
        // Only an error if the state is gone, and then the gateway is gone too.
        let _ = self.closing.wait_for(|closing| *closing).await;
    }
}

/// The agents connected to this gateway, with how many connections each has open.
#[derive(Default)]
pub struct Connections {
    // Held only to count, never across an await.
    open: Mutex<HashMap<String, usize>>,
}

/// Keeps an agent counted as connected until dropped (the socket task ends).
pub struct ConnectionGuard {
    connections: Arc<Connections>,
    agent_id: String,
}

impl Connections {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, usize>> {
        self.open.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Every agent with a connection open here.
    pub fn connected(&self) -> Vec<String> {
        self.lock().keys().cloned().collect()
    }

    /// Counts one more connection of the agent until the guard drops.
    pub fn open(self: &Arc<Self>, agent_id: &str) -> ConnectionGuard {
        *self.lock().entry(agent_id.to_owned()).or_default() += 1;
        ConnectionGuard {
            connections: self.clone(),
            agent_id: agent_id.to_owned(),
        }
    }
}

impl Drop for ConnectionGuard {
    fn drop(&mut self) {
        let mut open = self.connections.lock();
        if let Some(count) = open.get_mut(&self.agent_id) {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.agent_id);
            }
        }
    }
}
