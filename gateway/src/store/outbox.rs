//! The webhook outbox: events written in the transaction that made them happen, one delivery row
//! per endpoint that should receive each, and the queries the delivery worker runs.
//!
//! Order: a delivery is due only when no earlier delivery of the same `order_key` to the same
//! endpoint is still pending, so an endpoint sees a conversation's events in the order they
//! committed, retries included. Several gateways can run workers on one database: a worker
//! takes a delivery by a compare-and-set on `lease_until`, and another takes it over once the
//! lease runs out (a crashed gateway's deliveries are sent by the others).

use protocol::{
    ChatMessage, ConversationSummary, DeliveryStatus, DeliveryView, EndedSession, EndpointKind,
    ErasedContact, EventType, Handler, WebhookContact, WebhookData, WebhookPayload,
};
use sqlx::any::AnyRow;

use super::contacts::contact_in;
use super::conversations::{conversation_in, transcript_in};
use super::tx::Tx;
use super::{col_i64, col_name, col_opt_i64, col_opt_str, col_str, Store};
use crate::error::{Error, Result};
use crate::telemetry;

/// An event about to be written to the outbox.
#[derive(Debug, Clone)]
pub(super) struct Event<'a> {
    pub channel_id: &'a str,
    pub event_type: EventType,
    /// The conversation it is about: its order and its summary in the payload.
    pub conversation_id: Option<&'a str>,
    /// That conversation's summary when the writer has it already (saves reading it back).
    pub summary: Option<ConversationSummary>,
    pub message: Option<ChatMessage>,
    /// Carry every message so far (a hand-over to a desk).
    pub with_transcript: bool,
    pub session: Option<EndedSession>,
    pub erased: Option<ErasedContact>,
    pub now_ms: i64,
}

impl<'a> Event<'a> {
    pub fn about(
        channel_id: &'a str,
        event_type: EventType,
        conversation_id: &'a str,
        now_ms: i64,
    ) -> Self {
        Self {
            channel_id,
            event_type,
            conversation_id: Some(conversation_id),
            summary: None,
            message: None,
            with_transcript: false,
            session: None,
            erased: None,
            now_ms,
        }
    }
}

/// Whether an endpoint of this kind and filter receives the event. Bots and desks get only
/// what they act on, for the conversations they handle.
pub fn receives(
    kind: EndpointKind,
    filter: &[EventType],
    event_type: EventType,
    handler: Option<Handler>,
    from_visitor: bool,
) -> bool {
    let visitor_message = event_type == EventType::MessageCreated && from_visitor;
    match kind {
        EndpointKind::Webhook => {
            event_type != EventType::HandedOver
                && (filter.is_empty() || filter.contains(&event_type))
        }
        EndpointKind::Bot => visitor_message && handler == Some(Handler::Bot),
        EndpointKind::Desk => {
            handler == Some(Handler::Desk)
                && (visitor_message
                    || event_type == EventType::HandedOver
                    || event_type == EventType::ConversationClosed)
        }
    }
}

/// Writes the event and its deliveries in the caller's transaction; false if no endpoint of
/// the channel receives it (then nothing is written).
/// Puts each event in the outbox for the endpoints that want it; true if any went anywhere.
pub(super) async fn enqueue_all(tx: &mut Tx<'_>, events: Vec<Event<'_>>) -> Result<bool> {
    let mut enqueued = false;
    for event in events {
        enqueued |= enqueue(tx, event).await?;
    }
    Ok(enqueued)
}

