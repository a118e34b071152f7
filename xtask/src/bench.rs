//! `cargo xtask bench`: every budget measured on this machine (127.0.0.1 only), release builds.
//!
//! 1. The widget's sizes against their budgets (`cargo xtask size`).
//! 2. Idle visitor sockets on a gateway *process*, opened by a load generator in processes of
//!    its own, beside the bare WebSocket echo server under the same load (the baseline of the
//!    same run): memory per socket, connect rate, first messages all at once
//!    (`tests/src/bin/bench/idle.rs`; `target/bench/idle.json`). Pass socket counts to change
//!    N: `cargo xtask bench 10000 25000`.
//! 3. Open-loop messages at fixed offered rates (1k, 2k, 5k, 10k msg/s; `--rates R,R...`),
//!    ack and visitor-to-agent latency with coordinated omission accounted for, on the bare
//!    server, the gateway on SQLite, on PostgreSQL and as two gateways sharing PostgreSQL and
//!    Redis when `LIVECHAT_TEST_POSTGRES`/`LIVECHAT_TEST_REDIS` name those servers
//!    (`tests/src/bin/bench/messages.rs`; `target/bench/messages.json`).
//! 4. The panel in headless Chromium, 20 cold loads of the demo site: the host page's cost
//!    before any click and click → usable panel (`tests/src/bin/panel.rs`;
//!    `target/bench/panel.json`).
//! 5. Messages through the gateway without and with webhooks (`tests/src/bin/load.rs`).
//! 6. The reports page's queries on a year of 100,000 closed conversations, beside a plain
//!    count of them, on SQLite and on PostgreSQL when `LIVECHAT_TEST_POSTGRES` is set
//!    (`tests/src/bin/reports.rs`).
//! 7. Retention purging 100,000 old conversations while a visitor writes: the longest wait for
//!    an acknowledgement, beside the same writer's with no purge (`tests/src/bin/retention.rs`).
//!
//! Figures are printed, never judged: times vary with the machine. Only sizes fail the run.

use std::process::Command;

use crate::paths;
use crate::run::{run, Result};

pub fn main(args: &[String]) -> Result {
    crate::size::main(&[])?;
    run(Command::new("cargo")
        .args(["build", "--release", "-p", "gateway", "--bin", "gateway"])
        .current_dir(paths::root()))?;
    run(Command::new("cargo")
        .args([
            "build",
            "--release",
            "-p",
            "tests",
            "--bin",
            "bench",
            "--bin",
            "echo",
        ])
        .current_dir(paths::root()))?;
    let release = paths::target_dir().join("release");
    run(Command::new(release.join("bench"))
        .arg(release.join("gateway"))
        .arg(release.join("echo"))
        .args(args)
        .current_dir(paths::root()))?;
    crate::tools::ensure_browser()?;
    run(Command::new("cargo")
        .args(["run", "--release", "-p", "tests", "--bin", "panel"])
        .env("LIVECHAT_DIST", paths::dist_dir())
        .current_dir(paths::root()))?;
    run(Command::new("cargo")
        .args(["run", "--release", "-p", "tests", "--bin", "load"])
        .current_dir(paths::root()))?;
    run(Command::new("cargo")
        .args(["run", "--release", "-p", "tests", "--bin", "reports"])
        .current_dir(paths::root()))?;
    run(Command::new("cargo")
        .args(["run", "--release", "-p", "tests", "--bin", "retention"])
        .current_dir(paths::root()))
}
