//! `cargo xtask demo | test | bench` — the project's commands.
//!
//! - `demo`: installs what is missing, builds the widget and console, starts the gateway with the
//!   demo channel on 127.0.0.1:8080 and the demo site on 127.0.0.1:8081, and prints what to open.
//! - `test`: installs what the tests need (Chromium too), builds, lints the WASM crates and runs
//!   every test in the workspace.
//! - `bench`: the sizes, then idle sockets on a gateway process and on a bare echo server (the
//!   baseline of the same run) from a load generator in its own processes, then messages with
//!   and without webhooks; release builds, figures with their ratio to the baseline.
//! - `size`: builds the widget and prints what a visitor downloads against its budget (failing
//!   when over), and the panel's WASM by contributor (twiggy). `bench` and `test` run it too.
//! - `layers`: fails when a module imports one that imports it back (also part of `test`).
//! - `tools`: installs the pinned tools and the browser only (`test` and `demo` do it too).
//!
//! Tools are pinned and installed from crates.io and npm only; nothing downloads a prebuilt
//! binary. See `tools.rs`.

mod bench;
mod demo;
mod dist;
mod exports;
mod layers;
mod paths;
mod run;
mod size;
mod test;
mod tools;

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("demo") => demo::main(&args[1..]),
        Some("test") => test::main(&args[1..]),
        Some("bench") => bench::main(&args[1..]),
        Some("layers") => layers::main(&args[1..]),
        Some("size") => size::main(&args[1..]),
        Some("tools") => tools::ensure_wasm_tools().and_then(|_| tools::ensure_browser()),
        _ => {
            eprintln!("usage: cargo xtask demo [--gateway ADDR] [--site ADDR]\n       cargo xtask test [-- CARGO TEST ARGS]\n       cargo xtask bench [SOCKETS...]\n       cargo xtask size\n       cargo xtask layers\n       cargo xtask tools");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}