pub(super) async fn enqueue(tx: &mut Tx<'_>, event: Event<'_>) -> Result<bool> {
    let endpoints = tx
        .fetch_all(
            "SELECT id, kind, events FROM webhook_endpoints WHERE channel_id = $1",
            &[event.channel_id.into()],
        )
        .await?;
    let from_visitor = event
        .message
        .as_ref()
        .is_some_and(|m| m.author == protocol::Author::Visitor);
    let mut candidates = Vec::new();
    for row in &endpoints {
        let filter: Vec<EventType> = serde_json::from_str(&col_str(row, "events")?)
            .map_err(|e| Error::Internal(format!("corrupt webhook events: {e}")))?;
        let kind: EndpointKind = col_name(row, "kind")?;
        // Whether it would, were the conversation its own: most events on most channels stop
        // here, before the conversation is read.
        let own = match kind {
            EndpointKind::Webhook => Handler::Agents,
            EndpointKind::Bot => Handler::Bot,
            EndpointKind::Desk => Handler::Desk,
        };
        if receives(kind, &filter, event.event_type, Some(own), from_visitor) {
            candidates.push((col_str(row, "id")?, kind, filter));
        }
    }
    if candidates.is_empty() {
        return Ok(false);
    }
    let conversation = match (event.summary, event.conversation_id) {
        (Some(summary), _) => Some(summary),
        (None, Some(id)) => conversation_in(tx, id).await?,
        (None, None) => None,
    };
    let handler = conversation.as_ref().map(|c| c.handler);
    let recipients: Vec<String> = candidates
        .into_iter()
        .filter(|(_, kind, filter)| {
            receives(*kind, filter, event.event_type, handler, from_visitor)
        })
        .map(|(id, _, _)| id)
        .collect();
    if recipients.is_empty() {
        return Ok(false);
    }
    let (order_key, order_seq) = match &conversation {
        Some(c) => {
            let row = tx
                .fetch_one(
                    "UPDATE conversations SET event_seq = event_seq + 1 WHERE id = $1 \
                     RETURNING event_seq",
                    &[(&c.id).into()],
                )
                .await?;
            (c.id.clone(), col_i64(&row, "event_seq")?)
        }
        None => match (&event.session, &event.erased) {
            (Some(session), _) => (format!("session:{}", session.session_id), 1),
            // Its own order, under a key that does not name whom it erased.
            (None, Some(_)) => (format!("erasure:{}", uuid::Uuid::new_v4().simple()), 1),
            (None, None) => (String::from("session:"), 1),
        },
    };
    let transcript = match (&conversation, event.with_transcript) {
        (Some(c), true) => Some(transcript_in(tx, &c.id).await?),
        _ => None,
    };
    let contact = match conversation.as_ref().and_then(|c| c.contact_id.as_deref()) {
        Some(id) => contact_in(tx, id).await?.map(WebhookContact::from),
        None => None,
    };
    let payload = WebhookPayload {
        event_type: event.event_type,
        timestamp: rfc3339(event.now_ms),
        data: WebhookData {
            channel_id: event.channel_id.to_owned(),
            conversation,
            message: event.message,
            transcript,
            session: event.session,
            contact,
            erased: event.erased,
        },
    };
    let payload = serde_json::to_string(&payload).map_err(|e| Error::Internal(e.to_string()))?;
    let event_id = format!("msg_{}", uuid::Uuid::new_v4().simple());
    tx.execute(
        "INSERT INTO outbox_events (id, channel_id, event_type, order_key, order_seq, payload, \
         created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        &[
            (&event_id).into(),
            event.channel_id.into(),
            event.event_type.as_str().into(),
            (&order_key).into(),
            order_seq.into(),
            (&payload).into(),
            event.now_ms.into(),
        ],
    )
    .await?;
    for endpoint_id in recipients {
        tx.execute(
            "INSERT INTO outbox_deliveries (id, event_id, endpoint_id, order_key, order_seq, status, \
             attempts, next_attempt_at, retry_since, lease_until, created_at) \
             VALUES ($1, $2, $3, $4, $5, 'pending', 0, $6, $6, 0, $6)",
            &[
                (&uuid::Uuid::new_v4().to_string()).into(),
                (&event_id).into(),
                (&endpoint_id).into(),
                (&order_key).into(),
                order_seq.into(),
                event.now_ms.into(),
            ],
        )
        .await?;
    }
    Ok(true)
}

fn rfc3339(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| t.to_string())
        .unwrap_or_default()
}

