//! `cargo xtask bench`: the gateway under load, release build, on this machine only (127.0.0.1).
//! First the widget's sizes against their budgets (`cargo xtask size`). Prints throughput and latency without and with webhooks, with their ratio (see
//! `tests/src/bin/load.rs`).

use std::process::Command;

use crate::paths;
use crate::run::{run, Result};

pub fn main(args: &[String]) -> Result {
    crate::size::main(args)?;
    run(Command::new("cargo")
        .args(["run", "--release", "-p", "tests", "--bin", "load"])
        .current_dir(paths::root()))
}
