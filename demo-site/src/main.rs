//! `demo-site [--listen 127.0.0.1:8081] [--gateway http://127.0.0.1:8080]`

use std::net::SocketAddr;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let mut listen: SocketAddr = ([127, 0, 0, 1], 8081).into();
    let mut gateway = demo_site::SNIPPET_GATEWAY.to_owned();
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        match (flag.as_str(), args.next()) {
            ("--listen", Some(addr)) => listen = addr.parse().map_err(std::io::Error::other)?,
            ("--gateway", Some(origin)) => gateway = origin,
            _ => {
                return Err(std::io::Error::other(
                    "usage: demo-site [--listen ADDR] [--gateway ORIGIN]",
                ))
            }
        }
    }
    let listener = tokio::net::TcpListener::bind(listen).await?;
    println!("demo site on http://{}", listener.local_addr()?);
    demo_site::serve(listener, &gateway).await
}
