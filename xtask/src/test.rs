//! `cargo xtask test [-- ARGS]`: the module layering check, tools, the browser builds, clippy on
//! the WASM crates for their real target and their unit tests in headless Chromium, then
//! `cargo test --workspace` with the builds' location for the browser tests.

use std::process::Command;

use crate::run::{run, Result};
use crate::{dist, layers, paths, size, tools};

pub fn main(args: &[String]) -> Result {
    let extra: Vec<&String> = args.iter().skip_while(|a| *a == "--").collect();
    layers::main(&[])?;
    let path = tools::ensure_wasm_tools()?;
    tools::ensure_browser()?;
    let s3_server = tools::ensure_s3_server()?;
    let smtp_server = tools::ensure_smtp_server()?;
    let axe = tools::ensure_axe()?;
    dist::build_all(&path)?;
    size::check(&size::report())?;
    run(Command::new("cargo")
        .args([
            "clippy",
            "-p",
            "widget",
            "-p",
            "console",
            "-p",
            "browser-socket",
            "--target",
            "wasm32-unknown-unknown",
            "--",
            "-D",
            "warnings",
        ])
        .current_dir(paths::root())
        .env("CARGO_TARGET_DIR", paths::wasm_target_dir()))?;
    // The browser crates' unit tests, compiled for wasm32 and run in headless Chromium by
    // wasm-bindgen's test runner (which finds chromedriver on PATH); the socket crate's tray
    // among them (its plain functions' tests run natively below).
    run(Command::new("cargo")
        .args([
            "test",
            "-p",
            "widget",
            "-p",
            "console",
            "-p",
            "browser-socket",
            "--target",
            "wasm32-unknown-unknown",
        ])
        .current_dir(paths::root())
        .env("PATH", &path)
        .env("CARGO_TARGET_DIR", paths::wasm_target_dir())
        .env(
            "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER",
            "wasm-bindgen-test-runner",
        ))?;
    run(Command::new("cargo")
        // The apps' tests ran above, in the browser; natively they would be empty. (The socket
        // crate's are plain functions and run here.)
        .args(["test", "--workspace"])
        .args(["--exclude", "widget", "--exclude", "console"])
        .args(extra)
        .current_dir(paths::root())
        .env("PATH", &path)
        .env("LIVECHAT_DIST", paths::dist_dir())
        .env("LIVECHAT_TEST_S3_SERVER", s3_server)
        .env("LIVECHAT_TEST_SMTP_PYTHON", smtp_server)
        .env("LIVECHAT_TEST_AXE", axe))
}
