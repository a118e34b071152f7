//! The bench's bare baseline: a WebSocket echo server on axum and the same tokio as the
//! gateway, with the same socket buffers, and nothing else (no store, no hub). `echo ADDR`;
//! prints nothing, serves until killed. Its figures under the same load are what the gateway's
//! are divided by.

use axum::extract::ws::{Message, WebSocketUpgrade};
use axum::routing::get;
use axum::serve::ListenerExt;
use axum::Router;
use futures_util::{SinkExt, StreamExt};

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:0".into());
    // The gateway's allocator is linked in with the gateway's crate; set up the same way, so
    // the baseline differs from the gateway by the gateway's work alone.
    gateway::memory::give_back_freed_pages();
    let app = Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route(
            "/ws",
            get(|upgrade: WebSocketUpgrade| async move {
                gateway::socket::configure(upgrade).on_upgrade(|socket| async move {
                    let (mut out, mut incoming) = socket.split();
                    while let Some(Ok(message)) = incoming.next().await {
                        if let Message::Text(_) = message {
                            if out.send(message).await.is_err() {
                                break;
                            }
                        }
                    }
                })
            }),
        );
    // As the gateway serves: without Nagle.
    let listener = tokio::net::TcpListener::bind(addr).await?.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    axum::serve(listener, app).await
}