/// A delivery the worker holds, with everything needed to send it.
#[derive(Debug, Clone)]
pub struct DueDelivery {
    pub id: String,
    pub event_id: String,
    pub payload: String,
    pub attempts: i64,
    pub retry_since_ms: i64,
    pub endpoint_kind: EndpointKind,
    pub endpoint_name: String,
    pub url: String,
    pub secret: String,
    /// The conversation the event is about, if any.
    pub conversation_id: Option<String>,
}

/// How an attempt ended.
#[derive(Debug, Clone)]
pub enum Outcome {
    Delivered {
        status: i64,
    },
    /// Try again at `retry_at_ms`, or give up if that is None.
    Failed {
        status: Option<i64>,
        error: String,
        retry_at_ms: Option<i64>,
    },
}

const DELIVERY_SELECT: &str =
    "SELECT d.id, d.event_id, e.event_type, d.status, d.attempts, d.created_at, \
     d.last_attempt_at, d.last_status, d.last_error, d.next_attempt_at, d.delivered_at \
     FROM outbox_deliveries d JOIN outbox_events e ON e.id = d.event_id";

fn delivery_from_row(row: &AnyRow) -> Result<DeliveryView> {
    let status = col_name(row, "status")?;
    Ok(DeliveryView {
        id: col_str(row, "id")?,
        event_id: col_str(row, "event_id")?,
        event_type: col_name(row, "event_type")?,
        attempts: col_i64(row, "attempts")?,
        created_at_ms: col_i64(row, "created_at")?,
        last_attempt_at_ms: col_opt_i64(row, "last_attempt_at")?,
        last_status: col_opt_i64(row, "last_status")?,
        last_error: col_opt_str(row, "last_error")?,
        next_attempt_at_ms: if status == DeliveryStatus::Pending {
            Some(col_i64(row, "next_attempt_at")?)
        } else {
            None
        },
        delivered_at_ms: col_opt_i64(row, "delivered_at")?,
        status,
    })
}

impl Store {
    /// Commits, and wakes the delivery worker if the events went to any endpoint.
    pub(super) async fn commit_with_events(
        &self,
        mut tx: sqlx::Transaction<'_, sqlx::Any>,
        events: Vec<Event<'_>>,
    ) -> Result<()> {
        let enqueued = enqueue_all(&mut Tx::Sqlx(&mut tx), events).await?;
        let committing = std::time::Instant::now();
        tx.commit().await?;
        telemetry::store_commit(committing.elapsed());
        if enqueued {
            self.outbox_ready.notify_one();
        }
        Ok(())
    }

