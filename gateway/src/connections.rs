//! The sockets open on this gateway: at most `max_sockets` at once ([`Sockets::admit`] refuses
//! more with a 503 before the upgrade), all told to go, with WebSocket close code 1001 "going
//! away", when the gateway stops ([`Sockets::close_all`]) so widgets and consoles reconnect
//! to another gateway at once; and the agents among them, a count per agent that a socket's
//! guard holds, which the presence heartbeat reads to vouch for them in the store.
//!
//! The signal to go travels through the hub ([`HubEvent::GoingAway`](crate::hub::HubEvent)) to
//! every topic, which every socket already listens to: a watch of its own would cost each idle
//! socket its waiting future (about 0.2 KiB) for its whole life.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::{Error, Result};
use crate::hub::Hub;
use crate::telemetry::SocketKind;

/// The cap on this gateway's sockets, how many are open, and whether they are told to close.
pub struct Sockets {
    slots: Arc<Semaphore>,
    capacity: u32,
    open: Arc<OpenSockets>,
    hub: Arc<Hub>,
}

/// Sockets open, by kind, and whether the gateway is stopping.
#[derive(Default)]
struct OpenSockets {
    visitor: AtomicUsize,
    agent: AtomicUsize,
    closing: AtomicBool,
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
    kind: SocketKind,
    open: Arc<OpenSockets>,
}

impl Drop for Admission {
    fn drop(&mut self) {
        self.open.of(self.kind).fetch_sub(1, Ordering::Relaxed);
    }
}

impl Sockets {
    /// At most `max` sockets, told to close through `hub`.
    pub fn new(max: usize, hub: Arc<Hub>) -> Self {
        let capacity = u32::try_from(max.min(Semaphore::MAX_PERMITS)).unwrap_or(u32::MAX);
        Self {
            slots: Arc::new(Semaphore::new(capacity as usize)),
            capacity,
            open: Arc::default(),
            hub,
        }
    }

    /// Sockets of `kind` open now.
    pub fn open(&self, kind: SocketKind) -> usize {
        self.open.of(kind).load(Ordering::Relaxed)
    }

    /// A place for one more socket, or `over_capacity` (503, `Retry-After`) when all are taken
    /// or the gateway is stopping.
    pub fn admit(&self, kind: SocketKind) -> Result<Admission> {
        if self.open.closing.load(Ordering::SeqCst) {
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
            kind,
            open: self.open.clone(),
        })
    }

    /// Tells every socket to close (and refuses new ones). The flag is set before the hub's
    /// event goes out: a socket subscribing after the event finds the flag (see
    /// [`Admission::closing`]).
    pub fn close_all(&self) {
        self.open.closing.store(true, Ordering::SeqCst);
        self.hub.going_away();
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
    /// Whether the gateway is stopping. Asked once a socket has subscribed to its topic: from
    /// then on the hub's `GoingAway` reaches it.
    pub fn closing(&self) -> bool {
        self.open.closing.load(Ordering::SeqCst)
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
