//! `cargo xtask test [-- ARGS]`: tools, the browser builds, clippy on the WASM crates for their
//! real target, then `cargo test --workspace` with the builds' location for the browser tests.

use std::process::Command;

use crate::run::{run, Result};
use crate::{dist, paths, tools};

pub fn main(args: &[String]) -> Result {
    let extra: Vec<&String> = args.iter().skip_while(|a| *a == "--").collect();
    let path = tools::ensure_wasm_tools()?;
    tools::ensure_browser()?;
    dist::build_all(&path)?;
    dist::report();
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
    run(Command::new("cargo")
        .args(["test", "--workspace"])
        .args(extra)
        .current_dir(paths::root())
        .env("PATH", &path)
        .env("LIVECHAT_DIST", paths::dist_dir()))
}