    /// Deliveries that can be sent now: pending, due, not held by a live lease, and first in
    /// their order for their endpoint. Fair between endpoints: no endpoint gets more than
    /// `per_endpoint` in flight (counting the leases any gateway holds), and endpoints take
    /// turns (each one's oldest, then each one's second oldest, ...), so one slow receiver
    /// cannot take every slot.
    pub async fn due_deliveries(
        &self,
        now_ms: i64,
        limit: i64,
        per_endpoint: i64,
    ) -> Result<Vec<DueDelivery>> {
        let rows = sqlx::query(
            "SELECT * FROM (\
                 SELECT d.id, d.event_id, e.payload, d.attempts, d.retry_since, d.endpoint_id, \
                 d.next_attempt_at, d.created_at, w.kind, w.name, w.url, w.secret, \
                 CASE WHEN d.order_key LIKE 'session:%' THEN NULL ELSE d.order_key END AS conversation_id, \
                 ROW_NUMBER() OVER (PARTITION BY d.endpoint_id ORDER BY d.next_attempt_at, d.created_at) AS turn \
                 FROM outbox_deliveries d \
                 JOIN outbox_events e ON e.id = d.event_id \
                 JOIN webhook_endpoints w ON w.id = d.endpoint_id \
                 WHERE d.status = 'pending' AND d.next_attempt_at <= $1 AND d.lease_until < $1 \
                 AND NOT EXISTS (SELECT 1 FROM outbox_deliveries p WHERE p.endpoint_id = d.endpoint_id \
                     AND p.order_key = d.order_key AND p.status = 'pending' AND p.order_seq < d.order_seq)\
             ) due \
             WHERE due.turn + (SELECT COUNT(*) FROM outbox_deliveries f WHERE f.endpoint_id = due.endpoint_id \
                 AND f.status = 'pending' AND f.lease_until >= $1) <= $3 \
             ORDER BY due.turn, due.next_attempt_at, due.created_at LIMIT $2",
        )
        .bind(now_ms)
        .bind(limit)
        .bind(per_endpoint)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(DueDelivery {
                    id: col_str(row, "id")?,
                    event_id: col_str(row, "event_id")?,
                    payload: col_str(row, "payload")?,
                    attempts: col_i64(row, "attempts")?,
                    retry_since_ms: col_i64(row, "retry_since")?,
                    endpoint_kind: col_name(row, "kind")?,
                    endpoint_name: col_str(row, "name")?,
                    url: col_str(row, "url")?,
                    secret: col_str(row, "secret")?,
                    conversation_id: col_opt_str(row, "conversation_id")?,
                })
            })
            .collect()
    }

    /// Takes the deliveries until `lease_until_ms`, in one statement; returns those it got
    /// (not those another worker holds or that are no longer pending).
    pub async fn lease_deliveries(
        &self,
        ids: &[&str],
        now_ms: i64,
        lease_until_ms: i64,
    ) -> Result<Vec<String>> {
        if ids.is_empty() {
            return Ok(vec![]);
        }
        let sql = format!(
            "UPDATE outbox_deliveries SET lease_until = $1 \
             WHERE status = 'pending' AND lease_until < $2 AND id IN ({}) RETURNING id",
            super::placeholders(3, ids.len())
        );
        let mut query = sqlx::query(&sql).bind(lease_until_ms).bind(now_ms);
        for id in ids {
            query = query.bind(*id);
        }
        let rows = query.fetch_all(&self.pool).await?;
        rows.iter().map(|row| col_str(row, "id")).collect()
    }

    /// Records attempts and releases their leases, all in one transaction.
    pub async fn record_attempts(&self, attempts: &[(String, Outcome)], now_ms: i64) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        for (id, outcome) in attempts {
            let query = match outcome {
                Outcome::Delivered { status } => sqlx::query(
                    "UPDATE outbox_deliveries SET status = 'delivered', attempts = attempts + 1, \
                     last_attempt_at = $1, delivered_at = $1, last_status = $2, \
                     lease_until = 0 WHERE id = $3",
                )
                .bind(now_ms)
                .bind(*status)
                .bind(id),
                Outcome::Failed {
                    status,
                    error,
                    retry_at_ms,
                } => sqlx::query(
                    "UPDATE outbox_deliveries SET status = $1, attempts = attempts + 1, \
                     last_attempt_at = $2, last_status = $3, last_error = $4, next_attempt_at = $5, \
                     lease_until = 0 WHERE id = $6",
                )
                .bind(if retry_at_ms.is_some() {
                    DeliveryStatus::Pending.as_str()
                } else {
                    DeliveryStatus::Failed.as_str()
                })
                .bind(now_ms)
                .bind(*status)
                .bind(error.as_str())
                .bind(retry_at_ms.unwrap_or(now_ms))
                .bind(id),
            };
            query.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The endpoint's deliveries, newest first, before the cursor `(created_at, id)`.
    pub async fn deliveries(
        &self,
        endpoint_id: &str,
        before: Option<(i64, String)>,
        limit: i64,
    ) -> Result<Vec<(i64, DeliveryView)>> {
        let (before_at, before_id) = before.unwrap_or((i64::MAX, String::new()));
        let sql = format!(
            "{DELIVERY_SELECT} WHERE d.endpoint_id = $1 \
             AND (d.created_at < $2 OR (d.created_at = $2 AND d.id < $3)) ORDER BY d.created_at DESC, d.id DESC LIMIT $4"
        );
        let rows = sqlx::query(&sql)
            .bind(endpoint_id)
            .bind(before_at)
            .bind(before_id)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| Ok((col_i64(row, "created_at")?, delivery_from_row(row)?)))
            .collect()
    }

    /// Sends the delivery again, whatever became of it: pending from now, retried afresh.
    /// None if the endpoint has no such delivery.
    pub async fn replay_delivery(
        &self,
        endpoint_id: &str,
        id: &str,
        now_ms: i64,
    ) -> Result<Option<DeliveryView>> {
        let done = sqlx::query(
            "UPDATE outbox_deliveries SET status = 'pending', next_attempt_at = $1, retry_since = $1, \
             lease_until = 0 WHERE id = $2 AND endpoint_id = $3",
        )
        .bind(now_ms)
        .bind(id)
        .bind(endpoint_id)
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Ok(None);
        }
        self.outbox_ready.notify_one();
        let sql = format!("{DELIVERY_SELECT} WHERE d.id = $1");
        let row = sqlx::query(&sql).bind(id).fetch_one(&self.pool).await?;
        delivery_from_row(&row).map(Some)
    }

    /// Forgets deliveries made or given up before `before_ms`, and events left with none;
    /// pending ones stay whatever their age. Returns how many deliveries went.
    pub async fn prune_outbox(&self, before_ms: i64) -> Result<u64> {
        let mut tx = self.pool.begin().await?;
        let pruned = sqlx::query(
            "DELETE FROM outbox_deliveries WHERE status <> 'pending' AND created_at < $1",
        )
        .bind(before_ms)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        sqlx::query(
            "DELETE FROM outbox_events WHERE created_at < $1 AND NOT EXISTS \
             (SELECT 1 FROM outbox_deliveries d WHERE d.event_id = outbox_events.id)",
        )
        .bind(before_ms)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(pruned)
    }

    /// Deliveries not yet made (waiting for their first attempt or a retry), every endpoint's.
    pub async fn outbox_backlog(&self) -> Result<i64> {
        let row =
            sqlx::query("SELECT COUNT(*) AS n FROM outbox_deliveries WHERE status = 'pending'")
                .fetch_one(&self.pool)
                .await?;
        col_i64(&row, "n")
    }

    /// Wakes the delivery worker: something was just enqueued.
    pub fn outbox_ready(&self) -> &tokio::sync::Notify {
        &self.outbox_ready
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_receive_what_their_kind_and_filter_say() {
        let all: Vec<EventType> = vec![];
        let closed_only = vec![EventType::ConversationClosed];
        let webhook = EndpointKind::Webhook;
        let agents = Some(Handler::Agents);
        assert!(receives(
            webhook,
            &all,
            EventType::MessageCreated,
            agents,
            true
        ));
        assert!(receives(
            webhook,
            &all,
            EventType::VisitorSessionEnded,
            None,
            false
        ));
        assert!(!receives(
            webhook,
            &all,
            EventType::HandedOver,
            agents,
            false
        ));
        assert!(!receives(
            webhook,
            &closed_only,
            EventType::MessageCreated,
            agents,
            true
        ));
        assert!(receives(
            webhook,
            &closed_only,
            EventType::ConversationClosed,
            agents,
            false
        ));

        let bot = EndpointKind::Bot;
        assert!(receives(
            bot,
            &all,
            EventType::MessageCreated,
            Some(Handler::Bot),
            true
        ));
        assert!(!receives(
            bot,
            &all,
            EventType::MessageCreated,
            Some(Handler::Bot),
            false
        ));
        assert!(!receives(
            bot,
            &all,
            EventType::MessageCreated,
            agents,
            true
        ));
        assert!(!receives(
            bot,
            &all,
            EventType::ConversationCreated,
            Some(Handler::Bot),
            false
        ));

        let desk = EndpointKind::Desk;
        let at_desk = Some(Handler::Desk);
        assert!(receives(
            desk,
            &all,
            EventType::MessageCreated,
            at_desk,
            true
        ));
        assert!(!receives(
            desk,
            &all,
            EventType::MessageCreated,
            at_desk,
            false
        ));
        assert!(receives(desk, &all, EventType::HandedOver, at_desk, false));
        assert!(receives(
            desk,
            &all,
            EventType::ConversationClosed,
            at_desk,
            false
        ));
        assert!(!receives(
            desk,
            &all,
            EventType::MessageCreated,
            Some(Handler::Bot),
            true
        ));
    }
}
