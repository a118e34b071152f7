//! The agents connected to this gateway: a count per agent that a socket's guard holds, which
//! the presence heartbeat reads to vouch for them in the store.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

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
