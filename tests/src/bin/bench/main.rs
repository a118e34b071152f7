//! `cargo xtask bench` runs this: a load generator in its own processes, speaking only the
//! public protocol to a gateway *process* (the release binary) and, under the same load, to a
//! bare WebSocket echo server (`echo`), the baseline every figure is also given as a ratio to.
//! 127.0.0.1 only; every loop is bounded. Two scenarios, each printed as tables and written
//! as JSON under `target/bench/`: idle sockets ([`idle`]) and open-loop messages
//! ([`messages`]), the latter also on PostgreSQL and on two gateways sharing PostgreSQL and
//! Redis when `LIVECHAT_TEST_POSTGRES` and `LIVECHAT_TEST_REDIS` name those servers; the cap on
//! sockets and the shutdown ([`shutdown`], with the idle scenario); then uploads ([`files`]).
//!
//! `bench GATEWAY_BINARY ECHO_BINARY [SOCKETS...] [--rates R,R...] [--no-idle] [--only-idle]
//! [--only-files]`
//! (default 10,000 sockets; 1,000, 2,000, 5,000 and 10,000 msg/s);
//! `bench worker gateway|echo BASE_URL COUNT` is a worker (spawned by the bench itself).

mod files;
mod idle;
mod messages;
mod server;
mod shutdown;

use serde_json::{json, Value};
use server::Server;
use tests::postgres::ScratchDatabase;

/// Sockets of the capped gateway that is then stopped.
const SHUTDOWN_SOCKETS: usize = 2_000;

fn main() {
    raise_file_limit();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    if args.first().map(String::as_str) == Some("worker") {
        let count = args[3].parse().expect("a socket count");
        return runtime.block_on(idle::worker(&args[1], &args[2], count));
    }
    let gateway = args.first().expect("the gateway binary");
    let echo = args.get(1).expect("the echo binary");
    let mut counts = Vec::new();
    let mut rates = vec![1_000, 2_000, 5_000, 10_000];
    let mut with_idle = true;
    let mut with_messages = true;
    let mut with_files = true;
    let mut rest = args.iter().skip(2);
    while let Some(arg) = rest.next() {
        match arg.as_str() {
            "--no-idle" => with_idle = false,
            "--only-idle" => (with_messages, with_files) = (false, false),
            "--only-files" => (with_idle, with_messages) = (false, false),
            "--rates" => {
                let list = rest.next().expect("--rates R,R...");
                rates = list
                    .split(',')
                    .map(|r| r.parse().expect("a rate"))
                    .collect();
            }
            count => counts.push(count.parse().expect("a socket count")),
        }
    }
    if counts.is_empty() {
        counts.push(10_000);
    }
    let mut table = Vec::new();
    if with_idle {
        let mut results = Vec::new();
        for count in counts {
            let baseline =
                runtime.block_on(async { idle::idle(Server::echo(echo).await, count).await });
            let measured = runtime
                .block_on(async { idle::idle(Server::gateway(gateway, &[]).await, count).await });
            idle::print_idle(count, &measured, &baseline);
            table.extend(idle::table_rows(count, &measured, &baseline));
            results.push(json!({"sockets": count, "gateway": measured, "baseline": baseline}));
        }
        write("idle.json", &Value::Array(results));
        let stopping = runtime.block_on(shutdown::limits_and_shutdown(gateway, SHUTDOWN_SOCKETS));
        shutdown::print(&stopping);
        table.extend(shutdown::table_rows(&stopping));
        write("shutdown.json", &stopping);
    }
    if with_messages {
        let figures = runtime.block_on(open_loop(gateway, echo, &rates));
        table.extend(messages::table_rows(&figures));
        write("messages.json", &figures);
    }
    if with_files {
        let uploads =
            runtime.block_on(async { files::uploads(&Server::gateway(gateway, &[]).await).await });
        table.extend(files::table_rows(&uploads));
        write("uploads.json", &uploads);
    }
    let markdown = format!(
        "| figure | measured | target | ratio to baseline |\n| --- | --- | --- | --- |\n{}\n",
        table.join("\n")
    );
    print!("\nfor the README's Performance table:\n{markdown}");
    write_text("performance.md", &markdown);
}

/// The open-loop scenario on the bare server, then on every gateway set-up this machine has.
async fn open_loop(gateway: &str, echo: &str, rates: &[u32]) -> Value {
    let baseline = {
        let server = Server::echo(echo).await;
        messages::offered_rates(&server, None, rates).await
    };
    messages::print("bare echo server (the baseline)", &baseline, &baseline);
    let mut results = vec![json!({"setup": "bare echo", "runs": baseline})];
    let mut measure = |label: &str, runs: Value| {
        messages::print(label, &runs, &baseline);
        results.push(json!({"setup": label, "runs": runs}));
    };
    {
        let server = Server::gateway(gateway, &[]).await;
        let runs = messages::offered_rates(&server, Some(server.base()), rates).await;
        measure("gateway, SQLite", runs);
    }
    if let Some(database) = ScratchDatabase::create().await {
        {
            let env = [("LIVECHAT_DATABASE_URL", database.url.as_str())];
            let server = Server::gateway(gateway, &env).await;
            let runs = messages::offered_rates(&server, Some(server.base()), rates).await;
            measure("gateway, PostgreSQL", runs);
        }
        match std::env::var("LIVECHAT_TEST_REDIS") {
            Ok(redis) => {
                let env = [
                    ("LIVECHAT_DATABASE_URL", database.url.as_str()),
                    ("LIVECHAT_REDIS_URL", redis.as_str()),
                ];
                let visitors_on = Server::gateway(gateway, &env).await;
                let agent_on = Server::gateway(gateway, &env).await;
                let runs =
                    messages::offered_rates(&visitors_on, Some(agent_on.base()), rates).await;
                measure(
                    "two gateways, PostgreSQL + Redis (visitors on one, the agent on the other)",
                    runs,
                );
            }
            Err(_) => eprintln!("LIVECHAT_TEST_REDIS is not set: no two-gateway run"),
        }
        database.drop().await;
    }
    Value::Array(results)
}

/// Writes `figures` to `target/bench/NAME`.
fn write(name: &str, figures: &Value) {
    write_text(name, &serde_json::to_string_pretty(figures).expect("JSON"));
}

fn write_text(name: &str, text: &str) {
    let path = tests::bench_dir().join(name);
    std::fs::write(&path, text).expect("a bench file");
    println!("written to {}", path.display());
}

/// Lets this process (and the servers and workers it starts) hold as many sockets as the
/// machine allows.
fn raise_file_limit() {
    if let Ok((_, hard)) = rlimit::Resource::NOFILE.get() {
        let _ = rlimit::Resource::NOFILE.set(hard, hard);
    }
}
